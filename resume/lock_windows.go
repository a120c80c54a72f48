package resume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/windows"
)

// lockOffset is where the byte that LockFileEx locks lies, far past the pid the file
// holds: Windows locks are mandatory, and a second ogive must still read the pid.
const lockOffset = 1 << 62

// lock takes the lock file name; what names the upload in messages. The file is
// reached by name (see Open): it must be a regular file; a link is opened as itself
// (FILE_FLAG_OPEN_REPARSE_POINT) and refused.
//
// Unlike Unix, a lock file cannot be removed while another process has it open (Go
// opens files without FILE_SHARE_DELETE), so a lock is never taken on a file that
// its holder removed, and no retry is needed.
func (s *Store) lock(name, what string) (*Lock, error) {
	p := s.path(name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|windows.O_FILE_FLAG_OPEN_REPARSE_POINT, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the upload of %s: %w", what, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("lock the upload of %s: %s is not a regular file", what, p)
	}
	ol := windows.Overlapped{OffsetHigh: lockOffset >> 32}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if err != nil {
		defer f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, &BusyError{PID: readPID(f), Path: what}
		}
		return nil, fmt.Errorf("lock the upload of %s: %w", what, err)
	}
	// The pid only serves the message a second put prints: failing to write it
	// costs that message, not the lock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{s: s, name: name, f: f}, nil
}

// Release releases the lock, by closing the file, then removes the lock file unless
// another process opened it meanwhile (it then removes it in its turn).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("release the upload lock %s: %w", l.s.path(l.name), err)
	}
	if err := os.Remove(l.s.path(l.name)); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
		return fmt.Errorf("release the upload lock %s: %w", l.s.path(l.name), err)
	}
	return nil
}
