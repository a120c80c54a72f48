package extract

import (
	"bytes"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// syncEach syncs one file as it is written: nothing on Linux, where
// syncData syncs the whole batch at once.
func syncEach(*os.File) error { return nil }

// syncData makes every file of the batch durable with one syncfs(2) of the
// destination's file system (and of any mounted in it), rather than one
// fsync(2) per file. Since Linux 5.8 it reports a write-back error of any
// file of that file system.
func (x *Extractor) syncData() error {
	if err := control(x.rootDir, syncfs); err != nil {
		return err
	}
	for _, rel := range x.devs {
		d, err := x.root.Open(rel)
		if err != nil {
			return err
		}
		err = control(d, syncfs)
		d.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func syncfs(fd int) error { return unix.Syncfs(fd) }

// syncMeta makes the directories' modes and times durable.
func (x *Extractor) syncMeta([]string) error { return x.syncData() }

// setFileTime sets the modification time of the open file f, through its
// descriptor (utimensat with no path: futimens), to the nanosecond, and
// leaves its access time alone.
func (x *Extractor) setFileTime(f *os.File, _ string, mtime time.Time) error {
	ts, err := unix.TimeToTimespec(mtime)
	if err != nil {
		return err
	}
	times := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, ts}
	return control(f, func(fd int) error {
		_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&times[0])), 0, 0, 0)
		if errno != 0 {
			return errno
		}
		return nil
	})
}

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
