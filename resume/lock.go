package resume

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
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

// lockAttempts bounds the retries when the lock file is replaced between its opening and
// its locking, which needs another process to release the lock at that very moment.
const lockAttempts = 100

// Lock is the exclusive right to work on the upload of one source (to read its record,
// send its parts, save, complete or abort it), or on the upload of one storage ID.
type Lock struct {
	s    *Store
	name string
	f    *os.File
}

// Lock takes the lock of path's upload to bucket/prefix, or fails at once with a
// *BusyError. The lock is flock(2) on a file beside the record that holds the holder's
// pid; the kernel drops it when its holder exits, however it exits.
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

// lock takes the lock file name; what names the upload in messages.
func (s *Store) lock(name, what string) (*Lock, error) {
	for range lockAttempts {
		fd, err := unix.Openat(s.fd, name, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock the upload of %s: %w", what, err)
		}
		f := os.NewFile(uintptr(fd), s.path(name))
		var held unix.Stat_t
		if err := unix.Fstat(fd, &held); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock the upload of %s: %w", what, err)
		}
		if held.Mode&unix.S_IFMT != unix.S_IFREG || int(held.Uid) != os.Geteuid() {
			f.Close()
			return nil, fmt.Errorf("lock the upload of %s: %s is not a regular file of yours", what, s.path(name))
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			defer f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, &BusyError{PID: readPID(f), Path: what}
			}
			return nil, fmt.Errorf("lock the upload of %s: %w", what, err)
		}
		// The holder before us may have removed the file after we opened it: then we
		// hold a lock on a file nobody else will ever open, and must start again.
		var now unix.Stat_t
		err = unix.Fstatat(s.fd, name, &now, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil || now.Dev != held.Dev || now.Ino != held.Ino {
			f.Close()
			if err != nil && !errors.Is(err, unix.ENOENT) {
				return nil, fmt.Errorf("lock the upload of %s: %w", what, err)
			}
			continue
		}
		// The pid only serves the message a second put prints: failing to write it
		// costs that message, not the lock.
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		return &Lock{s: s, name: name, f: f}, nil
	}
	return nil, fmt.Errorf("lock the upload of %s: the lock file keeps changing", what)
}

// Release removes the lock file while it still holds the lock, so that nobody is left
// holding a lock on a file that is gone, then releases the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unix.Unlinkat(l.s.fd, l.name, 0)
	if errors.Is(err, unix.ENOENT) {
		err = nil
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("release the upload lock %s: %w", l.s.path(l.name), err)
	}
	return nil
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
