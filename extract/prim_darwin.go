package extract

import (
	"errors"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames tmp to base in the directory pfd in one system
// call that fails if base exists: renameatx_np with RENAME_EXCL (ENOTSUP
// on a file system that cannot, then noReplace links instead).
func renameNoReplace(pfd int, tmp, base string) error {
	return unix.RenameatxNp(pfd, tmp, pfd, base, unix.RENAME_EXCL)
}

// flushDrive asks the drive that holds the file open as fd to write its
// cache out (F_FULLFSYNC): on macOS an fsync only hands the data to the
// drive, which may lose it on power loss. It flushes everything on that
// drive, so one call makes every file fsynced before it durable. A file
// system that does not take it (some network ones) gets an fsync.
func flushDrive(fd int) error {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_FULLFSYNC, 0)
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
		return unix.Fsync(fd)
	}
	return err
}
