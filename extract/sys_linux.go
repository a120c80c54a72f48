//go:build linux && !ogive_portable

package extract

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openPath opens the directories walked through as mere handles: no read
// permission is needed to reach what they hold.
const openPath = unix.O_PATH

// syncEach syncs one file as it is written: nothing on Linux, where
// syncData syncs the whole batch at once.
func syncEach(*os.File) error { return nil }

// syncData makes every file of the batch durable with one syncfs(2) of the
// destination's file system (and of any mounted in it), rather than one
// fsync(2) per file. Since Linux 5.8 it reports a write-back error of any
// file of that file system.
func (x *Extractor) syncData() error {
	if err := unix.Syncfs(x.rootFD); err != nil {
		return err
	}
	for _, rel := range x.devs {
		fd, err := x.openDir(x.top+"/"+rel, rel, false)
		if err != nil {
			return err
		}
		sfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		err = unix.Syncfs(sfd)
		unix.Close(sfd)
		if err != nil {
			return err
		}
	}
	return nil
}

// syncMeta makes the directories' modes and times durable.
func (x *Extractor) syncMeta([]string) error { return x.syncData() }

// syncMadeDir has nothing to do: syncMeta's syncfs covers every directory.
func syncMadeDir(int) error { return nil }

// flushDrives has nothing to do on Linux: an fsync (and a syncfs) reaches
// the disk itself.
func (x *Extractor) flushDrives() error { return nil }

// processUmask is the process's umask, read from /proc/self/status (Linux
// 4.7 and later) without changing it; startUmask where it cannot be read.
func processUmask() uint32 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return startUmask
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
			m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			if err != nil || m > 0o777 {
				break
			}
			return uint32(m)
		}
	}
	return startUmask
}

// startWriteback asks the kernel to start writing f's data now, without
// waiting: the batch's syncfs then finds less to wait for, and the disk
// works while the stream goes on.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
