package extract

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futimens sets the modification time of the open file fd, to the
// nanosecond, and leaves its access time alone (futimens(2)).
func futimens(fd int, mtime time.Time) error {
	ts, err := unix.TimeToTimespec(mtime)
	if err != nil {
		return err
	}
	times := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, ts}
	_, _, errno := unix.Syscall(unix.SYS_FUTIMENS, uintptr(fd), uintptr(unsafe.Pointer(&times[0])), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// renameNoReplace is not one system call on FreeBSD: noReplace links and
// removes instead.
func renameNoReplace(int, string, string) error { return unix.ENOSYS }

// flushDrive has nothing more to ask on FreeBSD: fsync is its one call for
// durability (there is no F_FULLFSYNC).
func flushDrive(int) error { return nil }
