package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

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

func (f *failingStore) UploadPart(ctx context.Context, key, uploadID string, n int32, body []byte) (object.Part, error) {
	if f.failParts[n] {
		return object.Part{}, errInjected
	}
	f.sent.Add(int64(len(body)))
	return f.Store.UploadPart(ctx, key, uploadID, n, body)
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
	return &resumeRig{t: t, master: master, path: path, data: data, states: resume.Open(filepath.Join(dir, "state"))}
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
	return PutResumable(context.Background(), s, r.master, r.source(), ResumableOptions{
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
	return PutResumable(context.Background(), s, r.master, r.source(), ResumableOptions{
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
	if _, err := r.states.Load("b", "", r.source().Identity.Path); err != nil {
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
	if _, err := r.states.Load("b", "", r.path); !errors.Is(err, resume.ErrNoState) {
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
	st, err := r.states.Load("b", "", r.path)
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
	st, _ := r.states.Load("b", "", r.path)
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
	st, _ := r.states.Load("b", "", r.path)
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
	if all, _ := r.states.All("b", ""); len(all) != 0 {
		t.Fatalf("a single PUT left state: %v", all)
	}
}
