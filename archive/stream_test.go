package archive

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/resume"
)

// flipping is a source whose byte at off changes after the first read that
// covers it: a file rewritten between a part's two passes.
type flipping struct {
	io.ReaderAt
	off   int64
	mu    sync.Mutex
	reads int
}

func (f *flipping) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.ReaderAt.ReadAt(p, off)
	if off <= f.off && f.off < off+int64(n) {
		f.mu.Lock()
		f.reads++
		later := f.reads > 1
		f.mu.Unlock()
		if later {
			p[f.off-off] ^= 0x80
		}
	}
	return n, err
}

// sentBytes reads each part's body as S3 would, up to its end or its
// error, and keeps what it read.
type sentBytes struct {
	object.Store
	mu   sync.Mutex
	sent map[int32][]byte
	errs map[int32]error
}

func (s *sentBytes) UploadPart(ctx context.Context, key, id string, n int32, body object.PartBody) (object.Part, error) {
	r, err := body.Open()
	if err != nil {
		return object.Part{}, err
	}
	b, err := io.ReadAll(r)
	s.mu.Lock()
	s.sent[n], s.errs[n] = b, err
	s.mu.Unlock()
	if err != nil {
		return object.Part{}, err
	}
	return s.Store.UploadPart(ctx, key, id, n, object.BytesPart(b))
}

// TestSourceChangedBetweenPasses: a byte of part 2 changes after its scan.
// The part's body stops at the package that holds it, before giving out a
// byte of it: every byte sent is the ciphertext of the plaintext the scan
// saw, and no nonce encrypts two plaintexts on the wire. The put fails with
// ErrSourceChanged.
func TestSourceChangedBetweenPasses(t *testing.T) {
	r := newResumeRig(t, 40<<20+5)
	src := r.source()
	partSize := PartSize(crypt.EncryptedSize(src.Size))
	plainPart := partSize / crypt.MaxPackageLen * crypt.PackageSize
	const pkgInPart = 10
	src.R = &flipping{ReaderAt: src.R, off: plainPart + pkgInPart*crypt.PackageSize + 100}
	s := &sentBytes{Store: standardStore(), sent: map[int32][]byte{}, errs: map[int32]error{}}
	salt := crypt.Salt{9}
	_, err := PutResumable(context.Background(), s, lend(r.master), src, ResumableOptions{
		PutOptions: PutOptions{Concurrency: 1, StorageClass: "STANDARD"},
		States:     r.states, Bucket: "b", Salt: &salt,
	})
	if !errors.Is(err, ErrSourceChanged) {
		t.Fatalf("put: %v, want ErrSourceChanged", err)
	}
	if !errors.Is(s.errs[2], ErrSourceChanged) {
		t.Fatalf("part 2's body ended with %v", s.errs[2])
	}
	// Nothing of a source that changed is kept for a resume: no upload, no
	// record.
	if ups, err := s.ListUploads(context.Background()); err != nil || len(ups) != 0 {
		t.Fatalf("uploads left behind: %v, %v", ups, err)
	}
	if _, err := r.states.Load("b", "", src.Identity.Path, nil); !errors.Is(err, resume.ErrNoState) {
		t.Fatalf("record left behind: %v", err)
	}
	if got, want := len(s.sent[2]), pkgInPart*crypt.MaxPackageLen; got != want {
		t.Fatalf("part 2 gave %d bytes before stopping, want the %d of the packages before the change", got, want)
	}
	// What was sent is what the unchanged file encrypts to.
	keys, err := crypt.DeriveKeys(r.master, salt)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	enc, err := keys.EncryptReader(bytes.NewReader(r.data), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, partSize+int64(len(s.sent[2])))
	if _, err := io.ReadFull(enc, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.sent[2], want[partSize:]) {
		t.Fatal("part 2 sent bytes that are not the ciphertext of the file as scanned")
	}
}

// TestPartBodyOpensAgain: a part sent again (the SDK rewinds its body) is
// encrypted again, to the same bytes, and a body read to its end matches the
// scan's CRC-32C and digest.
func TestPartBodyOpensAgain(t *testing.T) {
	r := newResumeRig(t, 20<<20+77)
	src := r.source()
	keys, err := crypt.DeriveKeys(r.master, crypt.Salt{1})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	cipher := crypt.EncryptedSize(src.Size)
	p := &partPlan{keys: keys, src: src, partSize: PartSize(cipher), cipherSize: cipher}
	for n := int32(1); int(n) <= p.count(); n++ {
		sums, err := p.scan(context.Background(), n, true)
		if err != nil {
			t.Fatal(err)
		}
		body := p.body(n, sums)
		first, err := object.ReadPart(body)
		if err != nil {
			t.Fatal(err)
		}
		again, err := object.ReadPart(body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatalf("part %d: two openings gave different bytes", n)
		}
		if got := object.ChecksumCRC32C(first); got != body.CRC32C {
			t.Errorf("part %d: CRC-32C %s, scan said %s", n, got, body.CRC32C)
		}
		if d, _ := crypt.PartDigest(first); d != sums.digest {
			t.Errorf("part %d: digest differs from the scan's", n)
		}
		if !partHolds(object.Part{Size: int64(len(first)), ETag: `"` + hexMD5(first) + `"`}, sums) {
			t.Errorf("part %d: the scan's MD5 is not the body's", n)
		}
	}
}

func hexMD5(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// TestPartsAreTheStream: for sizes around part boundaries, the object a
// put makes of a file, part by part, two passes each, is byte for byte the
// file encrypted as one stream under the same salt.
func TestPartsAreTheStream(t *testing.T) {
	part := PartSize(-1) / crypt.MaxPackageLen * crypt.PackageSize // plaintext of a part
	for _, size := range []int64{2*part - 1, 2 * part, 2*part + 1, 3*part - crypt.PackageSize} {
		r := newResumeRig(t, int(size))
		s := standardStore()
		salt := crypt.Salt{4}
		res, err := r.putStandard(s, &salt)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		keys, err := crypt.DeriveKeys(r.master, salt)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := keys.EncryptReader(bytes.NewReader(r.data), 0)
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.ReadAll(enc)
		keys.Destroy()
		if err != nil {
			t.Fatal(err)
		}
		if got := body(t, s, res.ID); !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: the object (%d bytes) is not the stream (%d bytes)", size, len(got), len(want))
		}
	}
}
