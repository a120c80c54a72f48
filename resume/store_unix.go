//go:build unix

package resume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Open opens the state directory dir (…/ogive/uploads, see Dir), creating it and its
// parent with mode 0700 if they are missing. It refuses either of the two if it is not
// owned by the effective user or is writable by group or others (*UnsafeDirError).
func Open(dir string) (*Store, error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(filepath.Dir(parent), 0o700); err != nil {
		return nil, fmt.Errorf("upload state directory: %w", err)
	}
	pfd, err := openDir(unix.AT_FDCWD, parent)
	if err != nil {
		return nil, err
	}
	defer unix.Close(pfd)
	fd, err := openDir(pfd, dir)
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, fd: fd}, nil
}

// openDir opens path (relative to the directory at, when at is not AT_FDCWD, by its last
// element) as a directory, creating it 0700 if missing, and checks who may write to it.
func openDir(at int, path string) (int, error) {
	name := path
	if at != unix.AT_FDCWD {
		name = filepath.Base(path)
	}
	if err := unix.Mkdirat(at, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("create upload state directory %s: %w", path, err)
	}
	fd, err := unix.Openat(at, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open upload state directory %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("upload state directory %s: %w", path, err)
	}
	you := os.Geteuid()
	if int(st.Uid) != you || st.Mode&0o022 != 0 {
		unix.Close(fd)
		return -1, &UnsafeDirError{Dir: path, Owner: int(st.Uid), You: you, Mode: fs.FileMode(st.Mode & 0o7777)}
	}
	return fd, nil
}

// Close releases the directory.
func (s *Store) Close() error {
	if s == nil || s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
	s.fd = -1
	return err
}

// openRecord opens a record without following a symbolic link, only if it is a regular
// file of the user's of at most maxRecordSize bytes.
func (s *Store) openRecord(name string) (*os.File, error) {
	fd, err := unix.Openat(s.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, ErrNoState
	case errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK): // O_NOFOLLOW on a link; EMLINK on FreeBSD
		return nil, &untrustedError{path: s.path(name), why: "is a symbolic link"}
	case err != nil:
		return nil, fmt.Errorf("read upload record %s: %w", s.path(name), err)
	}
	f := os.NewFile(uintptr(fd), s.path(name))
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("read upload record %s: %w", s.path(name), err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() || st.Size > maxRecordSize {
		f.Close()
		return nil, &untrustedError{path: s.path(name), why: fmt.Sprintf("is not a regular file of yours of at most %d bytes", maxRecordSize)}
	}
	return f, nil
}

// replace writes b to the new file tmp, flushes it to the disk and renames it to name.
func (s *Store) replace(tmp, name string, b []byte) error {
	fd, err := unix.Openat(s.fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), s.path(tmp))
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(s.fd, tmp, s.fd, name)
	}
	if err != nil {
		unix.Unlinkat(s.fd, tmp, 0)
	}
	return err
}

// remove removes the file name, if it exists.
func (s *Store) remove(name string) error {
	if err := unix.Unlinkat(s.fd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

// names lists the directory.
func (s *Store) names() ([]string, error) {
	fd, err := unix.Openat(s.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	d := os.NewFile(uintptr(fd), s.dir)
	defer d.Close()
	return d.Readdirnames(-1)
}
