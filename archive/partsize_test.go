package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// s3MaxObject is S3's largest object, 5 TiB.
const s3MaxObject = 5 << 40

func TestPartSizeKnownSize(t *testing.T) {
	pkg := int64(crypt.MaxPackageLen)
	for _, c := range []struct {
		name       string
		cipherSize int64
		want       int64
	}{
		{"unknown", -1, defaultPartPackages * pkg},
		{"empty", 0, defaultPartPackages * pkg},
		{"1 GiB", crypt.EncryptedSize(1 << 30), defaultPartPackages * pkg},
		{"exactly MaxParts default parts", MaxParts * defaultPartPackages * pkg, defaultPartPackages * pkg},
		{"a byte more", MaxParts*defaultPartPackages*pkg + 1, (defaultPartPackages + 1) * pkg},
		{"S3's largest object", s3MaxObject, 8385 * pkg},
	} {
		got := PartSize(c.cipherSize)
		if got != c.want {
			t.Errorf("%s: PartSize(%d) = %d, want %d", c.name, c.cipherSize, got, c.want)
		}
		if c.cipherSize > 0 && (c.cipherSize+got-1)/got > MaxParts {
			t.Errorf("%s: %d bytes need more than %d parts of %d", c.name, c.cipherSize, MaxParts, got)
		}
	}
}

// TestStreamPartSizes checks the whole schedule of a stream of unknown
// length: whole packages, within S3's part limits, never shrinking, small
// at first, and enough room in MaxParts parts for S3's largest object.
func TestStreamPartSizes(t *testing.T) {
	if got, want := streamPartSize(1), PartSize(-1); got != want {
		t.Errorf("first part %d bytes, want PartSize(-1) = %d", got, want)
	}
	var total, prev int64
	for n := int32(1); n <= MaxParts; n++ {
		size := streamPartSize(n)
		switch {
		case size%crypt.MaxPackageLen != 0:
			t.Fatalf("part %d: %d bytes is not whole packages", n, size)
		case size < MinPartSize || size > object.MaxPartSize:
			t.Fatalf("part %d: %d bytes outside S3's part sizes", n, size)
		case size < prev:
			t.Fatalf("part %d: %d bytes, smaller than part %d's %d", n, size, n-1, prev)
		}
		prev = size
		total += size
		if n == streamDoubling {
			// The first stretch must be as cheap in memory as a file's parts.
			if want := streamDoubling * PartSize(-1); total != want {
				t.Errorf("first %d parts hold %d bytes, want %d", n, total, want)
			}
		}
	}
	if total < s3MaxObject {
		t.Errorf("%d parts hold %d bytes, less than S3's largest object (%d)", MaxParts, total, int64(s3MaxObject))
	}
	if last := streamPartSize(MaxParts); last != maxPartPackages*crypt.MaxPackageLen {
		t.Errorf("last part %d bytes, want S3's largest part in whole packages", last)
	}
	// MaxStreamSize is what the schedule holds, to the byte.
	if got := crypt.EncryptedSize(MaxStreamSize); got != total {
		t.Errorf("MaxStreamSize encrypts to %d bytes, the schedule holds %d", got, total)
	}
	if got := crypt.EncryptedSize(MaxStreamSize + 1); got <= total {
		t.Errorf("a byte more than MaxStreamSize encrypts to %d bytes, which the schedule holds", got)
	}
	if MaxStreamSize != 17_911_408_230_399 {
		t.Errorf("MaxStreamSize = %d", int64(MaxStreamSize))
	}
	// Kept in memory, parts stop at 1 GiB, as they did before spooling.
	for _, n := range []int32{1, 901, MaxParts} {
		if got, want := memoryPartSize(n), min(streamPartSize(n), 1<<30+maxMemoryPartPackages*(crypt.MaxPackageLen-crypt.PackageSize)); got != want {
			t.Errorf("part %d in memory: %d bytes, want %d", n, got, want)
		}
	}
}

// partSizes records the size of every part uploaded.
type partSizes struct {
	object.Store
	mu    sync.Mutex
	sizes map[int32]int64
}

func (p *partSizes) UploadPart(ctx context.Context, key, id string, n int32, body object.PartBody) (object.Part, error) {
	p.mu.Lock()
	p.sizes[n] = body.Size
	p.mu.Unlock()
	return p.Store.UploadPart(ctx, key, id, n, body)
}

// TestPutStreamUsesSchedule puts a stream of unknown length just over one
// part: its parts must follow streamPartSize and hold the whole stream.
func TestPutStreamUsesSchedule(t *testing.T) {
	master := bytes.Repeat([]byte{7}, crypt.MasterKeySize)
	plain := bytes.Repeat([]byte("stream "), int(PartSize(-1)/crypt.MaxPackageLen*crypt.PackageSize)/7+5000)
	s := &partSizes{Store: object.NewMemory(nil, nil, 0), sizes: map[int32]int64{}}
	id, n, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(plain), Name: "stream", Size: -1}, PutOptions{StorageClass: "STANDARD"})
	if err != nil || n != int64(len(plain)) {
		t.Fatalf("Put = %d, %v; want %d bytes", n, err, len(plain))
	}
	want := map[int32]int64{1: streamPartSize(1), 2: crypt.EncryptedSize(int64(len(plain))) - streamPartSize(1)}
	if !maps.Equal(s.sizes, want) {
		t.Errorf("part sizes %v, want %v", s.sizes, want)
	}

	_, keys, err := crypt.OpenID(master, id)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	var got bytes.Buffer
	if _, err := DownloadStream(t.Context(), s, keys, id, crypt.EncryptedSize(int64(len(plain))), &got, DownloadOptions{}); err != nil {
		t.Fatalf("DownloadStream: %v", err)
	}
	if !bytes.Equal(got.Bytes(), plain) {
		t.Errorf("downloaded %d bytes, not the stream put", got.Len())
	}
}

// TestPartPlanToTheLargestObject: the plan of a file of every size that
// matters, up to S3's largest object (10,000 parts of 5 GiB since December
// 2025) and one package more: whole packages, within S3's part limits, at
// most MaxParts parts that hold the whole stream; beyond MaxSize,
// CheckSize refuses.
func TestPartPlanToTheLargestObject(t *testing.T) {
	pkg := int64(crypt.MaxPackageLen)
	for _, c := range []struct {
		name      string
		plain     int64
		wantParts int64
		tooLarge  bool
	}{
		{"0 B", 0, 1, false},
		{"1 B", 1, 1, false},
		{"5 TiB", 5 << 40, MaxParts, false},
		{"48.8 TiB", MaxSize, MaxParts, false},
		{"one byte more", MaxSize + 1, 0, true},
		{"one package more", MaxSize + crypt.PackageSize, 0, true},
	} {
		err := CheckSize(c.plain)
		if c.tooLarge {
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("%s: CheckSize(%d) = %v, want ErrTooLarge", c.name, c.plain, err)
			}
			// What the plan would need is past S3's part limit.
			if size := PartSize(crypt.EncryptedSize(c.plain)); size <= object.MaxPartSize {
				t.Errorf("%s: a part of %d bytes would do, yet CheckSize refuses", c.name, size)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: CheckSize: %v", c.name, err)
			continue
		}
		cipher := crypt.EncryptedSize(c.plain)
		size := PartSize(cipher)
		parts := (cipher + size - 1) / size
		switch {
		case size%pkg != 0:
			t.Errorf("%s: part size %d is not whole packages", c.name, size)
		case size < MinPartSize || size > object.MaxPartSize:
			t.Errorf("%s: part size %d outside S3's limits", c.name, size)
		case parts != c.wantParts:
			t.Errorf("%s: %d parts of %d bytes, want %d", c.name, parts, size, c.wantParts)
		case parts > MaxParts:
			t.Errorf("%s: %d parts", c.name, parts)
		}
		plan := &partPlan{partSize: size, cipherSize: cipher}
		if got := int64(plan.count()); got != parts {
			t.Errorf("%s: plan counts %d parts, want %d", c.name, got, parts)
		}
		var total int64
		for _, n := range []int32{1, int32(parts)} {
			if l := plan.length(n); l <= 0 || l > size {
				t.Errorf("%s: part %d is %d bytes", c.name, n, l)
			}
		}
		total = (parts-1)*size + plan.length(int32(parts))
		if total != cipher {
			t.Errorf("%s: the parts hold %d bytes of %d", c.name, total, cipher)
		}
	}
	if MaxSize != 53_660_876_799_999 {
		t.Errorf("MaxSize = %d", int64(MaxSize))
	}
	if got := PartSize(crypt.EncryptedSize(MaxSize)); got != maxPartPackages*pkg || got > object.MaxPartSize {
		t.Errorf("48.8 TiB: parts of %d bytes, want %d packages", got, int64(maxPartPackages))
	}
}

// zeros is a source of size zero bytes that takes no room: the largest
// files the plan covers, without a disk to hold them.
type zeros struct{ size int64 }

func (z zeros) ReadAt(p []byte, off int64) (int, error) {
	if off >= z.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.size-off))
	clear(p[:n])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestTooLargeSendsNothing: a file one byte over MaxSize fails with
// ErrTooLarge before any request, any record or any password use.
func TestTooLargeSendsNothing(t *testing.T) {
	s := &requestCounter{Store: object.NewMemory(nil, nil, 0)}
	master := func(func([]byte) error) error {
		t.Error("the master key was opened")
		return nil
	}
	_, err := PutResumable(context.Background(), s, master, SeekableSource{R: zeros{MaxSize + 1}, Name: "huge.img", Size: MaxSize + 1}, ResumableOptions{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("PutResumable: %v, want ErrTooLarge", err)
	}
	if n := s.calls.Load(); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	t.Log(err)
}

// requestCounter counts every request.
type requestCounter struct {
	object.Store
	calls atomic.Int64
}

func (c *requestCounter) CreateUpload(ctx context.Context, key string, o object.PutOptions) (string, error) {
	c.calls.Add(1)
	return c.Store.CreateUpload(ctx, key, o)
}

func (c *requestCounter) Put(ctx context.Context, key string, body []byte, o object.PutOptions) error {
	c.calls.Add(1)
	return c.Store.Put(ctx, key, body, o)
}

func (c *requestCounter) Head(ctx context.Context, key string) (object.Info, error) {
	c.calls.Add(1)
	return c.Store.Head(ctx, key)
}

// TestLargestPartStreams sends the last part of a 48.8 TiB file, a part of
// 81,880 packages (5,368,707,840 bytes, within S3's 5 GiB), through
// UploadPart's body, scanned and streamed, and watches the heap: it must
// not grow with the part. A store that reads the body and keeps only its
// CRC-32C stands for S3.
func TestLargestPartStreams(t *testing.T) {
	master := bytes.Repeat([]byte{3}, crypt.MasterKeySize)
	keys, err := crypt.DeriveKeys(master, crypt.Salt{})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	cipher := crypt.EncryptedSize(MaxSize)
	p := &partPlan{keys: keys, src: SeekableSource{R: zeros{MaxSize}, Name: "huge.img", Size: MaxSize}, partSize: PartSize(cipher), cipherSize: cipher}
	last := int32(p.count())
	if last != MaxParts || p.length(last) != maxPartPackages*crypt.MaxPackageLen {
		t.Fatalf("last part %d of %d bytes", last, p.length(last))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := watchHeap(t)
	sums, err := p.scan(context.Background(), last, false)
	if err != nil {
		t.Fatal(err)
	}
	body := p.body(last, sums)
	if body.Size > object.MaxPartSize {
		t.Fatalf("part of %d bytes", body.Size)
	}
	r, err := body.Open()
	if err != nil {
		t.Fatal(err)
	}
	crc := object.NewCRC32C()
	n, err := io.Copy(crc, r)
	if err != nil || n != body.Size {
		t.Fatalf("read %d of %d bytes: %v", n, body.Size, err)
	}
	if got := object.CRC32CString(crc.Sum32()); got != body.CRC32C {
		t.Fatalf("the body's CRC-32C %s, the scan's %s", got, body.CRC32C)
	}
	runtime.ReadMemStats(&after)
	if grew := peak() - before.HeapInuse; int64(grew) > 16<<20 {
		t.Fatalf("heap grew by %d MiB for a part of %d MiB", grew>>20, body.Size>>20)
	}
}

// watchHeap samples the heap in use until the returned func is called,
// which gives the highest sample.
func watchHeap(t *testing.T) func() uint64 {
	t.Helper()
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}
