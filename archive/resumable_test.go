package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/resume"
)

// failingStore fails UploadPart for the part numbers in failParts and counts
// the bytes of the parts it passes on.
type failingStore struct {
	object.Store
	failParts map[int32]bool
	sent      atomic.Int64
}

var errInjected = errors.New("injected failure")

func (f *failingStore) UploadPart(ctx context.Context, key, uploadID string, n int32, body object.PartBody) (object.Part, error) {
	if f.failParts[n] {
		return object.Part{}, errInjected
	}
	f.sent.Add(body.Size)
	return f.Store.UploadPart(ctx, key, uploadID, n, body)
}

// lend gives Put and PutResumable a master key held in plain memory, as tests hold it.
func lend(master []byte) MasterKey {
	return func(use func([]byte) error) error { return use(master) }
}

type resumeRig struct {
	t      *testing.T
	master []byte
	path   string
	data   []byte
	states *resume.Store
}

func newResumeRig(t *testing.T, size int) *resumeRig {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	dir := t.TempDir()
	path := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, 32)
	rand.Read(master)
	states, err := resume.Open(filepath.Join(dir, "state", "ogive", "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { states.Close() })
	return &resumeRig{t: t, master: master, path: path, data: data, states: states}
}

// recordKey is the key the rig's records are MACed with.
func (r *resumeRig) recordKey() *crypt.RecordKey {
	r.t.Helper()
	k, err := crypt.DeriveRecordKey(r.master)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(k.Destroy)
	return k
}

// record loads the rig's source's upload record.
func (r *resumeRig) record() (*resume.Upload, error) {
	return r.states.Load("b", "", r.path, r.recordKey())
}

func (r *resumeRig) source() SeekableSource {
	r.t.Helper()
	f, err := os.Open(r.path)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	id, err := resume.Identify(r.path, f, st.Size())
	if err != nil {
		r.t.Fatal(err)
	}
	return SeekableSource{R: f, Name: "big.bin", Size: st.Size(), Identity: id,
		Recheck: func() (resume.Source, error) { return resume.Identify(r.path, f, st.Size()) }}
}

func (r *resumeRig) put(s object.Store, salt *crypt.Salt, noResume bool) (PutResult, error) {
	return PutResumable(context.Background(), s, lend(r.master), r.source(), ResumableOptions{
		PutOptions: PutOptions{Concurrency: 1},
		States:     r.states, Bucket: "b", Prefix: "",
		NoResume: noResume, Salt: salt,
	})
}

func body(t *testing.T, s object.Store, id string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), id, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func standardStore() *object.Memory { return object.NewMemory(nil, nil, 0) }

// putStandard makes the memory store keep objects readable (STANDARD), so
// the tests can read back what was uploaded.
func (r *resumeRig) putStandard(s object.Store, salt *crypt.Salt) (PutResult, error) {
	return PutResumable(context.Background(), s, lend(r.master), r.source(), ResumableOptions{
		PutOptions: PutOptions{Concurrency: 1, StorageClass: "STANDARD"},
		States:     r.states, Bucket: "b", Salt: salt,
	})
}

func TestResumedUploadEqualsUninterrupted(t *testing.T) {
	r := newResumeRig(t, 40<<20+12345) // three 16 MiB parts
	salt := crypt.Salt{1, 2, 3}

	mem := standardStore()
	broken := &failingStore{Store: mem, failParts: map[int32]bool{3: true}}
	if _, err := r.putStandard(broken, &salt); !errors.Is(err, errInjected) {
		t.Fatalf("interrupted put: %v", err)
	}
	if ups, _ := mem.ListUploads(context.Background()); len(ups) != 1 {
		t.Fatalf("the interrupted upload is not left in place: %v", ups)
	}
	if _, err := r.record(); err != nil {
		t.Fatalf("no resume state after the interruption: %v", err)
	}

	again := &failingStore{Store: mem}
	res, err := r.putStandard(again, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 2 || res.Parts != 3 {
		t.Fatalf("resumed from %d of %d parts, want 2 of 3", res.ResumedFrom, res.Parts)
	}
	cipher := crypt.EncryptedSize(int64(len(r.data)))
	if sent := again.sent.Load(); sent != cipher-2*PartSize(cipher) {
		t.Fatalf("the resumed run sent %d bytes, want only the last part's %d", sent, cipher-2*PartSize(cipher))
	}
	if _, err := r.record(); !errors.Is(err, resume.ErrNoState) {
		t.Fatalf("state left after completion: %v", err)
	}

	// The same source under the same salt, uninterrupted.
	ref := standardStore()
	r.states.Remove("b", "", r.path)
	want, err := r.putStandard(ref, &salt)
	if err != nil {
		t.Fatal(err)
	}
	if want.ID != res.ID {
		t.Fatalf("IDs differ: %s and %s", want.ID, res.ID)
	}
	if !bytes.Equal(body(t, mem, res.ID), body(t, ref, want.ID)) {
		t.Fatal("the resumed object differs from the uninterrupted one")
	}
	var out bytes.Buffer
	_, keys, err := crypt.OpenID(r.master, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	if _, err := keys.Decrypt(&out, bytes.NewReader(body(t, mem, res.ID))); err != nil || !bytes.Equal(out.Bytes(), r.data) {
		t.Fatalf("the resumed object does not decrypt to the source: %v", err)
	}
}

func TestChangedSourceGetsNewSalt(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	broken := &failingStore{Store: mem, failParts: map[int32]bool{2: true, 3: true}}
	if _, err := r.putStandard(broken, nil); err == nil {
		t.Fatal("interrupted put succeeded")
	}
	st, err := r.record()
	if err != nil {
		t.Fatal(err)
	}
	// Change the file (content and modification time).
	r.data[0] ^= 0xff
	if err := os.WriteFile(r.path, r.data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := r.putStandard(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 0 || res.ID == st.ID {
		t.Fatalf("a changed source resumed (%d parts) or kept its ID", res.ResumedFrom)
	}
	oldSalt, _ := crypt.ParseID(st.ID)
	newSalt, _ := crypt.ParseID(res.ID)
	if oldSalt == newSalt {
		t.Fatal("the salt was reused for changed data")
	}
	if ups, _ := mem.ListUploads(context.Background()); len(ups) != 0 {
		t.Fatalf("the stale upload was not aborted: %v", ups)
	}
}

func TestSilentlyChangedContentGetsNewSalt(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	broken := &failingStore{Store: mem, failParts: map[int32]bool{3: true}}
	if _, err := r.putStandard(broken, nil); err == nil {
		t.Fatal("interrupted put succeeded")
	}
	st, _ := r.record()
	// Change a byte of part 1 but keep size and modification time, as a
	// careless tool or a disk error could: the checksums notice.
	f, err := os.OpenFile(r.path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(r.path)
	f.WriteAt([]byte{^r.data[100]}, 100)
	f.Close()
	os.Chtimes(r.path, fi.ModTime(), fi.ModTime())

	res, err := r.putStandard(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 0 || res.ID == st.ID {
		t.Fatalf("resumed %d parts of changed content under the old salt", res.ResumedFrom)
	}
}

func TestNoResumeStartsAfresh(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	if _, err := r.putStandard(&failingStore{Store: mem, failParts: map[int32]bool{3: true}}, nil); err == nil {
		t.Fatal("interrupted put succeeded")
	}
	res, err := r.put(mem, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 0 {
		t.Fatalf("--no-resume resumed %d parts", res.ResumedFrom)
	}
	if ups, _ := mem.ListUploads(context.Background()); len(ups) != 0 {
		t.Fatalf("the old upload was not aborted: %v", ups)
	}
}

func TestAbortedUploadStartsAfresh(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	if _, err := r.putStandard(&failingStore{Store: mem, failParts: map[int32]bool{3: true}}, nil); err == nil {
		t.Fatal("interrupted put succeeded")
	}
	st, _ := r.record()
	mem.AbortUpload(context.Background(), st.ID, st.UploadID) // e.g. by a lifecycle rule
	res, err := r.putStandard(mem, nil)
	if err != nil || res.ResumedFrom != 0 {
		t.Fatalf("after an abort: %v, resumed %d", err, res.ResumedFrom)
	}
}

func TestSmallFileIsOnePut(t *testing.T) {
	r := newResumeRig(t, 1000)
	mem := standardStore()
	res, err := r.putStandard(mem, nil)
	if err != nil || res.Parts != 1 {
		t.Fatalf("small put: %v %+v", err, res)
	}
	if all, _ := r.states.All("b", "", r.recordKey()); len(all) != 0 {
		t.Fatalf("a single PUT left state: %v", all)
	}
}

// watchedStore records which storage IDs received writes: parts, objects and
// completions.
type watchedStore struct {
	object.Store
	mu      sync.Mutex
	written map[string]int
	before  func(op, key string, n int32, body []byte) // called before each call, if set
}

func watch(s object.Store) *watchedStore { return &watchedStore{Store: s, written: map[string]int{}} }

func (w *watchedStore) note(op, key string, n int32, body []byte) {
	w.mu.Lock()
	if op == "part" || op == "put" || op == "complete" {
		w.written[key]++
	}
	before := w.before
	w.mu.Unlock()
	if before != nil {
		before(op, key, n, body)
	}
}

func (w *watchedStore) writes(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written[key]
}

func (w *watchedStore) Put(ctx context.Context, key string, body []byte, o object.PutOptions) error {
	w.note("put", key, 0, body)
	return w.Store.Put(ctx, key, body, o)
}
func (w *watchedStore) CreateUpload(ctx context.Context, key string, o object.PutOptions) (string, error) {
	w.note("create", key, 0, nil)
	return w.Store.CreateUpload(ctx, key, o)
}
func (w *watchedStore) UploadPart(ctx context.Context, key, uploadID string, n int32, body object.PartBody) (object.Part, error) {
	b, err := object.ReadPart(body)
	if err != nil {
		return object.Part{}, err
	}
	w.note("part", key, n, b)
	return w.Store.UploadPart(ctx, key, uploadID, n, body)
}
func (w *watchedStore) CompleteUpload(ctx context.Context, key, uploadID string, parts []object.Part) error {
	w.note("complete", key, 0, nil)
	return w.Store.CompleteUpload(ctx, key, uploadID, parts)
}
func (w *watchedStore) AbortUpload(ctx context.Context, key, uploadID string) error {
	w.note("abort", key, 0, nil)
	return w.Store.AbortUpload(ctx, key, uploadID)
}
func (w *watchedStore) ListParts(ctx context.Context, key, uploadID string) ([]object.Part, error) {
	w.note("listparts", key, 0, nil)
	return w.Store.ListParts(ctx, key, uploadID)
}
func (w *watchedStore) Head(ctx context.Context, key string) (object.Info, error) {
	w.note("head", key, 0, nil)
	return w.Store.Head(ctx, key)
}

// recordFile is the path of the rig's source's upload record.
func (r *resumeRig) recordFile() string {
	files, _ := filepath.Glob(filepath.Join(r.states.Dir(), "*.json"))
	if len(files) != 1 {
		r.t.Fatalf("want one record, have %v", files)
	}
	return files[0]
}

// TestForgedRecordNamingExistingArchive plays someone who can write to the
// bucket and to the victim's state directory: they start a multipart upload
// on the key of an existing archive X of the same name and write a record
// naming X for the victim's changed file. The victim's next put must store a
// new ID, leave X as it was and send nothing to X. The attacker's record is
// either of the first format (no MAC), MACed under a key made up without the
// master key, or (the test has the master key) valid: X's existing object
// alone must then stop the resume.
func TestForgedRecordNamingExistingArchive(t *testing.T) {
	for _, forge := range []string{"version 1", "made-up key", "valid MAC"} {
		t.Run(forge, func(t *testing.T) {
			r := newResumeRig(t, 40<<20)
			mem := standardStore()
			old, err := r.putStandard(mem, nil)
			if err != nil {
				t.Fatal(err)
			}
			x := old.ID
			archived := body(t, mem, x)

			// The victim changes the file; the attacker prepares X.
			r.data[0] ^= 0xff
			if err := os.WriteFile(r.path, r.data, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			uploadID, err := mem.CreateUpload(ctx, x, object.PutOptions{StorageClass: "STANDARD"})
			if err != nil {
				t.Fatal(err)
			}
			forged := &resume.Upload{Bucket: "b", ID: x, UploadID: uploadID, PartSize: PartSize(crypt.EncryptedSize(int64(len(r.data)))),
				Class: "STANDARD", Source: r.source().Identity, Started: time.Now().UTC(), Digests: map[int32][32]byte{}}
			switch forge {
			case "version 1":
				b, _ := json.Marshal(map[string]any{"version": 1, "bucket": "b", "prefix": "", "id": x, "upload_id": uploadID,
					"part_size": forged.PartSize, "storage_class": "STANDARD", "source": forged.Source, "started": forged.Started})
				if err := r.states.Save(forged, r.recordKey()); err != nil { // to learn the file name
					t.Fatal(err)
				}
				if err := os.WriteFile(r.recordFile(), b, 0o600); err != nil {
					t.Fatal(err)
				}
			case "made-up key":
				guess, _ := crypt.DeriveRecordKey(make([]byte, crypt.MasterKeySize))
				defer guess.Destroy()
				if err := r.states.Save(forged, guess); err != nil {
					t.Fatal(err)
				}
			case "valid MAC":
				if err := r.states.Save(forged, r.recordKey()); err != nil {
					t.Fatal(err)
				}
			}

			w := watch(mem)
			res, err := r.putStandard(w, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.ID == x {
				t.Fatal("the put stored its new data under the existing archive's ID")
			}
			if n := w.writes(x); n != 0 {
				t.Fatalf("%d writes went to the existing archive's key", n)
			}
			if !bytes.Equal(body(t, mem, x), archived) {
				t.Fatal("the existing archive changed")
			}
			oldSalt, _ := crypt.ParseID(x)
			newSalt, _ := crypt.ParseID(res.ID)
			if oldSalt == newSalt {
				t.Fatal("the new upload reuses the existing archive's salt")
			}
			if forge != "valid MAC" {
				// Nothing is aborted because of a record that does not authenticate.
				ups, _ := mem.ListUploads(ctx)
				if len(ups) != 1 || ups[0].UploadID != uploadID {
					t.Fatalf("the attacker's upload was touched: %v", ups)
				}
			}
			var out bytes.Buffer
			_, keys, err := crypt.OpenID(r.master, res.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer keys.Destroy()
			if _, err := keys.Decrypt(&out, bytes.NewReader(body(t, mem, res.ID))); err != nil || !bytes.Equal(out.Bytes(), r.data) {
				t.Fatalf("the new archive is not the changed file: %v", err)
			}
		})
	}
}

// interrupted runs a put of the rig's file that fails at part failAt (its
// digest is recorded, its UploadPart fails) and returns the record.
func (r *resumeRig) interrupted(mem object.Store, failAt int32) *resume.Upload {
	r.t.Helper()
	if _, err := r.putStandard(&failingStore{Store: mem, failParts: map[int32]bool{failAt: true}}, nil); !errors.Is(err, errInjected) {
		r.t.Fatalf("interrupted put: %v", err)
	}
	rec, err := r.record()
	if err != nil {
		r.t.Fatal(err)
	}
	return rec
}

// rewrite changes one byte of the source at off and puts its size and
// modification time back, as a tool that preserves times could.
func (r *resumeRig) rewrite(off int64) {
	r.t.Helper()
	fi, err := os.Stat(r.path)
	if err != nil {
		r.t.Fatal(err)
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	r.data[off] ^= 0xff
	if _, err := f.WriteAt(r.data[off:off+1], off); err != nil {
		r.t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(r.path, fi.ModTime(), fi.ModTime()); err != nil {
		r.t.Fatal(err)
	}
}

// TestSilentChangeOfRecordedPartRestarts: part 3's digest was recorded and its
// sending failed (S3 may have seen some of it). The source then changes inside
// part 3 with its size and modification time put back. The next run must not
// send part 3 of the new content under the old salt: it starts again.
func TestSilentChangeOfRecordedPartRestarts(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	rec := r.interrupted(mem, 3)
	if len(rec.Digests) != 3 {
		t.Fatalf("recorded digests of %d parts, want 3", len(rec.Digests))
	}
	part3 := 2 * PartSize(crypt.EncryptedSize(int64(len(r.data)))) / crypt.MaxPackageLen * crypt.PackageSize
	r.rewrite(part3 + 100)

	w := watch(mem)
	res, err := r.putStandard(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := w.writes(rec.ID); n != 0 {
		t.Fatalf("%d parts of the changed source went out under the old salt", n)
	}
	if res.ID == rec.ID || res.ResumedFrom != 0 {
		t.Fatalf("resumed %d parts under the old ID", res.ResumedFrom)
	}
	if ups, _ := mem.ListUploads(context.Background()); len(ups) != 0 {
		t.Fatalf("the old upload was not aborted: %v", ups)
	}
}

// TestChangeAfterCheckIsNotSent: the source changes after the resume checked
// the recorded parts but before the part is read again to be sent: the part's
// digest no longer matches, so it is not sent and the put fails.
func TestChangeAfterCheckIsNotSent(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	rec := r.interrupted(mem, 3)
	part3 := 2 * PartSize(crypt.EncryptedSize(int64(len(r.data)))) / crypt.MaxPackageLen * crypt.PackageSize
	w := watch(mem)
	src := r.source()
	inner := src.R
	var starts atomic.Int32
	src.R = readerAtFunc(func(p []byte, off int64) (int, error) {
		// Part 3 is read from its start twice: by the check, then to be
		// sent. (Part 2's reads end with part 3's first byte, alone.)
		if off == part3 && len(p) > 1 && starts.Add(1) == 2 {
			r.rewrite(part3 + 100)
		}
		return inner.ReadAt(p, off)
	})
	_, err := PutResumable(context.Background(), w, lend(r.master), src, ResumableOptions{
		PutOptions: PutOptions{Concurrency: 1, StorageClass: "STANDARD"}, States: r.states, Bucket: "b"})
	if !errors.Is(err, ErrSourceChanged) {
		t.Fatalf("put of a source changed after the check: %v", err)
	}
	if n := w.writes(rec.ID); n != 0 {
		t.Fatalf("%d parts went out after the change", n)
	}
}

type readerAtFunc func(p []byte, off int64) (int, error)

func (f readerAtFunc) ReadAt(p []byte, off int64) (int, error) { return f(p, off) }

// TestListedPartWithoutDigestRestarts: S3 lists a part the record has no
// digest of (its record was lost in a crash, or someone else sent it): it is
// not trusted, and the upload starts again.
func TestListedPartWithoutDigestRestarts(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	rec := r.interrupted(mem, 3)
	delete(rec.Digests, 2)
	if err := r.states.Save(rec, r.recordKey()); err != nil {
		t.Fatal(err)
	}
	w := watch(mem)
	res, err := r.putStandard(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID == rec.ID || res.ResumedFrom != 0 || w.writes(rec.ID) != 0 {
		t.Fatalf("resumed %d parts of an upload with a part never recorded", res.ResumedFrom)
	}
}

// TestReplacedPartIsSentAgain: someone with bucket access replaced part 2 of
// the victim's upload. Its digest is recorded and the source is unchanged, so
// the part is sent again, same ciphertext, and the archive is the file.
func TestReplacedPartIsSentAgain(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	rec := r.interrupted(mem, 3)
	junk := make([]byte, PartSize(crypt.EncryptedSize(int64(len(r.data)))))
	if _, err := mem.UploadPart(context.Background(), rec.ID, rec.UploadID, 2, object.BytesPart(junk)); err != nil {
		t.Fatal(err)
	}
	res, err := r.putStandard(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != rec.ID || res.ResumedFrom != 1 {
		t.Fatalf("ID %s (recorded %s), resumed from %d parts, want 1", res.ID, rec.ID, res.ResumedFrom)
	}
	var out bytes.Buffer
	_, keys, _ := crypt.OpenID(r.master, res.ID)
	defer keys.Destroy()
	if _, err := keys.Decrypt(&out, bytes.NewReader(body(t, mem, res.ID))); err != nil || !bytes.Equal(out.Bytes(), r.data) {
		t.Fatalf("the archive is not the file: %v", err)
	}
}

// TestDigestRecordedBeforeEachPart reads the record from disk as each part is
// sent: its digest must be there already.
func TestDigestRecordedBeforeEachPart(t *testing.T) {
	r := newResumeRig(t, 40<<20+5)
	mem := standardStore()
	w := watch(mem)
	key := r.recordKey()
	sent := 0
	w.before = func(op, _ string, n int32, b []byte) {
		if op != "part" {
			return
		}
		sent++
		rec, err := r.states.Load("b", "", r.path, key)
		if err != nil {
			t.Errorf("part %d: %v", n, err)
			return
		}
		want, _ := crypt.PartDigest(b)
		if got, ok := rec.Digests[n]; !ok || got != want {
			t.Errorf("part %d is sent before its digest is recorded", n)
		}
	}
	if _, err := r.putStandard(w, nil); err != nil {
		t.Fatal(err)
	}
	if sent != 3 {
		t.Fatalf("%d parts sent, want 3", sent)
	}
	if names, _ := filepath.Glob(filepath.Join(r.states.Dir(), "*")); len(names) != 0 {
		t.Fatalf("left in the state directory: %v", names)
	}
}

// TestSecondPutOfSourceIsRefused: while one put holds the source's lock, a
// second fails at once without touching the bucket or the record.
func TestSecondPutOfSourceIsRefused(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	lock, err := r.states.Lock("b", "", r.path)
	if err != nil {
		t.Fatal(err)
	}
	w := watch(mem)
	_, err = r.putStandard(w, nil)
	var busy *resume.BusyError
	if !errors.As(err, &busy) || busy.PID != os.Getpid() {
		t.Fatalf("put while the source is locked: %v", err)
	}
	if ups, _ := mem.ListUploads(context.Background()); len(ups) != 0 || len(w.written) != 0 {
		t.Fatalf("the refused put reached the bucket: %v %v", ups, w.written)
	}
	lock.Release()
	if _, err := r.putStandard(mem, nil); err != nil {
		t.Fatalf("put after the lock was released: %v", err)
	}
}

// TestMasterKeyOpenOnlyToDeriveKeys: the master key is lent for key
// derivations only, never while the store is called, for a put, an
// interrupted put, its resumption and a one-part put.
func TestMasterKeyOpenOnlyToDeriveKeys(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	var open, lent atomic.Int32 // open counts the lendings under way
	opener := func(use func([]byte) error) error {
		lent.Add(1)
		open.Add(1)
		defer open.Add(-1)
		return use(r.master)
	}
	mem := standardStore()
	w := watch(mem)
	w.before = func(op, _ string, _ int32, _ []byte) {
		if open.Load() != 0 {
			t.Errorf("%s called with the master key open", op)
		}
	}
	put := func(s object.Store, src SeekableSource) error {
		_, err := PutResumable(context.Background(), s, opener, src, ResumableOptions{
			PutOptions: PutOptions{Concurrency: 2, StorageClass: "STANDARD"}, States: r.states, Bucket: "b"})
		return err
	}
	if err := put(&failingStore{Store: w, failParts: map[int32]bool{3: true}}, r.source()); !errors.Is(err, errInjected) {
		t.Fatalf("interrupted put: %v", err)
	}
	if err := put(w, r.source()); err != nil {
		t.Fatal(err)
	}
	small := r.source()
	small.Size = 1000
	if err := put(w, small); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Put(context.Background(), w, opener, Source{R: bytes.NewReader(r.data), Name: "s", Size: -1}, PutOptions{StorageClass: "STANDARD"}); err != nil {
		t.Fatal(err)
	}
	if lent.Load() == 0 {
		t.Fatal("the master key was never lent")
	}
}

// BenchmarkPutResumable is BenchmarkPut through PutResumable, from a file:
// what put does with a file, record updates (a write and an fsync per part)
// included.
func BenchmarkPutResumable(b *testing.B) {
	master := bytes.Repeat([]byte{1}, crypt.MasterKeySize)
	dir := b.TempDir()
	path := filepath.Join(dir, "src")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0x5a}, benchSize), 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	id, err := resume.Identify(path, f, benchSize)
	if err != nil {
		b.Fatal(err)
	}
	states, err := resume.Open(filepath.Join(dir, "state", "ogive", "uploads"))
	if err != nil {
		b.Fatal(err)
	}
	defer states.Close()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		s := object.NewMemory(nil, nil, 0)
		src := SeekableSource{R: f, Name: "bench", Size: benchSize, Identity: id}
		if _, err := PutResumable(b.Context(), s, lend(master), src, ResumableOptions{
			PutOptions: PutOptions{StorageClass: "STANDARD"}, States: states, Bucket: "b"}); err != nil {
			b.Fatal(err)
		}
	}
}
