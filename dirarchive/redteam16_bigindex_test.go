package dirarchive_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/object"
)

// countingStore counts the bytes read from the objects it serves.
type countingStore struct {
	object.Store
	read int64
}

type countingBody struct {
	io.ReadCloser
	n *int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	*b.n += int64(n)
	return n, err
}

func (s *countingStore) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return countingBody{rc, &s.read}, nil
}

// TestRedteam16PlantedHugeIndex: someone who can write to the bucket, and
// has no key, replaces a directory archive's index with 64 MiB of zeros (up
// to MaxIndexSize, 1 GiB, would do). Every "ogive ls", "get" and "verify"
// of the archive then downloads the whole object (S3 bills the transfer)
// and holds it in memory before decrypting its first package, which fails:
// the index's packages could be authenticated as they arrive, so that a
// forged index costs one package, not a gigabyte.
func TestRedteam16PlantedHugeIndex(t *testing.T) {
	s, master, id, _, _ := putTree(t, 3, 10)
	ctx := context.Background()
	if err := s.Delete(ctx, dirarchive.IndexKey(id)); err != nil {
		t.Fatal(err)
	}
	const planted = 64 << 20
	if err := s.Put(ctx, dirarchive.IndexKey(id), bytes.Repeat([]byte{0}, planted), object.PutOptions{StorageClass: "STANDARD"}); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cs := &countingStore{Store: s}
	_, err := dirarchive.ReadIndex(ctx, cs, lend(master), id)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, crypt.ErrAuthentication) {
		t.Logf("ReadIndex: %v", err)
	}
	if err == nil {
		t.Fatal("a planted index was accepted")
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("ReadIndex of a planted index of %d MiB: %v; %d MiB downloaded, %d MiB allocated", planted>>20, err, cs.read>>20, alloc>>20)
	if cs.read > 1<<20 {
		t.Errorf("refusing a forged index of %d MiB downloaded %d MiB of it", planted>>20, cs.read>>20)
	}
	if alloc > 8<<20 {
		t.Errorf("refusing a forged index of %d MiB allocated %d MiB (read whole before its first package was checked)", planted>>20, alloc>>20)
	}
}
