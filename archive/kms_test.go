package archive

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// kmsStore is S3 with SSE-KMS, as AWS documents it: ETags that are not MD5s
// of the data, yet look exactly like them (32 hex digits, and a dash and the
// part count for a completed multipart object), and a HEAD that says
// aws:kms. Here an ETag is an HMAC of the real MD5, so the same bytes get the
// same ETag.
type kmsStore struct {
	*object.Memory
	mu   sync.Mutex
	real map[string]string // KMS-style ETag → the memory store's MD5 ETag
}

func newKMSStore() *kmsStore {
	return &kmsStore{Memory: object.NewMemory(nil, nil, 0), real: map[string]string{}}
}

func (k *kmsStore) opaque(etag string) string {
	m := hmac.New(sha256.New, []byte("kms data key"))
	m.Write([]byte(strings.ToLower(strings.Trim(etag, `"`))))
	kms := `"` + hex.EncodeToString(m.Sum(nil)[:16]) + `"`
	k.mu.Lock()
	k.real[kms] = etag
	k.mu.Unlock()
	return kms
}

func (k *kmsStore) UploadPart(ctx context.Context, key, id string, n int32, body object.PartBody) (object.Part, error) {
	p, err := k.Memory.UploadPart(ctx, key, id, n, body)
	p.ETag = k.opaque(p.ETag)
	return p, err
}

func (k *kmsStore) ListParts(ctx context.Context, key, id string) ([]object.Part, error) {
	ps, err := k.Memory.ListParts(ctx, key, id)
	for i := range ps {
		ps[i].ETag = k.opaque(ps[i].ETag)
	}
	return ps, err
}

func (k *kmsStore) CompleteUpload(ctx context.Context, key, id string, parts []object.Part) error {
	mapped := make([]object.Part, len(parts))
	k.mu.Lock()
	for i, p := range parts {
		p.ETag = k.real[p.ETag]
		mapped[i] = p
	}
	k.mu.Unlock()
	return k.Memory.CompleteUpload(ctx, key, id, mapped)
}

func (k *kmsStore) Head(ctx context.Context, key string) (object.Info, error) {
	info, err := k.Memory.Head(ctx, key)
	if err == nil {
		hexPart, count, multipart := strings.Cut(strings.Trim(info.ETag, `"`), "-")
		info.ETag = strings.Trim(k.opaque(hexPart), `"`)
		if multipart {
			info.ETag += "-" + count
		}
		info.ETag = `"` + info.ETag + `"`
		info.Encryption = "aws:kms"
	}
	return info, err
}

// On an SSE-KMS bucket, verify compares the CRC-32Cs only, and says so; it
// does not take the opaque ETag for a replaced archive.
func TestVerifyOnKMSComparesCRCsOnly(t *testing.T) {
	s := newKMSStore()
	master := bytes.Repeat([]byte{7}, crypt.MasterKeySize)
	for _, size := range []int{1000, 40 << 20} {
		data := bytes.Repeat([]byte{byte(size)}, size)
		id, _, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(data), Name: "f", Size: int64(size)}, PutOptions{StorageClass: "STANDARD"})
		if err != nil {
			t.Fatal(err)
		}
		a := &Archive{ID: id, Name: "f"}
		keys, err := a.Keys(master)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Verify(t.Context(), s, a, keys, bytes.NewReader(data), int64(size), VerifyOptions{})
		keys.Destroy()
		if err != nil || v.ByETag {
			t.Errorf("%d bytes on SSE-KMS: %+v, %v; want a match by CRC-32C only", size, v, err)
		}
	}
}

// On an SSE-KMS bucket, nothing proves a listed part: a resume keeps none
// and sends them all again (the same ciphertext), and the archive is the file.
func TestResumeOnKMSSendsEveryPartAgain(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	s := newKMSStore()
	rec := r.interrupted(s, 3)
	res, err := r.putStandard(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != rec.ID || res.ResumedFrom != 0 {
		t.Errorf("resumed %d parts of %s; want none kept, under %s", res.ResumedFrom, res.ID, rec.ID)
	}
	_, keys, err := crypt.OpenID(r.master, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	var out bytes.Buffer
	if _, err := keys.Decrypt(&out, bytes.NewReader(body(t, s.Memory, res.ID))); err != nil || !bytes.Equal(out.Bytes(), r.data) {
		t.Fatalf("the archive is not the file: %v", err)
	}
}

// lostComplete completes the upload, then answers as S3 does to the SDK's
// retry of a Complete whose first answer was lost: NoSuchUpload. With
// headFails the HEAD that follows fails too: the network that lost the
// answer is still down.
type lostComplete struct {
	object.Store
	headFails bool
}

func (l *lostComplete) CompleteUpload(ctx context.Context, key, id string, parts []object.Part) error {
	if err := l.Store.CompleteUpload(ctx, key, id, parts); err != nil {
		return err
	}
	return fmt.Errorf("complete upload %s: NoSuchUpload: %w", key, object.ErrNotFound)
}

func (l *lostComplete) Head(ctx context.Context, key string) (object.Info, error) {
	if l.headFails {
		return object.Info{}, fmt.Errorf("head %s: connection reset: %w", key, object.ErrUnavailable)
	}
	return l.Store.Head(ctx, key)
}

// A put of stdin whose Complete succeeded, whose answer was lost, and whose
// object cannot be proved (the HEAD fails, or the ETags are SSE-KMS ones)
// must not say that nothing was stored: the archive may well be, under the
// ID the error names.
func TestLostCompleteThatCannotBeProvedIsUnconfirmed(t *testing.T) {
	master := bytes.Repeat([]byte{9}, crypt.MasterKeySize)
	data := bytes.Repeat([]byte("nightly "), 5<<20)
	for _, c := range []struct {
		name      string
		store     object.Store
		headFails bool
	}{
		{"head-fails", standardStore(), true},
		{"sse-kms", newKMSStore(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Put(t.Context(), &lostComplete{Store: c.store, headFails: c.headFails}, lend(master),
				Source{R: bytes.NewReader(data), Name: "nightly.tar", Size: -1}, PutOptions{StorageClass: "STANDARD"})
			var stored []string
			c.store.List(t.Context(), func(i object.Info) error { stored = append(stored, i.Key); return nil })
			if len(stored) != 1 {
				t.Fatalf("objects in the bucket: %v", stored)
			}
			if !errors.Is(err, object.ErrUnconfirmed) || errors.Is(err, ErrUploadAborted) || !strings.Contains(err.Error(), stored[0]) {
				t.Fatalf("put = %v; want ErrUnconfirmed naming %s", err, stored[0])
			}
		})
	}
}
