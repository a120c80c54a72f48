// Package resume keeps what an interrupted upload needs to continue: a record per upload
// under the user's state directory, authenticated with a key derived from the master key,
// and a lock file beside it while an upload runs. Nothing in a record is secret (the salt
// and storage ID are public parts of the object, the part digests hash GCM tags that the
// bucket holds too), but a record decides which salt a resumed upload encrypts under, so
// only records that authenticate are ever trusted. docs/FORMAT.md §6 describes the bytes.
package resume

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

var (
	// ErrNoState means no interrupted upload is recorded for a source.
	ErrNoState = errors.New("no interrupted upload recorded")
	// ErrUntrusted means a record exists but must not be used: it is from an older
	// version, unreadable, not a regular file of the user's, or does not authenticate.
	// Nothing is aborted because of it; the bucket listing still shows its upload.
	ErrUntrusted = errors.New("upload record not trusted")
	// ErrNoStateDir means neither XDG_STATE_HOME nor HOME names a directory.
	ErrNoStateDir = errors.New("no directory for upload state: set HOME or XDG_STATE_HOME")
)

// untrustedError says why a record is not trusted; it is ErrUntrusted.
type untrustedError struct{ path, why string }

func untrusted(format string, a ...any) error {
	return &untrustedError{why: fmt.Sprintf(format, a...)}
}

func (e *untrustedError) Error() string {
	if e.path == "" {
		return "upload record " + e.why
	}
	return "upload record " + e.path + " " + e.why
}

func (e *untrustedError) Is(target error) bool { return target == ErrUntrusted }

// formatVersion is bumped when records change incompatibly; records of other versions are
// never trusted. Version 1 had no MAC and no part digests.
const formatVersion = 2

// maxRecordSize caps what is read of a record: 10,000 part digests take about 900 KB.
const maxRecordSize = 4 << 20

// maxPart is S3's highest part number.
const maxPart = 10000

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
	Bucket   string
	Prefix   string
	ID       string // storage ID (object key without prefix)
	UploadID string // S3 multipart upload ID; empty until CreateMultipartUpload answered
	PartSize int64  // ciphertext bytes per part but the last
	Class    string
	Source   Source
	Started  time.Time
	// Digests holds, by part number, the digest (crypt.PartDigest) of every part that
	// was about to be sent: each is recorded before its part leaves.
	Digests map[int32][32]byte
}

// Authenticator computes the MAC of a record's canonical bytes; crypt.RecordKey is one.
type Authenticator interface {
	MAC(msg []byte) ([32]byte, error)
}

// Dir is where upload state lives: $XDG_STATE_HOME/ogive/uploads, or
// $HOME/.local/state/ogive/uploads, or on Windows, where neither is usually set,
// %LocalAppData%\ogive\uploads. Relative values are ignored, as the XDG
// specification asks: they would depend on the working directory.
func Dir(getenv func(string) string) (string, error) {
	return dir(getenv, runtime.GOOS)
}

func dir(getenv func(string) string, goos string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "ogive", "uploads"), nil
	}
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "state", "ogive", "uploads"), nil
	}
	if d := getenv("LocalAppData"); goos == "windows" && filepath.IsAbs(d) {
		return filepath.Join(d, "ogive", "uploads"), nil
	}
	return "", ErrNoStateDir
}

// Matches reports whether the recorded source is still the same source: a
// changed source must never be encrypted again under the recorded salt.
func (u *Upload) Matches(now Source) bool {
	s := u.Source
	return s.Path == now.Path && s.Size == now.Size && s.MTime.Equal(now.MTime) &&
		s.Inode == now.Inode && s.Dev == now.Dev && s.Sample == now.Sample
}

// record is an Upload as stored, in JSON.
type record struct {
	Version  int          `json:"version"`
	Bucket   string       `json:"bucket"`
	Prefix   string       `json:"prefix"`
	ID       string       `json:"id"`
	UploadID string       `json:"upload_id"`
	PartSize int64        `json:"part_size"`
	Class    string       `json:"storage_class"`
	Source   Source       `json:"source"`
	Started  time.Time    `json:"started"`
	Parts    []recordPart `json:"parts"`
	MAC      string       `json:"mac"`
}

type recordPart struct {
	Number int32  `json:"number"`
	Digest string `json:"digest"`
}

// encode returns the record file of u, MACed with key.
func encode(u *Upload, key Authenticator) ([]byte, error) {
	mac, err := key.MAC(canonical(u))
	if err != nil {
		return nil, fmt.Errorf("authenticate upload record: %w", err)
	}
	r := record{
		Version: formatVersion, Bucket: u.Bucket, Prefix: u.Prefix, ID: u.ID, UploadID: u.UploadID,
		PartSize: u.PartSize, Class: u.Class, Source: u.Source, Started: u.Started,
		Parts: []recordPart{}, MAC: hex.EncodeToString(mac[:]),
	}
	for _, n := range partNumbers(u) {
		d := u.Digests[n]
		r.Parts = append(r.Parts, recordPart{Number: n, Digest: hex.EncodeToString(d[:])})
	}
	return json.MarshalIndent(r, "", "  ")
}

// decode parses and authenticates a record file.
func decode(b []byte, key Authenticator) (*Upload, error) {
	var r record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, untrusted("is not a record of this version: %v", err)
	}
	if r.Version != formatVersion {
		return nil, untrusted("is of format version %d, not %d", r.Version, formatVersion)
	}
	if r.ID == "" {
		return nil, untrusted("has no storage ID")
	}
	u := &Upload{
		Bucket: r.Bucket, Prefix: r.Prefix, ID: r.ID, UploadID: r.UploadID, PartSize: r.PartSize,
		Class: r.Class, Source: r.Source, Started: r.Started, Digests: map[int32][32]byte{},
	}
	prev := int32(0)
	for _, p := range r.Parts {
		var d [32]byte
		if p.Number <= prev || p.Number > maxPart || hex.DecodedLen(len(p.Digest)) != len(d) {
			return nil, untrusted("has a bad part %d", p.Number)
		}
		if _, err := hex.Decode(d[:], []byte(p.Digest)); err != nil {
			return nil, untrusted("has a bad digest of part %d", p.Number)
		}
		u.Digests[p.Number] = d
		prev = p.Number
	}
	got, err := hex.DecodeString(r.MAC)
	if err != nil || len(got) != sha256.Size {
		return nil, untrusted("has no MAC")
	}
	want, err := key.MAC(canonical(u))
	if err != nil {
		return nil, fmt.Errorf("authenticate upload record: %w", err)
	}
	if !hmac.Equal(got, want[:]) {
		return nil, untrusted("does not authenticate: written with another master key, or changed")
	}
	return u, nil
}

// canonical returns the bytes a record's MAC covers, every field but the MAC, in the
// order of docs/FORMAT.md §6: integers big-endian, each text as its 4-byte length and
// its bytes, times as seconds since 1970 (signed, 8 bytes) and nanoseconds (4 bytes),
// then the number of part digests and each part number (4 bytes) with its digest.
func canonical(u *Upload) []byte {
	b := make([]byte, 0, 256+36*len(u.Digests))
	u32 := func(v uint32) { b = binary.BigEndian.AppendUint32(b, v) }
	u64 := func(v uint64) { b = binary.BigEndian.AppendUint64(b, v) }
	text := func(s string) { u32(uint32(len(s))); b = append(b, s...) }
	when := func(t time.Time) { u64(uint64(t.Unix())); u32(uint32(t.Nanosecond())) }

	u32(formatVersion)
	text(u.Bucket)
	text(u.Prefix)
	text(u.ID)
	text(u.UploadID)
	u64(uint64(u.PartSize))
	text(u.Class)
	text(u.Source.Path)
	u64(uint64(u.Source.Size))
	when(u.Source.MTime)
	u64(u.Source.Inode)
	u64(u.Source.Dev)
	text(u.Source.Sample)
	when(u.Started)
	numbers := partNumbers(u)
	u32(uint32(len(numbers)))
	for _, n := range numbers {
		d := u.Digests[n]
		u32(uint32(n))
		b = append(b, d[:]...)
	}
	return b
}

func partNumbers(u *Upload) []int32 {
	numbers := make([]int32, 0, len(u.Digests))
	for n := range u.Digests {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	return numbers
}
