//go:build unix

package resume

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// lockAttempts bounds the retries when the lock file is replaced between its opening and
// its locking, which needs another process to release the lock at that very moment.
const lockAttempts = 100

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
