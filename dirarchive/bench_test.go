package dirarchive_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/extract"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/resume"
)

func lend(master []byte) archive.MasterKey {
	return func(use func([]byte) error) error { return use(master) }
}

// putTree makes a tree of n files of size bytes in 100 directories and
// puts it into a memory store.
func putTree(tb testing.TB, n, size int) (object.Store, []byte, string, string, int64) {
	tb.Helper()
	root := filepath.Join(tb.TempDir(), "tree")
	data := make([]byte, size)
	for i := range n {
		p := filepath.Join(root, fmt.Sprintf("d%02d", i%100), fmt.Sprintf("f%06d", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		for j := range data {
			data[j] = byte(rand.N(256))
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	master := make([]byte, crypt.MasterKeySize)
	s := object.NewMemory(time.Now, func(object.Tier) time.Duration { return 0 }, time.Hour)
	states, err := resume.Open(filepath.Join(tb.TempDir(), "state"))
	if err != nil {
		tb.Fatal(err)
	}
	t, err := dirarchive.Walk(root)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := dirarchive.Put(context.Background(), s, lend(master), t, "tree.tar", archive.ResumableOptions{
		PutOptions: archive.PutOptions{StorageClass: "STANDARD"}, States: states, Bucket: "b"})
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Head(context.Background(), res.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return s, master, res.ID, root, info.Size
}

// BenchmarkExtract10k extracts a tree of 10,000 files of 100 KiB from a
// memory store: the work of "get ID DEST" on a directory archive but the
// network's.
func BenchmarkExtract10k(b *testing.B) {
	if err := extract.Available(); err != nil {
		b.Skip(err)
	}
	s, master, id, _, size := putTree(b, 10000, 100<<10)
	ix, err := dirarchive.ReadIndex(context.Background(), s, lend(master), id)
	if err != nil {
		b.Fatal(err)
	}
	_, _, keys, err := crypt.OpenIDMeta(master, id)
	if err != nil {
		b.Fatal(err)
	}
	defer keys.Destroy()
	b.SetBytes(ix.StreamSize)
	for i := 0; b.Loop(); i++ {
		dest := b.TempDir()
		if _, err := dirarchive.Extract(context.Background(), s, keys, id, size, ix, dest, "tree", dirarchive.GetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut10k puts a tree of 10,000 files of 100 KiB into a memory
// store: the client's work of "put DIR" but the network's.
func BenchmarkPut10k(b *testing.B) {
	_, _, _, root, _ := putTree(b, 10000, 100<<10)
	master := make([]byte, crypt.MasterKeySize)
	b.ResetTimer()
	for b.Loop() {
		s := object.NewMemory(time.Now, func(object.Tier) time.Duration { return 0 }, time.Hour)
		states, err := resume.Open(filepath.Join(b.TempDir(), "state"))
		if err != nil {
			b.Fatal(err)
		}
		t, err := dirarchive.Walk(root)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(t.Size())
		if _, err := dirarchive.Put(context.Background(), s, lend(master), t, "tree.tar", archive.ResumableOptions{
			PutOptions: archive.PutOptions{StorageClass: "STANDARD"}, States: states, Bucket: "b"}); err != nil {
			b.Fatal(err)
		}
	}
}
