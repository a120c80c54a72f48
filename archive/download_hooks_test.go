package archive

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// A resumed download reports the ranges it keeps once, up front, through
// OnSkipped, and OnBytes then counts only what it fetches: a bar starts
// at the offset and its rate counts new bytes.
func TestDownloadReportsSkippedUpFront(t *testing.T) {
	d := newTestDownload(t)
	final := filepath.Join(t.TempDir(), "restored.bin")
	d.interrupted(t, final)

	tg, err := NewTarget(final, false)
	if err != nil {
		t.Fatal(err)
	}
	skip, done, err := tg.Resume(d.keys, d.info, testChunkPackages)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var skipped, fetched int64
	calls := 0
	o := DownloadOptions{Concurrency: 2, ChunkPackages: testChunkPackages, Skip: skip, Done: done,
		OnSkipped: func(n int64) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if fetched != 0 {
				t.Error("OnSkipped after OnBytes")
			}
			skipped += n
		},
		OnBytes: func(n int64) { mu.Lock(); fetched += n; mu.Unlock() },
	}
	n, err := DownloadAt(t.Context(), d.s, d.keys, d.id, d.info.Size, tg.File(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Commit(); err != nil {
		t.Fatal(err)
	}
	d.checkFinal(t, final)
	want := int64(testChunks/2) * testChunkPackages * crypt.PackageSize
	if calls != 1 || skipped != want {
		t.Errorf("OnSkipped: %d calls, %d bytes; want 1 call, %d bytes", calls, skipped, want)
	}
	if skipped+fetched != n || n != int64(len(d.plain)) {
		t.Errorf("skipped %d + fetched %d, of %d (plaintext %d)", skipped, fetched, n, len(d.plain))
	}
}

// cutBodyStore fails the first ranged GETs it is asked for, as a dropped
// connection does.
type cutBodyStore struct {
	object.Store
	cut atomic.Int32
}

func (f *cutBodyStore) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if f.cut.Add(-1) >= 0 {
		return nil, errors.New("connection reset by peer")
	}
	return f.Store.Get(ctx, key, off, n)
}

// Each range fetched again after a transient failure is reported.
func TestDownloadReportsRetries(t *testing.T) {
	d := newTestDownload(t)
	fs := &cutBodyStore{Store: d.s}
	fs.cut.Store(2)
	var retries atomic.Int32
	o := DownloadOptions{Concurrency: 1, ChunkPackages: testChunkPackages, OnRetry: func() { retries.Add(1) }}
	fastRetries(&o)
	var w discardAt
	if _, err := DownloadAt(t.Context(), fs, d.keys, d.id, d.info.Size, w, o); err != nil {
		t.Fatal(err)
	}
	if retries.Load() != 2 {
		t.Errorf("%d retries reported, want 2", retries.Load())
	}
}
