package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// memWriterAt is a WriterAt of a fixed size that is not a file, so
// DownloadAt cannot ask the kernel to write it back.
type memWriterAt struct{ b []byte }

func (m *memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, errors.New("write past the end")
	}
	return copy(m.b[off:], p), nil
}

// TestDownloadAtFile downloads, in small parallel ranges, into a file,
// where each range is handed to the kernel's writeback as it lands, and
// into a plain WriterAt: both must hold the file.
func TestDownloadAtFile(t *testing.T) {
	master := bytes.Repeat([]byte{3}, crypt.MasterKeySize)
	plain := bytes.Repeat([]byte("0123456789abcdef"), 10*crypt.PackageSize/16+123)
	s := object.NewMemory(nil, nil, 0)
	id, _, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(plain), Name: "f", Size: int64(len(plain))}, PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		t.Fatal(err)
	}
	_, keys, err := crypt.OpenID(master, id)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	cipherSize := crypt.EncryptedSize(int64(len(plain)))
	o := DownloadOptions{Concurrency: 3, ChunkPackages: 2}

	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := DownloadAt(t.Context(), s, keys, id, cipherSize, f, o); err != nil || n != int64(len(plain)) {
		t.Fatalf("DownloadAt into a file = %d, %v; want %d bytes", n, err, len(plain))
	}
	if got, err := os.ReadFile(f.Name()); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("file holds %d bytes (%v), not the plaintext", len(got), err)
	}

	m := memWriterAt{b: make([]byte, len(plain))}
	if n, err := DownloadAt(t.Context(), s, keys, id, cipherSize, &m, o); err != nil || n != int64(len(plain)) {
		t.Fatalf("DownloadAt into memory = %d, %v; want %d bytes", n, err, len(plain))
	}
	if !bytes.Equal(m.b, plain) {
		t.Errorf("memory holds %d bytes, not the plaintext", len(m.b))
	}
}

// TestDownloadStreamRecyclesBuffers streams many small ranges with few
// buffers, so each buffer carries several ranges in turn: the output must
// still be the file, in order.
func TestDownloadStreamRecyclesBuffers(t *testing.T) {
	master := bytes.Repeat([]byte{4}, crypt.MasterKeySize)
	plain := make([]byte, 13*crypt.PackageSize+77)
	for i := range plain {
		plain[i] = byte(i / crypt.PackageSize * 31)
	}
	s := object.NewMemory(nil, nil, 0)
	id, _, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(plain), Name: "s", Size: int64(len(plain))}, PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		t.Fatal(err)
	}
	_, keys, err := crypt.OpenID(master, id)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	var got bytes.Buffer
	n, err := DownloadStream(t.Context(), s, keys, id, crypt.EncryptedSize(int64(len(plain))), &got, DownloadOptions{Concurrency: 2, ChunkPackages: 1})
	if err != nil || n != int64(len(plain)) {
		t.Fatalf("DownloadStream = %d, %v; want %d bytes", n, err, len(plain))
	}
	if !bytes.Equal(got.Bytes(), plain) {
		t.Error("streamed bytes differ from the file")
	}
}

// failingGets is a store whose HEAD answers but whose every GET fails for
// good, as for an object deleted after its HEAD.
type failingGets struct{ object.Store }

func (failingGets) Get(_ context.Context, key string, _, _ int64) (io.ReadCloser, error) {
	return nil, fmt.Errorf("get %s: %w", key, object.ErrNotFound)
}

// TestHugeClaimedSizeAllocatesLittle: the size a HEAD answer claims (a
// malicious endpoint, or anyone on the path of a plain http:// one) decides
// how many ranges a download has. The largest the format accepts, 2³²
// packages, is 33.5 million 8 MiB ranges; a download must not hold a
// descriptor, a channel or a buffer for each of them before its first GET,
// which fails here.
func TestHugeClaimedSizeAllocatesLittle(t *testing.T) {
	size := int64(1<<32) * crypt.MaxPackageLen
	s, id, keys, _ := stored(t, []byte("small"))
	if _, err := keys.PlainSize(size); err != nil {
		t.Fatalf("the format refuses %d bytes: %v", size, err)
	}
	store := failingGets{s}
	for _, tc := range []struct {
		name     string
		download func() error
	}{
		{"DownloadAt", func() error {
			_, err := DownloadAt(t.Context(), store, keys, id, size, discardAt{}, DownloadOptions{})
			return err
		}},
		{"DownloadAt-file", func() error {
			f, err := os.Create(filepath.Join(t.TempDir(), "out"))
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = DownloadAt(t.Context(), store, keys, id, size, f, DownloadOptions{})
			return err
		}},
		{"DownloadStream", func() error {
			_, err := DownloadStream(t.Context(), store, keys, id, size, io.Discard, DownloadOptions{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			began := time.Now()
			err := tc.download()
			took := time.Since(began)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, object.ErrNotFound) {
				t.Fatalf("download: %v, want ErrNotFound", err)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d KiB allocated in %v", allocated>>10, took)
			if allocated > 8<<20 {
				t.Errorf("allocated %d MiB before the first GET failed", allocated>>20)
			}
		})
	}
}

// TestLayoutCoversTheObject: the chunks, each computed from its index, are
// whole packages, one after the other, covering the object exactly, and
// only the last is final.
func TestLayoutCoversTheObject(t *testing.T) {
	pkg := int64(crypt.MaxPackageLen)
	for _, perChunk := range []int{1, 2, 3, 128} {
		for _, size := range []int64{1, pkg - 1, pkg, pkg + 1, 2 * pkg, 128 * pkg, 128*pkg + 17, 385*pkg - 5} {
			l := newLayout(size, perChunk)
			var off int64
			for i := range l.count() {
				c := l.chunk(i)
				first := off / pkg
				if c.index != i || c.off != off || off%pkg != 0 || c.first != uint64(first) ||
					c.plainOff != first*crypt.PackageSize || c.n <= 0 || c.n > int64(perChunk)*pkg ||
					c.final != (i == l.count()-1) || (!c.final && c.n != int64(perChunk)*pkg) {
					t.Fatalf("size %d, %d per chunk: chunk %d is %+v", size, perChunk, i, c)
				}
				off += c.n
			}
			if off != size {
				t.Errorf("size %d, %d per chunk: chunks cover %d bytes", size, perChunk, off)
			}
		}
	}
}

// slowGets delays each GET by a random time, so that ranges complete out of
// order.
type slowGets struct{ object.Store }

func (s slowGets) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	time.Sleep(time.Duration(rand.N(2000)) * time.Microsecond)
	return s.Store.Get(ctx, key, off, n)
}

// TestDownloadStreamInOrder: ranges that complete in any order are written
// in order, each through the channel it shares with every Concurrency-th
// range.
func TestDownloadStreamInOrder(t *testing.T) {
	plain := randomPlain(t, 29*crypt.PackageSize+5)
	s, id, keys, cipher := stored(t, plain)
	for _, concurrency := range []int{1, 2, 3, 8, 40} {
		var got bytes.Buffer
		var reported atomic.Int64
		o := DownloadOptions{Concurrency: concurrency, ChunkPackages: 1, OnBytes: func(n int64) { reported.Add(n) }}
		n, err := DownloadStream(t.Context(), slowGets{s}, keys, id, int64(len(cipher)), &got, o)
		if err != nil || n != int64(len(plain)) || reported.Load() != n {
			t.Fatalf("concurrency %d: %d bytes, %d reported, %v; want %d", concurrency, n, reported.Load(), err, len(plain))
		}
		if !bytes.Equal(got.Bytes(), plain) {
			t.Errorf("concurrency %d: streamed bytes differ from the file", concurrency)
		}
	}
}

// lingeringGets fails the GET of range 0 once another range's GET has
// answered, and serves the others through bodies that read slowly and
// count themselves while open.
type lingeringGets struct {
	object.Store
	open     atomic.Int32
	answered chan struct{}
	once     sync.Once
}

func (s *lingeringGets) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if off == 0 {
		select {
		case <-s.answered:
		case <-time.After(5 * time.Second):
		}
		return nil, fmt.Errorf("get %s: %w", key, object.ErrNotFound)
	}
	body, err := s.Store.Get(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	s.open.Add(1)
	s.once.Do(func() { close(s.answered) })
	return &slowBody{ReadCloser: body, open: &s.open}, nil
}

type slowBody struct {
	io.ReadCloser
	open *atomic.Int32
}

func (b *slowBody) Read(p []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	return b.ReadCloser.Read(p)
}

func (b *slowBody) Close() error {
	b.open.Add(-1)
	return b.ReadCloser.Close()
}

// TestDownloadStreamEndsItsWork: when a range fails, DownloadStream returns
// only after every range in flight has stopped using the keys and the
// store, since the caller destroys the keys then (get's deferred Destroy).
func TestDownloadStreamEndsItsWork(t *testing.T) {
	plain := randomPlain(t, 8*crypt.PackageSize)
	s, id, keys, cipher := stored(t, plain)
	ls := &lingeringGets{Store: s, answered: make(chan struct{})}
	o := DownloadOptions{Concurrency: 4, ChunkPackages: 1}
	if _, err := DownloadStream(t.Context(), ls, keys, id, int64(len(cipher)), io.Discard, o); !errors.Is(err, object.ErrNotFound) {
		t.Fatalf("DownloadStream: %v, want ErrNotFound", err)
	}
	if n := ls.open.Load(); n != 0 {
		t.Errorf("DownloadStream returned with %d ranges still being read", n)
	}
}
