//go:build linux && !ogive_portable

package archive

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// linkOpen gives the file f holds open the new name path, and fails, with an
// error matching fs.ErrExist, if something is there. It links the inode f
// holds, through /proc/self/fd, never the name f was opened under: someone
// who can write the directory can swap that name at any instant, between
// any check and the link. A process may always follow its own /proc/self/fd
// links, also when it is not dumpable (harden.Process) and not root.
func linkOpen(f *os.File, path string) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := raw.Control(func(fd uintptr) {
		lerr = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(fd)), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	}); err != nil {
		return err
	}
	if errors.Is(lerr, unix.ENOENT) {
		if _, err := os.Stat("/proc/self/fd"); err != nil {
			return fmt.Errorf("link %s: /proc is not mounted: %w", path, lerr)
		}
	}
	if lerr != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: path, Err: lerr}
	}
	return nil
}

// mtimeResolution is how finely setMTime sets a time.
const mtimeResolution = time.Nanosecond

// setMTime sets the modification time of the file f holds open, through its descriptor
// (utimensat with no path, that is futimens), to the nanosecond, and leaves its access
// time alone.
func setMTime(f *os.File, mtime time.Time) error {
	ts, err := unix.TimeToTimespec(mtime)
	if err != nil {
		return err
	}
	times := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, ts}
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall6(unix.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&times[0])), 0, 0, 0)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
