//go:build unix && (!linux || ogive_portable)

package extract

import (
	"os"

	"golang.org/x/sys/unix"
)

// The portable Unix extraction (macOS, FreeBSD; Linux with the
// ogive_portable tag, to test it): the same descriptor walk as on Linux,
// with what every Unix has. Directories are opened O_RDONLY (no O_PATH), so
// a directory of the user's that they cannot read is not entered. There is
// no syncfs(2): each file is fsynced as it is written, and on macOS, where
// fsync leaves the data in the drive's cache, one F_FULLFSYNC per batch
// then flushes the drive (see flushDrive).

// openPath: no handle-only opening here; directories are opened to read.
const openPath = unix.O_RDONLY

// syncEach makes each file's data reach the disk as it is written, where
// there is no syncfs(2) to sync a whole batch at once. It is a plain
// fsync(2), not os.File.Sync (F_FULLFSYNC on macOS, a flush of the whole
// drive per file): syncData flushes the drive once for the batch.
func syncEach(f *os.File) error {
	if err := control(f, unix.Fsync); err != nil {
		return &os.PathError{Op: "fsync", Path: f.Name(), Err: err}
	}
	return nil
}

// syncData makes the batch's files durable: each was fsynced by syncEach,
// and what the drive holds in its cache is flushed.
func (x *Extractor) syncData() error { return x.flushDrives() }

// syncMeta flushes the drives once the directories this run made have
// their modes and times: setDirMeta synced each one (syncMadeDir) through
// the descriptor it set them with, which a mode such as 0300 would keep
// from being opened again to read.
func (x *Extractor) syncMeta([]string) error { return x.flushDrives() }

// syncMadeDir fsyncs a directory just given its mode and time.
func syncMadeDir(fd int) error { return unix.Fsync(fd) }

// flushDrives flushes the cache of the drive of the destination, and of
// each file system mounted in it, so that what was fsynced there is
// durable (flushDrive: nothing where fsync is enough).
func (x *Extractor) flushDrives() error {
	if err := flushDrive(x.rootFD); err != nil {
		return err
	}
	for _, rel := range x.devs {
		fd, err := x.openDir(x.top+"/"+rel, rel, false)
		if err == nil {
			err = flushDrive(fd)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// processUmask is the umask when the process started: reading it again
// would set it, racing with files other goroutines create.
func processUmask() uint32 { return startUmask }

// startWriteback does nothing here: each file is fsynced before it is
// closed.
func startWriteback(*os.File) {}
