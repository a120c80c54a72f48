// Package resume keeps what an interrupted upload needs to continue: a small
// file per upload under the user's state directory. Nothing in it is secret:
// the salt and storage ID are public parts of the object, and the source is
// identified by metadata, never by content.
package resume

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrNoState means no interrupted upload is recorded for a source.
var ErrNoState = errors.New("no interrupted upload recorded")

// formatVersion is bumped when Upload changes incompatibly; older files are
// then ignored (and their uploads listed by "ogive uploads" from the bucket).
const formatVersion = 1

// Source identifies what is being uploaded, so a resumed upload never mixes
// two different sources under one salt.
type Source struct {
	Path  string    `json:"path"`  // absolute path
	Size  int64     `json:"size"`  // bytes
	MTime time.Time `json:"mtime"` // modification time; zero for block devices
	Inode uint64    `json:"inode"`
	Dev   uint64    `json:"dev"`
	// Sample is a hash of blocks sampled across a block device, whose mtime
	// cannot be trusted; empty for regular files.
	Sample string `json:"sample,omitempty"`
}

// Upload is one interrupted upload.
type Upload struct {
	Version  int       `json:"version"`
	Bucket   string    `json:"bucket"`
	Prefix   string    `json:"prefix"`
	ID       string    `json:"id"`        // storage ID (object key without prefix)
	UploadID string    `json:"upload_id"` // S3 multipart upload ID
	PartSize int64     `json:"part_size"` // ciphertext bytes per part but the last
	Class    string    `json:"storage_class"`
	Source   Source    `json:"source"`
	Started  time.Time `json:"started"`
}

// Dir is where upload state lives: $XDG_STATE_HOME/ogive/uploads, or
// ~/.local/state/ogive/uploads.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ogive", "uploads"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("state directory: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "ogive", "uploads"), nil
}

// Store reads and writes upload state in one directory.
type Store struct{ dir string }

// Open returns the state store in dir.
func Open(dir string) *Store { return &Store{dir: dir} }

// name is the state file of a source in a bucket: one upload per source path
// and destination at a time.
func (s *Store) name(bucket, prefix, path string) string {
	h := sha256.Sum256([]byte(bucket + "\x00" + prefix + "\x00" + path))
	return filepath.Join(s.dir, hex.EncodeToString(h[:12])+".json")
}

// Load returns the interrupted upload of path to bucket/prefix.
func (s *Store) Load(bucket, prefix, path string) (*Upload, error) {
	return readUpload(s.name(bucket, prefix, path))
}

func readUpload(file string) (*Upload, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoState
	}
	if err != nil {
		return nil, fmt.Errorf("read upload state: %w", err)
	}
	var u Upload
	if err := json.Unmarshal(b, &u); err != nil || u.Version != formatVersion || u.ID == "" || u.UploadID == "" {
		return nil, fmt.Errorf("upload state %s is unreadable: %w", file, ErrNoState)
	}
	return &u, nil
}

// Save records u, atomically and readable by the user only.
func (s *Store) Save(u *Upload) error {
	u.Version = formatVersion
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("save upload state: %w", err)
	}
	b, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("save upload state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save upload state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save upload state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save upload state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.name(u.Bucket, u.Prefix, u.Source.Path)); err != nil {
		return fmt.Errorf("save upload state: %w", err)
	}
	return nil
}

// Remove forgets the upload of path, if any.
func (s *Store) Remove(bucket, prefix, path string) error {
	err := os.Remove(s.name(bucket, prefix, path))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove upload state: %w", err)
	}
	return nil
}

// All returns every recorded upload to bucket/prefix.
func (s *Store) All(bucket, prefix string) ([]*Upload, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Upload
	for _, f := range files {
		u, err := readUpload(f)
		if err != nil {
			continue // unreadable or from another version: the bucket listing still shows the upload
		}
		if u.Bucket == bucket && u.Prefix == prefix {
			out = append(out, u)
		}
	}
	return out, nil
}

// Forget removes the state of the upload with S3 upload ID uploadID.
func (s *Store) Forget(bucket, prefix, uploadID string) error {
	all, err := s.All(bucket, prefix)
	if err != nil {
		return err
	}
	for _, u := range all {
		if u.UploadID == uploadID {
			return s.Remove(bucket, prefix, u.Source.Path)
		}
	}
	return nil
}

// Matches reports whether the recorded source is still the same source: a
// changed source must never be encrypted again under the recorded salt.
func (u *Upload) Matches(now Source) bool {
	s := u.Source
	return s.Path == now.Path && s.Size == now.Size && s.MTime.Equal(now.MTime) &&
		s.Inode == now.Inode && s.Dev == now.Dev && s.Sample == now.Sample
}
