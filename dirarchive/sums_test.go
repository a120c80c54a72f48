package dirarchive_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
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

// failingParts fails UploadPart for the part numbers in fail, once each.
type failingParts struct {
	object.Store
	fail  map[int32]bool
	fired atomic.Int32
}

var errInjected = errors.New("injected")

func (f *failingParts) UploadPart(ctx context.Context, key, id string, n int32, b object.PartBody) (object.Part, error) {
	if f.fail[n] {
		f.fail[n] = false
		f.fired.Add(1)
		return object.Part{}, errInjected
	}
	return f.Store.UploadPart(ctx, key, id, n, b)
}

// TestIndexSums: the index's sums, taken from the parts' first passes, are
// the SHA-256 of every file, for files within a part and across parts, with
// parts sent in any order, and after a resume (whose kept parts are checked,
// and so scanned, again) or a put of one request.
func TestIndexSums(t *testing.T) {
	root := filepath.Join(t.TempDir(), "tree")
	sizes := []int{0, 1, 511, 512, 513, 65536, 100 << 10, 17 << 20, 3 << 20, 40 << 20, 7}
	want := map[string][32]byte{}
	for i, n := range sizes {
		p := filepath.Join(root, "d"+string(rune('a'+i%3)), "f"+string(rune('a'+i)))
		os.MkdirAll(filepath.Dir(p), 0o755)
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rand.N(256))
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(filepath.Dir(root), p)
		want[rel] = sha256.Sum256(data)
	}
	check := func(t *testing.T, s object.Store, master []byte, id string) {
		t.Helper()
		ix, err := dirarchive.ReadIndex(context.Background(), s, lend(master), id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range ix.Entries {
			if w, ok := want[e.Path]; ok {
				n++
				if e.SHA256 != w {
					t.Errorf("%s: sum %x, want %x", e.Path, e.SHA256[:6], w[:6])
				}
			}
		}
		if n != len(want) {
			t.Errorf("%d files in the index, want %d", n, len(want))
		}
	}
	master := make([]byte, crypt.MasterKeySize)
	for _, c := range []struct {
		name        string
		concurrency int
		fail        map[int32]bool
	}{
		{"in order", 1, nil},
		{"many at once", 8, nil},
		{"resumed", 2, map[int32]bool{3: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := object.NewMemory(time.Now, func(object.Tier) time.Duration { return 0 }, time.Hour)
			s := &failingParts{Store: mem, fail: c.fail}
			states, err := resume.Open(filepath.Join(t.TempDir(), "state"))
			if err != nil {
				t.Fatal(err)
			}
			put := func() (archive.PutResult, error) {
				tr, err := dirarchive.Walk(root)
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				return dirarchive.Put(context.Background(), s, lend(master), tr, "tree.tar", archive.ResumableOptions{
					PutOptions: archive.PutOptions{StorageClass: "STANDARD", Concurrency: c.concurrency}, States: states, Bucket: "b"})
			}
			res, err := put()
			if c.fail != nil {
				if !errors.Is(err, errInjected) {
					t.Fatalf("first put: %v", err)
				}
				res, err = put()
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.fail != nil && res.ResumedFrom == 0 {
				t.Fatalf("not resumed: %+v", res)
			}
			check(t, s, master, res.ID)
		})
	}
	t.Run("one request", func(t *testing.T) {
		small := filepath.Join(t.TempDir(), "small")
		os.MkdirAll(small, 0o755)
		os.WriteFile(filepath.Join(small, "x"), []byte("x"), 0o644)
		mem := object.NewMemory(time.Now, func(object.Tier) time.Duration { return 0 }, time.Hour)
		states, _ := resume.Open(filepath.Join(t.TempDir(), "state"))
		tr, err := dirarchive.Walk(small)
		if err != nil {
			t.Fatal(err)
		}
		res, err := dirarchive.Put(context.Background(), mem, lend(master), tr, "small.tar", archive.ResumableOptions{
			PutOptions: archive.PutOptions{StorageClass: "STANDARD"}, States: states, Bucket: "b"})
		if err != nil {
			t.Fatal(err)
		}
		ix, err := dirarchive.ReadIndex(context.Background(), mem, lend(master), res.ID)
		if err != nil || len(ix.Entries) != 2 || ix.Entries[1].SHA256 != sha256.Sum256([]byte("x")) || !strings.HasSuffix(ix.Entries[1].Path, "/x") {
			t.Fatalf("index of a one-request put: %+v, %v", ix, err)
		}
	})
}
