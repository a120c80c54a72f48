//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package input

import (
	"os"

	"golang.org/x/sys/unix"
)

// The ioctls that read and set a terminal's settings, and the value of a
// control character that is turned off (_POSIX_VDISABLE).
const (
	getTermios = unix.TIOCGETA
	setTermios = unix.TIOCSETA
	disabled   = 0xff
)

// flushRead is FREAD of <sys/fcntl.h>: TIOCFLUSH given it discards the
// input queue only, as tcflush(TCIFLUSH) does. x/sys does not export it.
const flushRead = 0x1

// dropTypeAhead discards what was typed at the terminal f and not read yet
// (tcflush(TCIFLUSH)).
func dropTypeAhead(f *os.File) error {
	return unix.IoctlSetPointerInt(int(f.Fd()), unix.TIOCFLUSH, flushRead)
}
