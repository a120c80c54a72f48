package resume

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrBusy means another process holds the lock of a source's upload.
var ErrBusy = errors.New("another ogive is uploading this source")

// BusyError says who holds the lock of an upload.
type BusyError struct {
	PID  int    // 0 if the lock file did not say
	Path string // the source's path, or the name given to LockID
}

func (e *BusyError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("another ogive (pid %d) is uploading %s", e.PID, e.Path)
	}
	return "another ogive is uploading " + e.Path
}

func (e *BusyError) Unwrap() error { return ErrBusy }

// Lock is the exclusive right to work on the upload of one source (to read its record,
// send its parts, save, complete or abort it), or on the upload of one storage ID.
type Lock struct {
	s    *Store
	name string
	f    *os.File
}

// Lock takes the lock of path's upload to bucket/prefix, or fails at once with a
// *BusyError. The lock is flock(2) (Windows: LockFileEx) on a file beside the record
// that holds the holder's pid; the kernel drops it when its holder exits, however it
// exits.
func (s *Store) Lock(bucket, prefix, path string) (*Lock, error) {
	return s.lock(base(bucket, prefix, path)+".lock", path)
}

// LockID takes the lock of the upload to storage ID id in bucket/prefix, or fails at once
// with a *BusyError that says name is being uploaded. A put of a stream, which has no
// source path and no record, holds it from before its multipart upload is created until
// the upload is completed or aborted; "ogive uploads --abort" takes it before aborting.
func (s *Store) LockID(bucket, prefix, id, name string) (*Lock, error) {
	return s.lock(base(bucket, prefix, id)+".id.lock", name)
}

// readPID reads the pid a lock file holds, or 0. The holder writes it just after taking
// the lock, so an empty file is read again a few times.
func readPID(f *os.File) int {
	b := make([]byte, 24)
	for range 5 {
		n, _ := f.ReadAt(b, 0)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n]))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}
