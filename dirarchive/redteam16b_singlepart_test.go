package dirarchive_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/object"
)

// failArchivePut is a store whose requests that would create the archive
// object itself (not its index) fail: the network went down during the one
// PUT of a small directory.
type failArchivePut struct{ object.Store }

var errRedteamNet = errors.New("redteam: the network went down")

func (s failArchivePut) Put(ctx context.Context, key string, body []byte, o object.PutOptions) error {
	if !strings.HasSuffix(key, dirarchive.IndexSuffix) {
		return errRedteamNet
	}
	return s.Store.Put(ctx, key, body, o)
}

func (s failArchivePut) CreateUpload(ctx context.Context, key string, o object.PutOptions) (string, error) {
	if !strings.HasSuffix(key, dirarchive.IndexSuffix) {
		return "", errRedteamNet
	}
	return s.Store.CreateUpload(ctx, key, o)
}

// TestRedteam16bSinglePartFailureDeletesWrongKey: a put of a small
// directory (one request, archive.SinglePart) stores the index in
// BeforeObject, then its PUT fails. dirarchive.Put means to drop the index
// ("a put of one request has nothing to resume: its index goes too") with
// s.Delete(IndexKey(res.ID)), but archive.put returns an empty ID on
// failure: the key deleted is ".index", not the index. The index of an
// archive that never exists stays in the bucket for good (no listing shows
// it, no command removes it), and an unrelated object named ".index" in
// the bucket (another tool's) is deleted: lost data.
func TestRedteam16bSinglePartFailureDeletesWrongKey(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "small")
	os.MkdirAll(root, 0o755)
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, crypt.MasterKeySize)
	mem := object.NewMemory(time.Now, func(object.Tier) time.Duration { return 0 }, time.Hour)
	// Someone else's object, which ogive must never touch.
	if err := mem.Put(ctx, ".index", []byte("another tool's data"), object.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := dirarchive.Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if !archive.SinglePart(tr.Size()) {
		t.Fatal("the tree is not sent in one request; the test needs it to be")
	}
	if _, err := dirarchive.Put(ctx, failArchivePut{mem}, lend(master), tr, "small.tar", archive.ResumableOptions{}); err == nil {
		t.Fatal("the put did not fail")
	}
	if _, err := mem.Head(ctx, ".index"); err != nil {
		t.Errorf("an unrelated object \".index\" was deleted by the failed put: %v", err)
	}
	mem.List(ctx, func(i object.Info) error {
		if id, ok := strings.CutSuffix(i.Key, dirarchive.IndexSuffix); ok && id != "" {
			if _, err := mem.Head(ctx, id); errors.Is(err, object.ErrNotFound) {
				t.Errorf("the failed put left the index %s of an archive that does not exist", i.Key)
			}
		}
		return nil
	})
}
