package s3local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Storage classes that hold an object offline until it is restored.
const (
	classStandard    = "STANDARD"
	classGlacier     = "GLACIER"
	classDeepArchive = "DEEP_ARCHIVE"
)

// knownClasses are the values S3 accepts in x-amz-storage-class; anything else
// is answered with InvalidStorageClass before versitygw sees the request.
var knownClasses = map[string]bool{
	"STANDARD":            true,
	"REDUCED_REDUNDANCY":  true,
	"STANDARD_IA":         true,
	"ONEZONE_IA":          true,
	"INTELLIGENT_TIERING": true,
	"GLACIER":             true,
	"DEEP_ARCHIVE":        true,
	"OUTPOSTS":            true,
	"GLACIER_IR":          true,
	"SNOW":                true,
	"EXPRESS_ONEZONE":     true,
}

func isArchived(class string) bool {
	return class == classGlacier || class == classDeepArchive
}

// restoreWindow is one restore request: the temporary copy is readable from
// Ready until Expiry.
type restoreWindow struct {
	Tier      string    `json:"tier"`
	Requested time.Time `json:"requested"`
	Ready     time.Time `json:"ready"`
	Expiry    time.Time `json:"expiry"`
}

type restorePhase int

const (
	phaseNone     restorePhase = iota // never restored, or the copy expired
	phaseOngoing                      // requested, not ready yet
	phaseRestored                     // a readable copy exists until Expiry
)

func (w *restoreWindow) phase(now time.Time) restorePhase {
	switch {
	case w == nil || !now.Before(w.Expiry):
		return phaseNone
	case now.Before(w.Ready):
		return phaseOngoing
	default:
		return phaseRestored
	}
}

// objectRecord is what the layer knows about one key beyond what versitygw
// stores: its storage class, its latest restore, and the parts it was
// completed from, which versitygw forgets once an upload completes.
type objectRecord struct {
	Bucket  string         `json:"bucket"`
	Key     string         `json:"key"`
	Class   string         `json:"class"`
	Restore *restoreWindow `json:"restore,omitempty"`
	Parts   []partRecord   `json:"parts,omitempty"`
}

// partRecord is one part of a completed multipart upload, as versitygw
// listed it just before the completion.
type partRecord struct {
	Number int32  `json:"number"`
	Size   int64  `json:"size"`
	CRC32C string `json:"crc32c,omitempty"` // empty: uploaded without one
}

// uploadRecord remembers the class asked for at CreateMultipartUpload until
// CompleteMultipartUpload gives it to the key.
type uploadRecord struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
	Class    string `json:"class"`
}

type objectID struct{ bucket, key string }

// restoreOutcome is what a RestoreObject request did.
type restoreOutcome int

const (
	restoreStarted    restoreOutcome = iota // 202: a new restore began
	restoreExtended                         // 200: already restored, expiry moved
	restoreInProgress                       // 409: one is still running
	restoreNotAllowed                       // 403: the class is not archived
)

// stateStore keeps every record in memory and mirrors each one in its own
// small JSON file, so a restart with the same directory picks up where the
// last run stopped. One file per key keeps a write proportional to the
// change, not to the bucket.
type stateStore struct {
	objectsDir string
	uploadsDir string

	mu      sync.Mutex
	objects map[objectID]*objectRecord
	uploads map[string]*uploadRecord
}

const tempPrefix = ".tmp-"

func openState(dir string) (*stateStore, error) {
	s := &stateStore{
		objectsDir: filepath.Join(dir, "objects"),
		uploadsDir: filepath.Join(dir, "uploads"),
		objects:    make(map[objectID]*objectRecord),
		uploads:    make(map[string]*uploadRecord),
	}
	for _, d := range []string{s.objectsDir, s.uploadsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create state directory: %w", err)
		}
	}
	err := loadRecords(s.objectsDir, func(r *objectRecord) error {
		if r.Class == "" {
			return errors.New("record has no class")
		}
		s.objects[objectID{r.Bucket, r.Key}] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = loadRecords(s.uploadsDir, func(r *uploadRecord) error {
		if r.UploadID == "" {
			return errors.New("record has no upload id")
		}
		s.uploads[r.UploadID] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func loadRecords[T any](dir string, add func(*T) error) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read state directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		if strings.HasPrefix(name, tempPrefix) {
			// Left behind by a process killed between write and rename: the
			// record it was replacing is still intact.
			_ = os.Remove(path)
			continue
		}
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		r := new(T)
		if err := json.Unmarshal(b, r); err != nil {
			return fmt.Errorf("state file %s: %w", path, err)
		}
		if err := add(r); err != nil {
			return fmt.Errorf("state file %s: %w", path, err)
		}
	}
	return nil
}

// recordFile names a record by a hash so any key, however long or strange,
// maps to a safe file name.
func recordFile(dir string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return filepath.Join(dir, hex.EncodeToString(h.Sum(nil))+".json")
}

// writeRecord replaces path atomically: a reader (or a restart after a kill)
// sees the old record or the new one, never half of one. There is no fsync:
// this is a test server, and rename already survives the process dying.
func writeRecord(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

func removeRecord(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state: %w", err)
	}
	return nil
}

func (s *stateStore) objectFile(id objectID) string {
	return recordFile(s.objectsDir, id.bucket, id.key)
}

// lookup returns the class of a key (STANDARD when the layer never saw it)
// and a copy of its latest restore window.
func (s *stateStore) lookup(id objectID) (class string, restore *restoreWindow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.objects[id]
	if !ok {
		return classStandard, nil
	}
	if r.Restore != nil {
		w := *r.Restore
		restore = &w
	}
	return r.Class, restore
}

// parts returns a copy of the parts a key was completed from; nil for an
// object written in one request.
func (s *stateStore) parts(id objectID) []partRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.objects[id]; ok {
		return slices.Clone(r.Parts)
	}
	return nil
}

// setClass records a freshly written object: a new object has no restore.
func (s *stateStore) setClass(id objectID, class string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setObjectLocked(id, class, nil)
}

func (s *stateStore) setObjectLocked(id objectID, class string, parts []partRecord) error {
	if class == classStandard && len(parts) == 0 {
		// STANDARD without parts is what an unknown key means already.
		return s.forgetLocked(id)
	}
	r := &objectRecord{Bucket: id.bucket, Key: id.key, Class: class, Parts: parts}
	if err := writeRecord(s.objectFile(id), r); err != nil {
		return err
	}
	s.objects[id] = r
	return nil
}

// forget drops everything known about a deleted key.
func (s *stateStore) forget(id objectID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forgetLocked(id)
}

func (s *stateStore) forgetLocked(id objectID) error {
	if _, ok := s.objects[id]; !ok {
		return nil
	}
	if err := removeRecord(s.objectFile(id)); err != nil {
		return err
	}
	delete(s.objects, id)
	return nil
}

func (s *stateStore) beginUpload(id objectID, uploadID, class string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &uploadRecord{Bucket: id.bucket, Key: id.key, UploadID: uploadID, Class: class}
	if err := writeRecord(recordFile(s.uploadsDir, uploadID), r); err != nil {
		return err
	}
	s.uploads[uploadID] = r
	return nil
}

// completeUpload gives the key the class its upload was created with, and
// the parts it was completed from. An upload the layer never saw (created
// before it ran) yields STANDARD, which is what S3 assumes without a header.
func (s *stateStore) completeUpload(id objectID, uploadID string, parts []partRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	class := classStandard
	if u, ok := s.uploads[uploadID]; ok && u.Bucket == id.bucket && u.Key == id.key {
		class = u.Class
	}
	if err := s.setObjectLocked(id, class, parts); err != nil {
		return err
	}
	return s.dropUploadLocked(uploadID)
}

func (s *stateStore) abortUpload(uploadID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropUploadLocked(uploadID)
}

func (s *stateStore) dropUploadLocked(uploadID string) error {
	if _, ok := s.uploads[uploadID]; !ok {
		return nil
	}
	if err := removeRecord(recordFile(s.uploadsDir, uploadID)); err != nil {
		return err
	}
	delete(s.uploads, uploadID)
	return nil
}

// requestRestore applies one RestoreObject at now. A new restore becomes
// readable after wait and stays so for keep; restoring an already restored
// copy keeps it for keep from now, as S3 does. Check and update happen under
// one lock so two concurrent requests cannot both start a restore.
func (s *stateStore) requestRestore(id objectID, now time.Time, tier string, wait, keep time.Duration) (restoreOutcome, *restoreWindow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.objects[id]
	if !ok || !isArchived(r.Class) {
		return restoreNotAllowed, nil, nil
	}
	next := *r
	outcome := restoreStarted
	switch r.Restore.phase(now) {
	case phaseOngoing:
		w := *r.Restore
		return restoreInProgress, &w, nil
	case phaseRestored:
		w := *r.Restore
		w.Expiry = now.Add(keep)
		next.Restore = &w
		outcome = restoreExtended
	default:
		ready := now.Add(wait)
		next.Restore = &restoreWindow{Tier: tier, Requested: now, Ready: ready, Expiry: ready.Add(keep)}
	}
	if err := writeRecord(s.objectFile(id), &next); err != nil {
		return 0, nil, err
	}
	s.objects[id] = &next
	w := *next.Restore
	return outcome, &w, nil
}
