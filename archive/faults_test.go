package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// stored puts plain as a readable (STANDARD) archive in a memory store and
// returns the store, the ID, its keys and the ciphertext.
func stored(t *testing.T, plain []byte) (*object.Memory, string, crypt.Decrypter, []byte) {
	t.Helper()
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	s := object.NewMemory(nil, nil, 0)
	ctx := context.Background()
	id, _, err := Put(ctx, s, lend(master), Source{R: bytes.NewReader(plain), Name: "f", Size: int64(len(plain))},
		PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		t.Fatal(err)
	}
	_, keys, err := crypt.OpenID(master, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(keys.Destroy)
	body, err := s.Get(ctx, id, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	cipher, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return s, id, keys, cipher
}

// writes records every WriteAt, as a block device would receive it.
type writes struct {
	mu      sync.Mutex
	records []record
}

type record struct {
	off  int64
	data []byte
}

func (w *writes) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.records = append(w.records, record{off, bytes.Clone(p)})
	return len(p), nil
}

// check fails the test for any write that was not the plaintext at its
// offset, and returns the image the writes leave, in order.
func (w *writes) check(t *testing.T, plain []byte) []byte {
	t.Helper()
	img := make([]byte, len(plain))
	for _, r := range w.records {
		end := r.off + int64(len(r.data))
		if end > int64(len(plain)) || !bytes.Equal(r.data, plain[r.off:end]) {
			t.Errorf("wrote %d bytes at %d that are not the plaintext", len(r.data), r.off)
			continue
		}
		copy(img[r.off:], r.data)
	}
	return img
}

func randomPlain(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func fastRetries(o *DownloadOptions) *[]time.Duration {
	var slept []time.Duration
	var mu sync.Mutex
	o.sleep = func(d time.Duration) { mu.Lock(); slept = append(slept, d); mu.Unlock() }
	return &slept
}

// TestDownloadWritesOnlyAuthenticatedBytes tampers with a stored object in
// every way a bucket owner could and downloads it in place (as into a block
// device) and as a stream: the download fails with ErrAuthentication, and
// every byte written is the plaintext at its offset.
func TestDownloadWritesOnlyAuthenticatedBytes(t *testing.T) {
	ctx := context.Background()
	plain := randomPlain(t, 9*crypt.PackageSize+100) // ten packages
	s, id, keys, cipher := stored(t, plain)
	_, _, _, otherCipher := stored(t, randomPlain(t, len(plain)))
	pkg := crypt.MaxPackageLen
	flip := func(off int) []byte { b := bytes.Clone(cipher); b[off] ^= 0x40; return b }
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"flip/first", flip(0)},
		{"flip/package-5", flip(5*pkg + pkg/2)},
		{"flip/last", flip(len(cipher) - 1)},
		{"truncate/byte", cipher[:len(cipher)-1]},
		{"truncate/packages", cipher[:7*pkg]},
		{"truncate/empty", nil},
		{"append/byte", append(bytes.Clone(cipher), 1)},
		{"append/package", append(bytes.Clone(cipher), cipher[:pkg]...)},
		{"reorder/packages", append(append(bytes.Clone(cipher[pkg:2*pkg]), cipher[:pkg]...), cipher[2*pkg:]...)},
		{"other-archive", otherCipher},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Stores never overwrite (If-None-Match: *): replace by hand.
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, id, tc.body, object.PutOptions{StorageClass: "STANDARD"}); err != nil {
				t.Fatal(err)
			}
			for _, perChunk := range []int{1, 3, 128} {
				var w writes
				o := DownloadOptions{Concurrency: 3, ChunkPackages: perChunk}
				fastRetries(&o)
				_, err := DownloadAt(ctx, s, keys, id, int64(len(tc.body)), &w, o)
				if !errors.Is(err, crypt.ErrAuthentication) {
					t.Fatalf("%d packages per range: DownloadAt: %v, want ErrAuthentication", perChunk, err)
				}
				w.check(t, plain)
				var stream bytes.Buffer
				o2 := DownloadOptions{Concurrency: 3, ChunkPackages: perChunk}
				fastRetries(&o2)
				if _, err := DownloadStream(ctx, s, keys, id, int64(len(tc.body)), &stream, o2); !errors.Is(err, crypt.ErrAuthentication) {
					t.Fatalf("%d packages per range: DownloadStream: %v, want ErrAuthentication", perChunk, err)
				}
				if !bytes.HasPrefix(plain, stream.Bytes()) {
					t.Errorf("%d packages per range: the stream got %d bytes that are not a prefix of the plaintext", perChunk, stream.Len())
				}
			}
		})
	}
}

// flakyStore cuts the body of the first failures ranged GETs of each range
// half-way, as a dropped connection does, and counts the attempts.
type flakyStore struct {
	object.Store
	failures int
	err      error // returned by Get itself instead of a cut body, when set

	mu       sync.Mutex
	attempts map[int64]int
}

func (f *flakyStore) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	f.mu.Lock()
	if f.attempts == nil {
		f.attempts = map[int64]int{}
	}
	f.attempts[off]++
	attempt := f.attempts[off]
	f.mu.Unlock()
	if attempt > f.failures {
		return f.Store.Get(ctx, key, off, n)
	}
	if f.err != nil {
		return nil, f.err
	}
	body, err := f.Store.Get(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(body, n/2), body}, nil
}

func TestDownloadRetriesDroppedConnections(t *testing.T) {
	ctx := context.Background()
	plain := randomPlain(t, 6*crypt.PackageSize)
	s, id, keys, cipher := stored(t, plain)
	flaky := &flakyStore{Store: s, failures: 2}
	var w writes
	o := DownloadOptions{Concurrency: 2, ChunkPackages: 2}
	slept := fastRetries(&o)
	n, err := DownloadAt(ctx, flaky, keys, id, int64(len(cipher)), &w, o)
	if err != nil || n != int64(len(plain)) {
		t.Fatalf("DownloadAt: %d, %v", n, err)
	}
	if got := w.check(t, plain); !bytes.Equal(got, plain) {
		t.Fatal("the download after retries differs from the plaintext")
	}
	for off, a := range flaky.attempts {
		if a != 3 {
			t.Errorf("range at %d: %d attempts, want 3", off, a)
		}
	}
	// Two waits per range, growing.
	if len(*slept) != 2*len(flaky.attempts) {
		t.Fatalf("slept %d times for %d ranges", len(*slept), len(flaky.attempts))
	}
	sort.Slice(*slept, func(i, j int) bool { return (*slept)[i] < (*slept)[j] })
	if first, last := (*slept)[0], (*slept)[len(*slept)-1]; first <= 0 || last <= first {
		t.Errorf("backoff does not grow: %v", *slept)
	}
}

// TestDownloadGivesUp: a range that keeps failing is tried a bounded number
// of times; errors that retrying cannot fix are not retried at all.
func TestDownloadGivesUp(t *testing.T) {
	ctx := context.Background()
	plain := randomPlain(t, 3*crypt.PackageSize)
	s, id, keys, cipher := stored(t, plain)
	for _, tc := range []struct {
		name     string
		store    *flakyStore
		attempts int
		want     error
	}{
		{"dropped-connection", &flakyStore{Store: s, failures: 1000}, 4, errShortBody},
		{"not-found", &flakyStore{Store: s, failures: 1000, err: object.ErrNotFound}, 1, object.ErrNotFound},
		{"not-restored", &flakyStore{Store: s, failures: 1000, err: object.ErrNotRestored}, 1, object.ErrNotRestored},
		{"credentials", &flakyStore{Store: s, failures: 1000, err: object.ErrCredentials}, 1, object.ErrCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w writes
			o := DownloadOptions{Concurrency: 1, ChunkPackages: 128}
			fastRetries(&o)
			_, err := DownloadAt(ctx, tc.store, keys, id, int64(len(cipher)), &w, o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("DownloadAt: %v, want %v", err, tc.want)
			}
			if got := tc.store.attempts[0]; got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
			w.check(t, plain) // only the packages that authenticated before the cut
		})
	}
}

// TestDownloadCancelled stops at once when the context is cancelled,
// without retrying.
func TestDownloadCancelled(t *testing.T) {
	plain := randomPlain(t, 3*crypt.PackageSize)
	s, id, keys, cipher := stored(t, plain)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	flaky := &flakyStore{Store: s, failures: 1000, err: context.Canceled}
	var w writes
	o := DownloadOptions{}
	slept := fastRetries(&o)
	if _, err := DownloadAt(ctx, flaky, keys, id, int64(len(cipher)), &w, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("DownloadAt: %v, want context.Canceled", err)
	}
	if len(*slept) != 0 {
		t.Errorf("slept %v after cancellation", *slept)
	}
}

// TestTargetNeverLeavesAPartialFile: until Commit, the download is a hidden
// 0600 file; Abort removes it, and Commit refuses to replace a file that
// appeared meanwhile.
func TestTargetNeverLeavesAPartialFile(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "restored.bin")
	tg, err := NewTarget(final, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.File().WriteAt([]byte("partial"), 0); err != nil {
		t.Fatal(err)
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 1 || es[0].Name()[0] != '.' {
		t.Fatalf("during the download the directory holds %v, want one hidden file", es)
	}
	if st, err := os.Stat(filepath.Join(dir, es[0].Name())); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("temporary file: %v, %v; want mode 0600", st.Mode(), err)
	}
	if _, err := os.Stat(final); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the final name exists before Commit: %v", err)
	}
	tg.Abort()
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Fatalf("Abort left %v", es)
	}

	d := newTestDownload(t)
	tg = d.downloaded(t, final, false)
	if err := os.WriteFile(final, []byte("appeared meanwhile"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tg.Commit(); !errors.Is(err, ErrExists) {
		t.Fatalf("Commit over a new file: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(final); string(b) != "appeared meanwhile" {
		t.Fatalf("the file that appeared was replaced: %q", b)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Fatalf("a refused Commit left %v", es)
	}
	if _, err := NewTarget(final, false); !errors.Is(err, ErrExists) {
		t.Fatalf("NewTarget over an existing file: %v, want ErrExists", err)
	}
}

// fullDisk fails every write, as a file on a full disk does.
type fullDisk struct{ calls int }

func (f *fullDisk) WriteAt(p []byte, off int64) (int, error) {
	f.calls++
	return 0, syscall.ENOSPC
}

// TestDownloadWriteErrorIsFinal: a destination that cannot be written is not
// a network failure; the range is not fetched again and the error is the
// destination's.
func TestDownloadWriteErrorIsFinal(t *testing.T) {
	plain := randomPlain(t, 3*crypt.PackageSize)
	s, id, keys, cipher := stored(t, plain)
	flaky := &flakyStore{Store: s}
	o := DownloadOptions{Concurrency: 1, ChunkPackages: 128}
	slept := fastRetries(&o)
	var disk fullDisk
	_, err := DownloadAt(context.Background(), flaky, keys, id, int64(len(cipher)), &disk, o)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("DownloadAt: %v, want ENOSPC", err)
	}
	if got := flaky.attempts[0]; got != 1 || len(*slept) != 0 {
		t.Errorf("%d attempts and %d waits, want 1 and 0", got, len(*slept))
	}
}

// The waits between attempts grow and are spread: each is within half of
// its nominal value and not all the same.
func TestRetryWait(t *testing.T) {
	for attempt := 1; attempt <= 3; attempt++ {
		nominal := time.Duration(1<<attempt) * 100 * time.Millisecond
		seen := map[time.Duration]bool{}
		for range 50 {
			d := retryWait(attempt)
			if d < nominal/2 || d >= nominal {
				t.Fatalf("attempt %d: wait %v outside [%v, %v)", attempt, d, nominal/2, nominal)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("attempt %d: every wait was the same", attempt)
		}
	}
}
