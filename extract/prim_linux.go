package extract

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futimens sets the modification time of the open file fd (utimensat with
// no path), to the nanosecond, and leaves its access time alone.
func futimens(fd int, mtime time.Time) error {
	ts, err := unix.TimeToTimespec(mtime)
	if err != nil {
		return err
	}
	times := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, ts}
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&times[0])), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// renameNoReplace renames tmp to base in the directory pfd in one system
// call that fails if base exists (EINVAL where the file system cannot).
func renameNoReplace(pfd int, tmp, base string) error {
	return unix.Renameat2(pfd, tmp, pfd, base, unix.RENAME_NOREPLACE)
}
