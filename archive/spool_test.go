package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// spoolModes runs fn with spool files made each way this system can: the
// unnamed O_TMPFILE files, and the named fallback (a file whose name is
// removed at once) that other systems, and file systems without O_TMPFILE,
// use.
func spoolModes(t *testing.T, fn func(t *testing.T)) {
	modes := []bool{false}
	if spoolTmpfile {
		modes = []bool{true, false}
	}
	for _, tmpfile := range modes {
		name := "named"
		if tmpfile {
			name = "tmpfile"
		}
		t.Run(name, func(t *testing.T) {
			defer func(was bool) { spoolTmpfile = was }(spoolTmpfile)
			spoolTmpfile = tmpfile
			fn(t)
		})
	}
}

// spoolFiles returns the files this process holds open in dir, with their
// permission bits: the spool files, named or not (/proc/self/fd links to
// "dir/#inode (deleted)" or "dir/.spool-… (deleted)").
func spoolFiles(t *testing.T, dir string) map[string]os.FileMode {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	open := map[string]os.FileMode{}
	for _, fd := range fds {
		link := "/proc/self/fd/" + fd.Name()
		target, err := os.Readlink(link)
		if err != nil || !strings.HasPrefix(target, dir+"/") {
			continue
		}
		st, err := os.Stat(link)
		if err != nil {
			continue // closed meanwhile
		}
		if st.Mode().IsRegular() {
			open[target] = st.Mode().Perm()
		}
	}
	return open
}

// dirNames lists dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// watchedSpool is a store that, as each part arrives, looks at the spool
// directory: which files the put holds open there, their modes, and what
// names the directory shows. It can fail a part, or hold one until the
// context ends.
type watchedSpool struct {
	object.Store
	t    *testing.T
	dir  string
	fail int32 // a part number to fail, or 0
	hang int32 // a part number to hold until ctx ends, or 0
	sent chan int32

	mu     sync.Mutex
	opened int                 // most spool files seen open at once
	modes  map[os.FileMode]int // permission bits of the files seen
	names  []string            // names seen in the directory
	sizes  map[int32]int64
}

func newWatchedSpool(t *testing.T, dir string) *watchedSpool {
	return &watchedSpool{Store: object.NewMemory(nil, nil, 0), t: t, dir: dir, modes: map[os.FileMode]int{},
		sizes: map[int32]int64{}, sent: make(chan int32, MaxParts)}
}

var errPartFailed = errors.New("part refused by the test")

func (w *watchedSpool) UploadPart(ctx context.Context, key, id string, n int32, body object.PartBody) (object.Part, error) {
	files := spoolFiles(w.t, w.dir)
	names := dirNames(w.t, w.dir)
	w.mu.Lock()
	w.opened = max(w.opened, len(files))
	for _, m := range files {
		w.modes[m]++
	}
	w.names = append(w.names, names...)
	w.sizes[n] = body.Size
	w.mu.Unlock()
	w.sent <- n
	switch n {
	case w.fail:
		return object.Part{}, errPartFailed
	case w.hang:
		<-ctx.Done()
		return object.Part{}, ctx.Err()
	}
	return w.Store.UploadPart(ctx, key, id, n, body)
}

// streamOf is plaintext of n bytes that differ from part to part.
func streamOf(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		copy(b[i:], strconv.Itoa(i))
	}
	return b
}

// TestStreamSpooled puts a stream of three parts with a spool directory:
// the parts past the first are sent from spool files that only the user
// can read and that have no name in the directory, the parts follow the
// schedule, the archive is the stream, and nothing is left open or named.
func TestStreamSpooled(t *testing.T) {
	spoolModes(t, func(t *testing.T) {
		dir := t.TempDir()
		master := bytes.Repeat([]byte{5}, crypt.MasterKeySize)
		plain := streamOf(40 << 20)
		s := newWatchedSpool(t, dir)
		id, n, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(plain), Name: "stream", Size: -1},
			PutOptions{StorageClass: "STANDARD", SpoolDir: dir})
		if err != nil || n != int64(len(plain)) {
			t.Fatalf("Put = %d, %v; want %d bytes", n, err, len(plain))
		}
		cipher := crypt.EncryptedSize(int64(len(plain)))
		want := map[int32]int64{1: streamPartSize(1), 2: streamPartSize(2), 3: cipher - streamPartSize(1) - streamPartSize(2)}
		if !maps.Equal(s.sizes, want) {
			t.Errorf("part sizes %v, want %v", s.sizes, want)
		}
		if s.opened == 0 {
			t.Error("no part was sent from a spool file")
		}
		for m := range s.modes {
			if m&0o077 != 0 {
				t.Errorf("a spool file had mode %v", m)
			}
		}
		// A named spool file has its name for the time of one unlink, which
		// a part sent meanwhile may see.
		if spoolTmpfile && len(s.names) != 0 {
			t.Errorf("the spool directory showed %v while parts were sent", s.names)
		}
		if open := spoolFiles(t, dir); len(open) != 0 {
			t.Errorf("spool files still open: %v", open)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("left in the spool directory: %v", names)
		}

		_, keys, err := crypt.OpenID(master, id)
		if err != nil {
			t.Fatal(err)
		}
		defer keys.Destroy()
		var got bytes.Buffer
		if _, err := DownloadStream(t.Context(), s, keys, id, cipher, &got, DownloadOptions{}); err != nil {
			t.Fatalf("DownloadStream: %v", err)
		}
		if !bytes.Equal(got.Bytes(), plain) {
			t.Errorf("downloaded %d bytes, not the stream put", got.Len())
		}
	})
}

// TestStreamSpoolCleanedUp: a put of a stream that fails (a part refused)
// or is interrupted (its context canceled while a part is in flight)
// closes every spool file and leaves no name in the directory, and aborts
// its upload.
func TestStreamSpoolCleanedUp(t *testing.T) {
	spoolModes(t, func(t *testing.T) {
		for _, c := range []string{"failed", "interrupted"} {
			t.Run(c, func(t *testing.T) {
				dir := t.TempDir()
				s := newWatchedSpool(t, dir)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if c == "failed" {
					s.fail = 3
				} else {
					s.hang = 3
					go func() {
						for n := range s.sent {
							if n == 3 {
								cancel()
								return
							}
						}
					}()
				}
				plain := streamOf(50 << 20) // 4 parts
				_, _, err := Put(ctx, s, lend(bytes.Repeat([]byte{5}, crypt.MasterKeySize)),
					Source{R: bytes.NewReader(plain), Name: "stream", Size: -1}, PutOptions{SpoolDir: dir})
				want := errPartFailed
				if c == "interrupted" {
					want = context.Canceled
				}
				if !errors.Is(err, want) {
					t.Fatalf("Put: %v, want %v", err, want)
				}
				if s.opened == 0 {
					t.Error("no part was sent from a spool file")
				}
				if open := spoolFiles(t, dir); len(open) != 0 {
					t.Errorf("spool files still open: %v", open)
				}
				if names := dirNames(t, dir); len(names) != 0 {
					t.Errorf("left in the spool directory: %v", names)
				}
				if ups, err := s.ListUploads(context.Background()); err != nil || len(ups) != 0 {
					t.Errorf("uploads left: %v, %v", ups, err)
				}
			})
		}
	})
}

// TestSpoolDirRefused: a spool directory others may write to, or that is
// not a directory, fails the put before any request.
func TestSpoolDirRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, spool := range []string{dir, file} {
		s := &requestCounter{Store: object.NewMemory(nil, nil, 0)}
		_, _, err := Put(t.Context(), s, lend(make([]byte, crypt.MasterKeySize)),
			Source{R: strings.NewReader("data"), Name: "x", Size: -1}, PutOptions{SpoolDir: spool})
		if err == nil || s.calls.Load() != 0 {
			t.Errorf("spool %s: Put = %v after %d requests, want an error before any", spool, err, s.calls.Load())
		}
		if spool == dir && !errors.Is(err, ErrUnsafeSpool) {
			t.Errorf("spool %s: %v, want ErrUnsafeSpool", spool, err)
		}
	}
}

// discardParts stands for S3 without keeping the parts: it reads each one
// from its body, checks it against its CRC-32C and keeps only that, so
// that the heap holds what the put holds and nothing of what was sent.
type discardParts struct {
	object.Store
	mu    sync.Mutex
	sizes map[int32]int64
}

func (d *discardParts) CreateUpload(context.Context, string, object.PutOptions) (string, error) {
	return "upload", nil
}

func (d *discardParts) UploadPart(_ context.Context, _, _ string, n int32, body object.PartBody) (object.Part, error) {
	r, err := body.Open()
	if err != nil {
		return object.Part{}, err
	}
	crc := object.NewCRC32C()
	if got, err := io.Copy(crc, r); err != nil || got != body.Size {
		return object.Part{}, fmt.Errorf("part %d: read %d of %d bytes: %v", n, got, body.Size, err)
	}
	if sum := object.CRC32CString(crc.Sum32()); sum != body.CRC32C {
		return object.Part{}, fmt.Errorf("part %d: CRC-32C %s, announced %s", n, sum, body.CRC32C)
	}
	d.mu.Lock()
	d.sizes[n] = body.Size
	d.mu.Unlock()
	return object.Part{Number: n, Size: body.Size, ChecksumCRC32C: body.CRC32C}, nil
}

func (d *discardParts) CompleteUpload(context.Context, string, string, []object.Part) error {
	return nil
}

func (d *discardParts) AbortUpload(context.Context, string, string) error { return nil }

// zeroStream is n zero bytes, made as they are read.
type zeroStream struct{ n int64 }

func (z *zeroStream) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), z.n))
	clear(p[:k])
	z.n -= int64(k)
	return k, nil
}

// TestStreamMemoryFlat puts a stream declared large enough for parts of 51
// MiB (--expected-size 500 GiB), eight of them, with the heap sampled: the
// parts are spooled, so the heap holds the head and the copy buffers, not
// parts in flight.
func TestStreamMemoryFlat(t *testing.T) {
	expected := int64(500 << 30)
	part := PartSize(crypt.EncryptedSize(expected))
	if part < 3*headSize {
		t.Fatalf("parts of %d bytes: not larger than the head", part)
	}
	plain := 8 * part / crypt.MaxPackageLen * crypt.PackageSize
	s := &discardParts{Store: object.NewMemory(nil, nil, 0), sizes: map[int32]int64{}}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := watchHeap(t)
	_, n, err := Put(t.Context(), s, lend(make([]byte, crypt.MasterKeySize)), Source{R: &zeroStream{plain}, Name: "big", Size: -1},
		PutOptions{SpoolDir: t.TempDir(), ExpectedSize: &expected})
	grew := int64(peak()) - int64(before.HeapInuse)
	if err != nil || n != plain {
		t.Fatalf("Put = %d, %v; want %d bytes", n, err, plain)
	}
	if len(s.sizes) != 9 || s.sizes[1] != part {
		t.Fatalf("parts %v, want 9 of %d bytes", s.sizes, part)
	}
	t.Logf("heap grew by %d MiB for parts of %d MiB", grew>>20, part>>20)
	if grew > 3*headSize/2 {
		t.Fatalf("heap grew by %d MiB for parts of %d MiB", grew>>20, part>>20)
	}
}

// TestStreamTooManyParts: a stream longer than its schedule's 10,000 parts
// fails with ErrTooLarge when part 10,001 would begin, and its upload is
// aborted. The schedule here is of tiny parts, so that 10,000 cost little.
func TestStreamTooManyParts(t *testing.T) {
	dir := t.TempDir()
	spool, err := openSpoolDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	const size = 64
	var aborted atomic.Bool
	s := &abortWatch{discardParts: &discardParts{Store: object.NewMemory(nil, nil, 0), sizes: map[int32]int64{}}, aborted: &aborted}
	for _, c := range []struct {
		n    int64
		fail bool
	}{{MaxParts * size, false}, {MaxParts*size + 1, true}} {
		aborted.Store(false)
		_, err := putStream(t.Context(), s, "key", &zeroStream{c.n}, func(int32) int64 { return size }, spool, PutOptions{}, nil)
		if c.fail != errors.Is(err, ErrTooLarge) || c.fail != aborted.Load() {
			t.Errorf("a stream of %d bytes: %v (aborted %v)", c.n, err, aborted.Load())
		}
		if c.fail {
			t.Log(err)
		}
	}
	if open := spoolFiles(t, dir); len(open) != 0 {
		t.Errorf("spool files still open: %v", open)
	}
}

type abortWatch struct {
	*discardParts
	aborted *atomic.Bool
}

func (a *abortWatch) AbortUpload(context.Context, string, string) error {
	a.aborted.Store(true)
	return nil
}

// TestExpectedSizePlan: a declared size gets the plan of a file of that
// size, at 0 B, 1 B, 5 TiB and 48.8 TiB; one package more is refused with
// a one-line ErrTooLarge before the master key is opened or any request
// sent; so is a negative size.
func TestExpectedSizePlan(t *testing.T) {
	for _, c := range []struct {
		name string
		size int64
		ok   bool
	}{
		{"0 B", 0, true},
		{"1 B", 1, true},
		{"5 TiB", 5 << 40, true},
		{"48.8 TiB", MaxSize, true},
		{"one package more", MaxSize + crypt.PackageSize, false},
		{"negative", -1, false},
	} {
		sizes, err := planParts(-1, PutOptions{SpoolDir: "spool", ExpectedSize: &c.size})
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			part := PartSize(crypt.EncryptedSize(c.size))
			if sizes(1) != part || sizes(MaxParts) != part || part > object.MaxPartSize {
				t.Errorf("%s: parts of %d bytes, want %d", c.name, sizes(1), part)
			}
			if parts := (crypt.EncryptedSize(c.size) + part - 1) / part; parts > MaxParts {
				t.Errorf("%s: %d parts", c.name, parts)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: planned", c.name)
			continue
		}
		s := &requestCounter{Store: object.NewMemory(nil, nil, 0)}
		master := func(func([]byte) error) error {
			t.Errorf("%s: the master key was opened", c.name)
			return nil
		}
		_, _, err = Put(t.Context(), s, master, Source{R: strings.NewReader("x"), Name: "x", Size: -1},
			PutOptions{SpoolDir: t.TempDir(), ExpectedSize: &c.size})
		if err == nil || strings.Contains(err.Error(), "\n") || s.calls.Load() != 0 {
			t.Errorf("%s: Put = %v after %d requests", c.name, err, s.calls.Load())
		}
		if c.size > 0 && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", c.name, err)
		}
		t.Logf("%s: %v", c.name, err)
	}
	// Without a spool directory, parts past 1 GiB are refused rather than
	// held in memory.
	big := int64(20 << 40)
	if _, err := planParts(-1, PutOptions{ExpectedSize: &big}); !errors.Is(err, ErrNoSpool) {
		t.Errorf("20 TiB declared, no spool: %v, want ErrNoSpool", err)
	}
}

// TestStreamLongerThanExpected: a stream that gives more than its declared
// size fails with ErrLongerThanExpected and stores nothing, whether it
// would have been one request or a multipart upload (aborted); a shorter
// one is stored whole.
func TestStreamLongerThanExpected(t *testing.T) {
	master := bytes.Repeat([]byte{9}, crypt.MasterKeySize)
	for _, c := range []struct {
		name             string
		declared, actual int64
		ok               bool
	}{
		{"one request", 100, 101, false},
		{"many parts", 20 << 20, 40 << 20, false},
		{"shorter", 40 << 20, 20 << 20, true},
		{"exact", 20 << 20, 20 << 20, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := object.NewMemory(nil, nil, 0)
			_, n, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(streamOf(int(c.actual))), Name: "x", Size: -1},
				PutOptions{StorageClass: "STANDARD", SpoolDir: dir, ExpectedSize: &c.declared})
			if c.ok {
				if err != nil || n != c.actual {
					t.Fatalf("Put = %d, %v", n, err)
				}
				return
			}
			if !errors.Is(err, ErrLongerThanExpected) {
				t.Fatalf("Put: %v, want ErrLongerThanExpected", err)
			}
			t.Log(err)
			objects := 0
			s.List(t.Context(), func(object.Info) error { objects++; return nil })
			ups, _ := s.ListUploads(t.Context())
			if objects != 0 || len(ups) != 0 {
				t.Errorf("%d objects and %d uploads left", objects, len(ups))
			}
		})
	}
}

// lateParts is a store where a part in flight when the upload is aborted
// lands after the abort, as S3 warns it may: its upload then has parts.
type lateParts struct {
	*watchedSpool
	aborts atomic.Int32
}

func (l *lateParts) AbortUpload(ctx context.Context, key, id string) error {
	l.aborts.Add(1)
	return l.watchedSpool.AbortUpload(ctx, key, id)
}

func (l *lateParts) ListParts(ctx context.Context, key, id string) ([]object.Part, error) {
	if l.aborts.Load() == 1 {
		return []object.Part{{Number: 3, Size: 1}}, nil
	}
	return nil, object.ErrNotFound
}

// TestStreamAbortedAgain: a failed put of a stream looks at its upload
// again after aborting it, and aborts it once more if parts in flight
// landed meanwhile, so that none stays billed.
func TestStreamAbortedAgain(t *testing.T) {
	defer func(was time.Duration) { abortRecheck = was }(abortRecheck)
	abortRecheck = 10 * time.Millisecond
	dir := t.TempDir()
	s := &lateParts{watchedSpool: newWatchedSpool(t, dir)}
	s.fail = 2
	_, _, err := Put(t.Context(), s, lend(make([]byte, crypt.MasterKeySize)),
		Source{R: bytes.NewReader(streamOf(40 << 20)), Name: "stream", Size: -1}, PutOptions{SpoolDir: dir})
	if !errors.Is(err, errPartFailed) {
		t.Fatalf("Put: %v", err)
	}
	if n := s.aborts.Load(); n != 2 {
		t.Errorf("aborted %d times, want 2", n)
	}
}
