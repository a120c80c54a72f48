package resume

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
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

// Store reads and writes upload records in one directory. On Unix it holds the directory
// open: every file is reached relative to the directory that was checked, never again
// through its path. On Windows files are reached by name (see Open).
type Store struct {
	dir string
	fd  int // the directory, held open; -1 on Windows
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

// read reads a record (see openRecord) and authenticates it with key.
func (s *Store) read(name string, key Authenticator) (*Upload, error) {
	f, err := s.openRecord(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
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
	if err := s.replace(tmp, base(u.Bucket, u.Prefix, u.Source.Path)+".json", b); err != nil {
		return fmt.Errorf("save upload record: %w", err)
	}
	return nil
}

// Remove forgets the upload of path, if any.
func (s *Store) Remove(bucket, prefix, path string) error {
	name := base(bucket, prefix, path) + ".json"
	if err := s.remove(name); err != nil {
		return fmt.Errorf("remove upload record %s: %w", s.path(name), err)
	}
	return nil
}

// All returns every recorded upload to bucket/prefix whose record authenticates with key;
// the others are skipped (the bucket listing still shows their uploads).
func (s *Store) All(bucket, prefix string, key Authenticator) ([]*Upload, error) {
	names, err := s.names()
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
