package resume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// Open opens the state directory dir (…/ogive/uploads, see Dir), creating it and its
// parent if they are missing.
//
// Windows has no openat: records and locks are reached by name, and someone able to
// write to the directory could swap a name between two looks at it. Nor are owner and
// permission bits checked: Windows access control lists do not map to them. The
// directory must therefore not be writable by other users, which is the case of the
// default, under %LocalAppData% in the user's profile.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("upload state directory: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("upload state directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("upload state directory %s: not a directory", dir)
	}
	return &Store{dir: dir, fd: -1}, nil
}

// Close does nothing: nothing is held open.
func (s *Store) Close() error { return nil }

// openRecord opens a record only if it is a regular file of at most maxRecordSize
// bytes: a symbolic link is opened as itself (FILE_FLAG_OPEN_REPARSE_POINT), never
// followed, and refused.
func (s *Store) openRecord(name string) (*os.File, error) {
	p := s.path(name)
	f, err := os.OpenFile(p, os.O_RDONLY|windows.O_FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoState
	}
	if err != nil {
		return nil, fmt.Errorf("read upload record %s: %w", p, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read upload record %s: %w", p, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		f.Close()
		return nil, &untrustedError{path: p, why: "is a symbolic link"}
	}
	if !st.Mode().IsRegular() || st.Size() > maxRecordSize {
		f.Close()
		return nil, &untrustedError{path: p, why: fmt.Sprintf("is not a regular file of at most %d bytes", maxRecordSize)}
	}
	return f, nil
}

// replace writes b to the new file tmp, flushes it to the disk and renames it to name
// (MoveFileEx with MOVEFILE_REPLACE_EXISTING).
func (s *Store) replace(tmp, name string, b []byte) error {
	f, err := os.OpenFile(s.path(tmp), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.path(tmp), s.path(name))
	}
	if err != nil {
		os.Remove(s.path(tmp))
	}
	return err
}

// remove removes the file name, if it exists.
func (s *Store) remove(name string) error {
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// names lists the directory.
func (s *Store) names() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}
