package resume

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// UnsafeDirError refuses a state directory that someone else could write into: whoever
// can write there can plant records, remove locks or swap files.
type UnsafeDirError struct {
	Dir   string
	Owner int // uid that owns it
	You   int // effective uid of this process
	Mode  fs.FileMode
}

func (e *UnsafeDirError) Error() string {
	if e.Owner != e.You {
		return fmt.Sprintf("refusing the upload state directory %s: it belongs to uid %d, not to you (uid %d)", e.Dir, e.Owner, e.You)
	}
	return fmt.Sprintf("refusing the upload state directory %s: its mode %04o lets group or others write to it", e.Dir, e.Mode.Perm())
}

// Store reads and writes upload records in one directory, which it holds open: every file
// is reached relative to the directory that was checked, never again through its path.
type Store struct {
	dir string
	fd  int
}

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

// Dir returns the directory's path.
func (s *Store) Dir() string { return s.dir }

// base is the name, without extension, of the files of a source's upload to a bucket:
// one upload per source path and destination at a time.
func base(bucket, prefix, path string) string {
	h := sha256.Sum256([]byte(bucket + "\x00" + prefix + "\x00" + path))
	return hex.EncodeToString(h[:12])
}

// Load returns the interrupted upload of path to bucket/prefix: ErrNoState if none is
// recorded, an error wrapping ErrUntrusted if its record must not be used.
func (s *Store) Load(bucket, prefix, path string, key Authenticator) (*Upload, error) {
	u, err := s.read(base(bucket, prefix, path)+".json", key)
	if err != nil {
		return nil, err
	}
	if u.Bucket != bucket || u.Prefix != prefix || u.Source.Path != path {
		return nil, &untrustedError{path: s.path(base(bucket, prefix, path) + ".json"), why: "is of another upload"}
	}
	return u, nil
}

// read opens a record without following a symbolic link, and reads it only if it is a
// regular file of the user's of at most maxRecordSize bytes.
func (s *Store) read(name string, key Authenticator) (*Upload, error) {
	fd, err := unix.Openat(s.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, ErrNoState
	case errors.Is(err, unix.ELOOP):
		return nil, &untrustedError{path: s.path(name), why: "is a symbolic link"}
	case err != nil:
		return nil, fmt.Errorf("read upload record %s: %w", s.path(name), err)
	}
	f := os.NewFile(uintptr(fd), s.path(name))
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("read upload record %s: %w", s.path(name), err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() || st.Size > maxRecordSize {
		return nil, &untrustedError{path: s.path(name), why: fmt.Sprintf("is not a regular file of yours of at most %d bytes", maxRecordSize)}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("read upload record %s: %w", s.path(name), err)
	}
	if len(b) > maxRecordSize {
		return nil, &untrustedError{path: s.path(name), why: fmt.Sprintf("is larger than %d bytes", maxRecordSize)}
	}
	u, err := decode(b, key)
	var why *untrustedError
	if errors.As(err, &why) {
		why.path = s.path(name)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Save records u, MACed with key: written to a new private file, flushed to the disk,
// then renamed over the old record, so a crash leaves the old record or the new one.
func (s *Store) Save(u *Upload, key Authenticator) error {
	b, err := encode(u, key)
	if err != nil {
		return err
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return fmt.Errorf("save upload record: %w", err)
	}
	tmp := ".tmp-" + hex.EncodeToString(r[:])
	fd, err := unix.Openat(s.fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("save upload record: %w", err)
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
		err = unix.Renameat(s.fd, tmp, s.fd, base(u.Bucket, u.Prefix, u.Source.Path)+".json")
	}
	if err != nil {
		unix.Unlinkat(s.fd, tmp, 0)
		return fmt.Errorf("save upload record: %w", err)
	}
	return nil
}

// Remove forgets the upload of path, if any.
func (s *Store) Remove(bucket, prefix, path string) error {
	name := base(bucket, prefix, path) + ".json"
	if err := unix.Unlinkat(s.fd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove upload record %s: %w", s.path(name), err)
	}
	return nil
}

// All returns every recorded upload to bucket/prefix whose record authenticates with key;
// the others are skipped (the bucket listing still shows their uploads).
func (s *Store) All(bucket, prefix string, key Authenticator) ([]*Upload, error) {
	fd, err := unix.Openat(s.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("list upload records: %w", err)
	}
	d := os.NewFile(uintptr(fd), s.dir)
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list upload records: %w", err)
	}
	var out []*Upload
	for _, name := range names {
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		u, err := s.read(name, key)
		if errors.Is(err, ErrUntrusted) || errors.Is(err, ErrNoState) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if u.Bucket == bucket && u.Prefix == prefix && name == base(u.Bucket, u.Prefix, u.Source.Path)+".json" {
			out = append(out, u)
		}
	}
	return out, nil
}

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }
