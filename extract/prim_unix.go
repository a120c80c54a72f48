//go:build unix && !linux && !darwin && !freebsd

package extract

import (
	"time"

	"golang.org/x/sys/unix"
)

// futimens sets the modification time of the open file fd to the
// microsecond (futimes), and its access time to the same.
func futimens(fd int, mtime time.Time) error {
	tv, err := timeval(mtime)
	if err != nil {
		return err
	}
	return unix.Futimes(fd, []unix.Timeval{tv, tv})
}

// renameNoReplace is not one system call here: noReplace links and removes
// instead.
func renameNoReplace(int, string, string) error { return unix.ENOSYS }

// flushDrive trusts fsync here.
func flushDrive(int) error { return nil }
