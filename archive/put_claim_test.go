package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/ogive-project/ogive/object"
)

// TestPutClaimsIDBeforeCreate: Put hands the storage ID to Claim before the
// multipart upload exists, and releases it only once the upload is complete;
// a stream of one request claims nothing; a refused claim stops the Put
// before anything reaches the bucket.
func TestPutClaimsIDBeforeCreate(t *testing.T) {
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master)
	data := make([]byte, 17<<20) // two parts
	rand.Read(data)

	mem := standardStore()
	var claimed []string
	released := 0
	o := PutOptions{Concurrency: 2, StorageClass: "STANDARD", Claim: func(id string) (func(), error) {
		if ups, _ := mem.ListUploads(ctx); len(ups) != 0 {
			t.Errorf("claimed after the upload was created: %v", ups)
		}
		claimed = append(claimed, id)
		return func() {
			if _, err := mem.Head(ctx, id); err != nil {
				t.Errorf("released before the object was complete: %v", err)
			}
			released++
		}, nil
	}}
	id, _, err := Put(ctx, mem, lend(master), Source{R: bytes.NewReader(data), Name: "s.tar", Size: -1}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 1 || claimed[0] != id || released != 1 {
		t.Fatalf("claimed %v, released %d times, for %s", claimed, released, id)
	}

	claimed = nil
	if _, _, err := Put(ctx, mem, lend(master), Source{R: bytes.NewReader(data[:1000]), Name: "small", Size: -1}, o); err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 0 {
		t.Fatalf("a one-request put claimed %v", claimed)
	}

	errHeld := errors.New("held elsewhere")
	o.Claim = func(string) (func(), error) { return nil, errHeld }
	before := 0
	mem.List(ctx, func(object.Info) error { before++; return nil })
	_, _, err = Put(ctx, mem, lend(master), Source{R: bytes.NewReader(data), Name: "s.tar", Size: -1}, o)
	if !errors.Is(err, errHeld) {
		t.Fatalf("put with a refused claim: %v", err)
	}
	after := 0
	mem.List(ctx, func(object.Info) error { after++; return nil })
	if ups, _ := mem.ListUploads(ctx); len(ups) != 0 || after != before {
		t.Fatalf("a refused claim reached the bucket: %d uploads, %d objects (had %d)", len(ups), after, before)
	}
}

// abortingStore aborts the upload, as "ogive uploads --abort" or a lifecycle
// rule elsewhere would, just before part 2 is sent.
type abortingStore struct{ object.Store }

func (a *abortingStore) UploadPart(ctx context.Context, key, uploadID string, n int32, body object.PartBody) (object.Part, error) {
	if n == 2 {
		a.Store.AbortUpload(ctx, key, uploadID)
	}
	return a.Store.UploadPart(ctx, key, uploadID, n, body)
}

// TestPutAbortedFromElsewhere: an upload aborted by someone else while Put
// sends it fails with ErrUploadAborted, not with the ErrNotFound of a wrong
// storage ID.
func TestPutAbortedFromElsewhere(t *testing.T) {
	master := make([]byte, 32)
	rand.Read(master)
	data := make([]byte, 40<<20)
	rand.Read(data)
	_, _, err := Put(context.Background(), &abortingStore{standardStore()}, lend(master),
		Source{R: bytes.NewReader(data), Name: "s.tar", Size: -1}, PutOptions{Concurrency: 1})
	if !errors.Is(err, ErrUploadAborted) || errors.Is(err, object.ErrNotFound) {
		t.Fatalf("put of an upload aborted meanwhile: %v", err)
	}
}

// TestPutLostCreateAnswerLeavesNoUpload: a Put of a stream whose
// CreateMultipartUpload answer is lost fails and leaves no upload behind.
func TestPutLostCreateAnswerLeavesNoUpload(t *testing.T) {
	master := make([]byte, 32)
	rand.Read(master)
	data := make([]byte, 17<<20)
	rand.Read(data)
	mem := standardStore()
	_, _, err := Put(context.Background(), &lostCreate{mem}, lend(master),
		Source{R: bytes.NewReader(data), Name: "s.tar", Size: -1}, PutOptions{})
	if !errors.Is(err, errInjected) {
		t.Fatalf("put with a lost create answer: %v", err)
	}
	if ups, _ := mem.ListUploads(context.Background()); len(ups) != 0 {
		t.Fatalf("uploads left: %v", ups)
	}
}

// TestResumableUploadAbortedFromElsewhere: the upload of a file aborted by
// someone else mid-way fails with ErrUploadAborted, not a missing storage ID,
// and the same call then starts afresh and stores the file.
func TestResumableUploadAbortedFromElsewhere(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	if _, err := r.putStandard(&abortingStore{mem}, nil); !errors.Is(err, ErrUploadAborted) || errors.Is(err, object.ErrNotFound) {
		t.Fatalf("put of an upload aborted meanwhile: %v", err)
	}
	res, err := r.putStandard(mem, nil)
	if err != nil || res.ResumedFrom != 0 {
		t.Fatalf("the next put: %+v, %v", res, err)
	}
}
