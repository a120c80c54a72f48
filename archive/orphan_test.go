package archive

import (
	"context"
	"errors"
	"testing"

	"github.com/ogive-project/ogive/object"
)

// TestRecordWithoutUploadIDAbortsItsKeysUploads: ogive died after S3 created
// the upload and before the record was saved again with its upload ID, so
// the record has none while the bucket holds the upload (and a part of it).
// The next put restarts, and must abort that upload rather than leave it
// billed until a lifecycle rule ends it.
func TestRecordWithoutUploadIDAbortsItsKeysUploads(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	rec := r.interrupted(mem, 2)
	ctx := context.Background()
	// A second upload at the key, as a CreateMultipartUpload sent again after
	// a lost answer makes.
	if _, err := mem.CreateUpload(ctx, rec.ID, object.PutOptions{StorageClass: "STANDARD"}); err != nil {
		t.Fatal(err)
	}
	rec.UploadID = ""
	clear(rec.Digests)
	if err := r.states.Save(rec, r.recordKey()); err != nil {
		t.Fatal(err)
	}
	res, err := r.putStandard(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID == rec.ID {
		t.Fatal("resumed a record without an upload ID")
	}
	if ups, _ := mem.ListUploads(ctx); len(ups) != 0 {
		t.Fatalf("uploads left at the recorded key: %v", ups)
	}
}

// lostCreate creates the upload and then fails, as a CreateMultipartUpload
// whose answer was lost does.
type lostCreate struct{ object.Store }

func (l *lostCreate) CreateUpload(ctx context.Context, key string, o object.PutOptions) (string, error) {
	if _, err := l.Store.CreateUpload(ctx, key, o); err != nil {
		return "", err
	}
	return "", errInjected
}

// TestLostCreateAnswerLeavesNoUpload: a put whose CreateMultipartUpload
// answer is lost fails, and leaves neither the upload S3 made nor a record.
func TestLostCreateAnswerLeavesNoUpload(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	if _, err := r.putStandard(&lostCreate{mem}, nil); !errors.Is(err, errInjected) {
		t.Fatalf("put with a lost create answer: %v", err)
	}
	if ups, _ := mem.ListUploads(context.Background()); len(ups) != 0 {
		t.Fatalf("uploads left: %v", ups)
	}
	if _, err := r.record(); err == nil {
		t.Fatal("a record was left")
	}
}
