package object_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/object"
)

// counting wraps a store to count calls and, optionally, fail or hold
// UploadPart.
type counting struct {
	object.Store
	puts, creates, parts, completes, aborts atomic.Int32

	partHook func(number int32) error // runs before each UploadPart
}

func (c *counting) Put(ctx context.Context, key string, body []byte, o object.PutOptions) error {
	c.puts.Add(1)
	return c.Store.Put(ctx, key, body, o)
}

func (c *counting) CreateUpload(ctx context.Context, key string, o object.PutOptions) (string, error) {
	c.creates.Add(1)
	return c.Store.CreateUpload(ctx, key, o)
}

func (c *counting) UploadPart(ctx context.Context, key, id string, n int32, body object.PartBody) (object.Part, error) {
	c.parts.Add(1)
	if c.partHook != nil {
		if err := c.partHook(n); err != nil {
			return object.Part{}, err
		}
	}
	return c.Store.UploadPart(ctx, key, id, n, body)
}

func (c *counting) CompleteUpload(ctx context.Context, key, id string, parts []object.Part) error {
	c.completes.Add(1)
	return c.Store.CompleteUpload(ctx, key, id, parts)
}

func (c *counting) AbortUpload(ctx context.Context, key, id string) error {
	c.aborts.Add(1)
	return c.Store.AbortUpload(ctx, key, id)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{42}).Read(b)
	return b
}

func readAll(t *testing.T, s object.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// onlyReader hides bytes.Reader's other methods, so Upload sees a plain
// stream.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestUploadSplitsIntoParts(t *testing.T) {
	const part = object.MinPartSize
	for _, c := range []struct {
		name               string
		size               int
		wantPut, wantParts int32
	}{
		{"empty", 0, 1, 0},
		{"small", 1000, 1, 0},
		{"one part less a byte", part - 1, 1, 0},
		{"exactly one part", part, 1, 0},
		{"one part and a byte", part + 1, 0, 2},
		{"exactly three parts", 3 * part, 0, 3},
		{"three and a half parts", 3*part + part/2, 0, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := object.NewMemory(nil, nil, 0)
			s := &counting{Store: mem}
			src := randomBytes(c.size)
			var mu sync.Mutex
			var acked []object.Part
			n, err := object.Upload(t.Context(), s, "k", onlyReader{bytes.NewReader(src)}, object.UploadOptions{
				PutOptions:  object.PutOptions{StorageClass: "STANDARD", Metadata: map[string]string{"m": "v"}},
				PartSize:    part,
				Concurrency: 2,
				OnPart: func(p object.Part) {
					mu.Lock()
					acked = append(acked, p)
					mu.Unlock()
				},
			})
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if n != int64(c.size) {
				t.Errorf("Upload = %d bytes, want %d", n, c.size)
			}
			if s.puts.Load() != c.wantPut || s.parts.Load() != c.wantParts {
				t.Errorf("%d Put and %d UploadPart calls, want %d and %d", s.puts.Load(), s.parts.Load(), c.wantPut, c.wantParts)
			}
			if c.wantParts > 0 && (s.creates.Load() != 1 || s.completes.Load() != 1) {
				t.Errorf("%d CreateUpload and %d CompleteUpload calls, want 1 each", s.creates.Load(), s.completes.Load())
			}
			if got := readAll(t, mem, "k"); !bytes.Equal(got, src) {
				t.Errorf("stored %d bytes, not the input", len(got))
			}
			info, err := mem.Head(t.Context(), "k")
			if err != nil || info.StorageClass != "STANDARD" || info.Metadata["m"] != "v" {
				t.Errorf("Head = %+v, %v; want the put options applied", info, err)
			}

			wantAcks := max(int(c.wantParts), 1)
			if len(acked) != wantAcks {
				t.Fatalf("OnPart called %d times, want %d", len(acked), wantAcks)
			}
			slices.SortFunc(acked, func(a, b object.Part) int { return int(a.Number - b.Number) })
			var total int64
			for i, p := range acked {
				if p.Number != int32(i+1) {
					t.Errorf("acknowledged part %d has number %d", i, p.Number)
				}
				if i < len(acked)-1 && p.Size != part {
					t.Errorf("part %d has %d bytes, want %d", p.Number, p.Size, part)
				}
				total += p.Size
			}
			if total != int64(c.size) {
				t.Errorf("acknowledged parts add up to %d bytes, want %d", total, c.size)
			}
		})
	}
}

func TestUploadAbortsOnPartError(t *testing.T) {
	mem := object.NewMemory(nil, nil, 0)
	boom := errors.New("boom")
	s := &counting{Store: mem, partHook: func(n int32) error {
		if n == 3 {
			return boom
		}
		return nil
	}}
	src := randomBytes(5 * object.MinPartSize)
	n, err := object.Upload(t.Context(), s, "k", bytes.NewReader(src), object.UploadOptions{PartSize: object.MinPartSize, Concurrency: 2})
	if !errors.Is(err, boom) {
		t.Fatalf("Upload: %v, want the part's error", err)
	}
	if n != 0 {
		t.Errorf("failed Upload reports %d bytes", n)
	}
	assertAborted(t, s, mem)
}

// failingReader returns data, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestUploadAbortsOnReadError(t *testing.T) {
	mem := object.NewMemory(nil, nil, 0)
	s := &counting{Store: mem}
	broken := errors.New("disk on fire")
	r := &failingReader{data: randomBytes(2*object.MinPartSize + 10), err: broken}
	_, err := object.Upload(t.Context(), s, "k", r, object.UploadOptions{PartSize: object.MinPartSize})
	if !errors.Is(err, broken) {
		t.Fatalf("Upload: %v, want the read error", err)
	}
	assertAborted(t, s, mem)

	// An error before a whole part was read sends nothing at all.
	s = &counting{Store: mem}
	_, err = object.Upload(t.Context(), s, "k2", &failingReader{data: []byte("abc"), err: broken}, object.UploadOptions{})
	if !errors.Is(err, broken) {
		t.Fatalf("Upload of a short failing input: %v, want the read error", err)
	}
	if s.puts.Load()+s.creates.Load() != 0 {
		t.Errorf("a failed read sent %d Put and %d CreateUpload", s.puts.Load(), s.creates.Load())
	}
}

func TestUploadAbortsOnCancel(t *testing.T) {
	mem := object.NewMemory(nil, nil, 0)
	ctx, cancel := context.WithCancel(t.Context())
	s := &counting{Store: mem, partHook: func(n int32) error {
		if n == 2 {
			cancel()
		}
		return nil
	}}
	src := randomBytes(6 * object.MinPartSize)
	_, err := object.Upload(ctx, s, "k", bytes.NewReader(src), object.UploadOptions{PartSize: object.MinPartSize, Concurrency: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Upload: %v, want context.Canceled", err)
	}
	assertAborted(t, s, mem)
}

func assertAborted(t *testing.T, s *counting, mem *object.Memory) {
	t.Helper()
	if s.aborts.Load() != 1 || s.completes.Load() != 0 {
		t.Errorf("%d AbortUpload and %d CompleteUpload calls, want 1 and 0", s.aborts.Load(), s.completes.Load())
	}
	uploads, err := mem.ListUploads(t.Context())
	if err != nil || len(uploads) != 0 {
		t.Errorf("ListUploads = %+v, %v; want none left", uploads, err)
	}
	if _, err := mem.Head(t.Context(), "k"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Head after a failed upload: %v, want ErrNotFound", err)
	}
}

// countingReader counts the bytes Upload has taken from the input.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestUploadBoundsConcurrency holds every part until Concurrency of them
// are in flight together: that many must be reached, no more may start,
// and the input read by then must fit in Concurrency parts.
func TestUploadBoundsConcurrency(t *testing.T) {
	const (
		concurrency = 3
		part        = object.MinPartSize
		parts       = 8
	)
	mem := object.NewMemory(nil, nil, 0)
	in := &countingReader{r: bytes.NewReader(randomBytes(parts * part))}
	var (
		mu       sync.Mutex
		inFlight int
		maxSeen  int
		readAt   int64 // input consumed when the first batch was all in flight
		full     = make(chan struct{})
		once     sync.Once
	)
	s := &counting{Store: mem, partHook: func(int32) error {
		mu.Lock()
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		if inFlight == concurrency {
			once.Do(func() {
				readAt = in.n.Load()
				close(full)
			})
		}
		mu.Unlock()
		select {
		case <-full:
		case <-time.After(10 * time.Second):
			return errors.New("parts never reached the concurrency limit together")
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}}
	n, err := object.Upload(t.Context(), s, "k", in, object.UploadOptions{PartSize: part, Concurrency: concurrency})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if n != parts*part {
		t.Errorf("Upload = %d bytes, want %d", n, parts*part)
	}
	if maxSeen != concurrency {
		t.Errorf("%d parts in flight at most, want %d", maxSeen, concurrency)
	}
	// bufio reads ahead at most its 4 KiB buffer.
	if limit := int64(concurrency*part + 4096); readAt > limit {
		t.Errorf("%d bytes read with %d parts in flight, more than %d", readAt, concurrency, limit)
	}
}

func TestUploadRejectsBadOptions(t *testing.T) {
	s := &counting{Store: object.NewMemory(nil, nil, 0)}
	for _, o := range []object.UploadOptions{
		{PartSize: object.MinPartSize - 1},
		{PartSize: object.MaxPartSize + 1},
		{Concurrency: -1},
		{PutOptions: object.PutOptions{StorageClass: "NOPE"}},
	} {
		if _, err := object.Upload(t.Context(), s, "k", bytes.NewReader(randomBytes(10)), o); err == nil {
			t.Errorf("Upload with %+v succeeded", o)
		}
	}
	if s.parts.Load()+s.creates.Load() != 0 {
		t.Errorf("invalid options still sent %d CreateUpload, %d UploadPart", s.creates.Load(), s.parts.Load())
	}
}

// lostAnswer writes as its store does, then answers as S3 may answer the
// same request sent again by the SDK after the first answer was lost:
// repeat nil sends it again to the store (which refuses it: the key holds
// the object), otherwise repeat is the answer.
type lostAnswer struct {
	object.Store
	repeat error
}

func (l lostAnswer) again(err error, send func() error) error {
	if err != nil {
		return err
	}
	if l.repeat != nil {
		return l.repeat
	}
	return send()
}

func (l lostAnswer) CompleteUpload(ctx context.Context, key, id string, parts []object.Part) error {
	send := func() error { return l.Store.CompleteUpload(ctx, key, id, parts) }
	return l.again(send(), send)
}

func (l lostAnswer) Put(ctx context.Context, key string, body []byte, o object.PutOptions) error {
	send := func() error { return l.Store.Put(ctx, key, body, o) }
	return l.again(send(), send)
}

// The answers S3 may give a repeated Complete or Put: NoSuchUpload (the
// upload is completed) and 412 PreconditionFailed (If-None-Match: *, and the
// key holds the object).
var repeatAnswers = map[string]error{
	"store's own answer": nil,
	"NoSuchUpload":       fmt.Errorf("complete upload k: %w", object.ErrNotFound),
	"PreconditionFailed": fmt.Errorf("complete upload k: %w", object.ErrExists),
}

func TestUploadSurvivesALostAnswer(t *testing.T) {
	for _, size := range []int{2*object.MinPartSize + 10, 1000} { // multipart, one Put
		for name, repeat := range repeatAnswers {
			if size < object.MinPartSize && errors.Is(repeat, object.ErrNotFound) {
				continue // no upload to be missing
			}
			t.Run(fmt.Sprintf("%d bytes/%s", size, name), func(t *testing.T) {
				mem := object.NewMemory(nil, nil, 0)
				src := randomBytes(size)
				n, err := object.Upload(t.Context(), lostAnswer{mem, repeat}, "k", onlyReader{bytes.NewReader(src)}, object.UploadOptions{
					PutOptions: object.PutOptions{StorageClass: "STANDARD"},
					PartSize:   object.MinPartSize, Concurrency: 2,
				})
				if err != nil || n != int64(len(src)) {
					t.Fatalf("Upload = %d, %v; want %d, nil", n, err, len(src))
				}
				if got := readAll(t, mem, "k"); !bytes.Equal(got, src) {
					t.Errorf("stored %d bytes, not the input", len(got))
				}
			})
		}
	}
}

// raced puts other, an object of someone else, under the key just before
// the first Complete or Put reaches its store, which then refuses it.
type raced struct {
	object.Store
	other []byte
	once  sync.Once
}

func (r *raced) race(ctx context.Context, key string) error {
	var err error
	r.once.Do(func() { err = r.Store.Put(ctx, key, r.other, object.PutOptions{StorageClass: "STANDARD"}) })
	return err
}

func (r *raced) CompleteUpload(ctx context.Context, key, id string, parts []object.Part) error {
	if err := r.race(ctx, key); err != nil {
		return err
	}
	return r.Store.CompleteUpload(ctx, key, id, parts)
}

func (r *raced) Put(ctx context.Context, key string, body []byte, o object.PutOptions) error {
	if err := r.race(ctx, key); err != nil {
		return err
	}
	return r.Store.Put(ctx, key, body, o)
}

// An object that someone raced into the key, of the very size of the input,
// is not taken for the upload's: Upload fails with ErrExists, the object
// stays as it was, and the refused upload is aborted.
func TestUploadRefusesAnotherObjectOfItsSize(t *testing.T) {
	for _, size := range []int{2*object.MinPartSize + 10, 1000} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			mem := object.NewMemory(nil, nil, 0)
			src := randomBytes(size)
			other := bytes.Clone(src)
			other[size/2] ^= 1
			_, err := object.Upload(t.Context(), &raced{Store: mem, other: other}, "k", bytes.NewReader(src), object.UploadOptions{
				PutOptions: object.PutOptions{StorageClass: "STANDARD"},
				PartSize:   object.MinPartSize,
			})
			if !errors.Is(err, object.ErrExists) {
				t.Fatalf("Upload onto another object of its size = %v, want ErrExists", err)
			}
			if got := readAll(t, mem, "k"); !bytes.Equal(got, other) {
				t.Error("the other object was changed")
			}
			if uploads, err := mem.ListUploads(t.Context()); err != nil || len(uploads) != 0 {
				t.Errorf("uploads left: %+v, %v", uploads, err)
			}
		})
	}
}

// An upload that is gone while no object of the expected size exists is
// still an error: NoSuchUpload is then the truth.
func TestCompleteOfAVanishedUpload(t *testing.T) {
	mem := object.NewMemory(nil, nil, 0)
	ctx := t.Context()
	id, err := mem.CreateUpload(ctx, "k", object.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := mem.UploadPart(ctx, "k", id, 1, object.BytesPart(randomBytes(100)))
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.AbortUpload(ctx, "k", id); err != nil {
		t.Fatal(err)
	}
	if err := object.Complete(ctx, mem, "k", id, []object.Part{p}, 100); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Complete of an aborted upload = %v, want ErrNotFound", err)
	}
	// An object of that key but another size is not this upload's.
	if err := mem.Put(ctx, "k", randomBytes(99), object.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := object.Complete(ctx, mem, "k", id, []object.Part{p}, 100); !errors.Is(err, object.ErrExists) {
		t.Errorf("Complete with an object of another size = %v, want ErrExists", err)
	}
}

// opaqueETags gives parts ETags that are not MD5s, as some servers do.
type opaqueETags struct{ object.Store }

func (o opaqueETags) UploadPart(ctx context.Context, key, id string, n int32, body object.PartBody) (object.Part, error) {
	p, err := o.Store.UploadPart(ctx, key, id, n, body)
	p.ETag = "opaque/" + p.ETag
	return p, err
}

func (o opaqueETags) CompleteUpload(ctx context.Context, key, id string, parts []object.Part) error {
	parts = slices.Clone(parts)
	for i := range parts {
		parts[i].ETag = strings.TrimPrefix(parts[i].ETag, "opaque/")
	}
	return o.Store.CompleteUpload(ctx, key, id, parts)
}

// Without MD5s to compute the object's ETag from, nothing proves that the
// object under the key is this upload's, even at the expected size: someone
// may have raced one in. The lost answer is ErrUnconfirmed: a put must not
// report an archive it cannot vouch for, nor say that nothing was stored.
func TestLostAnswerWithOpaqueETags(t *testing.T) {
	mem := object.NewMemory(nil, nil, 0)
	src := randomBytes(object.MinPartSize + 10)
	_, err := object.Upload(t.Context(), lostAnswer{opaqueETags{mem}, nil}, "k", bytes.NewReader(src), object.UploadOptions{
		PutOptions: object.PutOptions{StorageClass: "STANDARD"},
		PartSize:   object.MinPartSize,
	})
	if !errors.Is(err, object.ErrUnconfirmed) || !strings.Contains(err.Error(), "cannot tell whose") {
		t.Fatalf("Upload = %v, want ErrUnconfirmed saying why", err)
	}
}

// raceBeforeComplete puts another object of the upload's size under the key
// just before the Complete, as someone with write access to the bucket could.
type raceBeforeComplete struct {
	opaqueETags
	junk []byte
}

func (r raceBeforeComplete) CompleteUpload(ctx context.Context, key, id string, parts []object.Part) error {
	if err := r.opaqueETags.Store.Put(ctx, key, r.junk, object.PutOptions{StorageClass: "STANDARD"}); err != nil {
		return err
	}
	return r.opaqueETags.CompleteUpload(ctx, key, id, parts)
}

// With part ETags that are not MD5s, an object of the very size raced in
// before the Complete is not taken for the upload's: Upload fails with
// ErrUnconfirmed, the other object stays, and the upload is aborted.
func TestUploadRefusesARacedObjectWithOpaqueETags(t *testing.T) {
	mem := object.NewMemory(nil, nil, 0)
	src := randomBytes(object.MinPartSize + 10)
	junk := bytes.Repeat([]byte{0xAA}, len(src))
	_, err := object.Upload(t.Context(), raceBeforeComplete{opaqueETags{mem}, junk}, "k", bytes.NewReader(src), object.UploadOptions{
		PutOptions: object.PutOptions{StorageClass: "STANDARD"},
		PartSize:   object.MinPartSize,
	})
	if !errors.Is(err, object.ErrUnconfirmed) {
		t.Fatalf("Upload = %v, want ErrUnconfirmed", err)
	}
	rc, err := mem.Get(t.Context(), "k", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, junk) {
		t.Error("the raced object was changed")
	}
	if ups, _ := mem.ListUploads(t.Context()); len(ups) != 0 {
		t.Errorf("uploads left: %v", ups)
	}
}
