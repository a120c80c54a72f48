//go:build !linux

package extract

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// openPath: no handle-only opening here; directories are opened to read.
const openPath = unix.O_RDONLY

// syncEach makes each file durable as it is written, where there is no
// syncfs(2) to sync a whole batch at once.
func syncEach(f *os.File) error { return f.Sync() }

// syncData has nothing to do: syncEach synced every file.
func (x *Extractor) syncData() error { return nil }

// syncMeta syncs each directory this run made, once its mode and time are
// set.
func (x *Extractor) syncMeta(made []string) error {
	for _, rel := range made {
		fd, err := x.openDir(x.top+"/"+rel, rel, false)
		if err == nil {
			err = syncDirAt(fd)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// futimens sets the modification time of the open file fd, to the
// microsecond (futimens(2), to the nanosecond, is not everywhere); its
// access time gets the same.
func futimens(fd int, mtime time.Time) error {
	tv := unix.NsecToTimeval(mtime.UnixNano())
	return unix.Futimes(fd, []unix.Timeval{tv, tv})
}

// renameNoReplace is not one system call here: noReplace links and
// removes instead.
func renameNoReplace(int, string, string) error { return unix.ENOSYS }

// processUmask is the umask when the process started: reading it again
// would set it, racing with files other goroutines create.
func processUmask() uint32 { return startUmask }

// startWriteback does nothing here: each file is fsynced before it is
// closed.
func startWriteback(*os.File) {}
