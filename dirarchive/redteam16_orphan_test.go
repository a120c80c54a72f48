package dirarchive_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/resume"
)

// failComplete is a store whose CompleteUpload fails while fail is set: a
// put cut (network, SIGKILL, Ctrl-C) after its index was stored and before
// its upload completed.
type failComplete struct {
	object.Store
	fail atomic.Bool
}

func (s *failComplete) CompleteUpload(ctx context.Context, key, uploadID string, parts []object.Part) error {
	if s.fail.Load() {
		return errors.New("redteam: the network went down")
	}
	return s.Store.CompleteUpload(ctx, key, uploadID, parts)
}

// TestRedteam16OrphanIndexAfterRestart: a put of a directory is cut after
// BeforeObject stored the index and before the upload completed. The tree
// then changes (a file is added), and the same command starts afresh under
// a new salt: it aborts the old upload (archive's restart), but nothing
// deletes the old salt's index. It stays in the bucket for good, in the
// STANDARD class: "ogive list" hides ".index" keys, "ogive uploads" no
// longer shows the upload it belonged to, and no command removes it (rm
// needs an archive). It also keeps telling a reader of the bucket how many
// entries the tree had. Only "uploads --abort", run before the next put,
// would have dropped it. The same happens with --no-resume, and when the
// walk, the parts or the index found a change.
func TestRedteam16OrphanIndexAfterRestart(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "tree")
	os.MkdirAll(root, 0o755)
	big := make([]byte, 20<<20)
	rand.Read(big)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, crypt.MasterKeySize)
	mem := object.NewMemory(time.Now, func(object.Tier) time.Duration { return 0 }, time.Hour)
	s := &failComplete{Store: mem}
	states, err := resume.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	opts := archive.ResumableOptions{PutOptions: archive.PutOptions{StorageClass: "STANDARD"}, States: states, Bucket: "b"}

	s.fail.Store(true)
	t1, err := dirarchive.Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dirarchive.Put(ctx, s, lend(master), t1, "tree.tar", opts); err == nil {
		t.Fatal("the first put was not cut")
	}
	s.fail.Store(false)

	if err := os.WriteFile(filepath.Join(root, "new.txt"), []byte("added since\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t2, err := dirarchive.Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dirarchive.Put(ctx, s, lend(master), t2, "tree.tar", opts)
	if err != nil {
		t.Fatalf("second put: %v", err)
	}

	if ups, err := mem.ListUploads(ctx); err != nil || len(ups) != 0 {
		t.Fatalf("uploads left: %v %v", ups, err)
	}
	var keys []string
	mem.List(ctx, func(i object.Info) error { keys = append(keys, i.Key); return nil })
	for _, k := range keys {
		id, ok := strings.CutSuffix(k, dirarchive.IndexSuffix)
		if !ok {
			continue
		}
		if _, err := mem.Head(ctx, id); errors.Is(err, object.ErrNotFound) {
			t.Errorf("the bucket keeps the index %s of an archive that will never exist (the archive put is %s)", k, res.ID)
		}
	}
}
