package input

import (
	"os"

	"golang.org/x/sys/unix"
)

// The ioctls that read and set a terminal's settings, and the value of a
// control character that is turned off (_POSIX_VDISABLE).
const (
	getTermios = unix.TCGETS
	setTermios = unix.TCSETS
	disabled   = 0
)

// dropTypeAhead discards what was typed at the terminal f and not read yet
// (tcflush(TCIFLUSH)).
func dropTypeAhead(f *os.File) error {
	return unix.IoctlSetInt(int(f.Fd()), unix.TCFLSH, unix.TCIFLUSH)
}
