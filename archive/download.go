package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/flight"
	"github.com/ogive-project/ogive/object"
)

// DownloadOptions tune a parallel download.
type DownloadOptions struct {
	// Concurrency fixes the ranges in flight; 0 lets DownloadAt adapt them
	// to the link (flight.Adaptive), and makes DownloadStream keep
	// StreamConcurrency, each range being held in memory there.
	Concurrency int
	// ChunkPackages is the DARE packages per ranged GET; 0 means 128 (8
	// MiB) for DownloadAt and StreamChunkPackages (2 MiB) for DownloadStream.
	ChunkPackages int
	OnBytes       func(plain int64) // called with each authenticated chunk's size
	Retries       int               // attempts per range on transient errors; 0 means 4
	// Skip and Done resume a download (DownloadAt only): chunks for which
	// Skip is true are not fetched, and Done is called, from any goroutine,
	// with the index of each chunk written after it authenticated.
	Skip func(chunk int) bool
	Done func(chunk int)
	// OnSkipped, if set, is called once, before any range is fetched, with
	// the plaintext bytes of the chunks Skip keeps, which OnBytes then
	// does not count: a progress bar starts past them.
	OnSkipped func(plain int64)
	// OnRetry, if set, is called from any goroutine each time a range is
	// fetched again after a transient failure, so that a bar can say so.
	OnRetry func()
	sleep   func(time.Duration) // tests make backoff instant
}

// DefaultChunkPackages makes 8 MiB ranges: each GET is worth its request,
// and a download resumes at worst a few ranges back.
const DefaultChunkPackages = 128

// A stream is written in order, so DownloadStream holds each range in
// flight in memory: 16 ranges of 2 MiB, 32 MiB in all, keep the link as
// busy as the adaptive gate does a file's (docs/BENCHMARKS.md).
const (
	StreamConcurrency   = 16
	StreamChunkPackages = 32
)

// gate bounds DownloadAt's ranges in flight.
func (o *DownloadOptions) gate() *flight.Gate {
	if o.Concurrency > 0 {
		return flight.Fixed(o.Concurrency)
	}
	return flight.Adaptive()
}

func (o *DownloadOptions) defaults() {
	if o.ChunkPackages <= 0 {
		o.ChunkPackages = DefaultChunkPackages
	}
	if o.Retries <= 0 {
		o.Retries = 4
	}
	if o.sleep == nil {
		o.sleep = time.Sleep
	}
}

// chunk is one ranged GET: whole DARE packages, so it decrypts on its own.
type chunk struct {
	index    int
	first    uint64 // index of its first package
	off, n   int64  // ciphertext range
	plainOff int64
	final    bool
}

// layout cuts an object into chunks of perChunk packages, each computed from
// its index when it is needed: the object's size comes from a HEAD answer,
// and the largest the format allows makes 33.5 million 8 MiB chunks, too
// many to hold at once.
type layout struct {
	cipherSize int64
	perChunk   int64
	packages   int64
}

func newLayout(cipherSize int64, perChunk int) layout {
	pkg := int64(crypt.MaxPackageLen)
	return layout{cipherSize: cipherSize, perChunk: int64(perChunk), packages: (cipherSize + pkg - 1) / pkg}
}

// count is how many chunks there are.
func (l layout) count() int {
	return int((l.packages + l.perChunk - 1) / l.perChunk)
}

// chunk is chunk i, for 0 ≤ i < count().
func (l layout) chunk(i int) chunk {
	pkg := int64(crypt.MaxPackageLen)
	first := int64(i) * l.perChunk
	last := min(first+l.perChunk, l.packages)
	off := first * pkg
	return chunk{
		index:    i,
		first:    uint64(first),
		off:      off,
		n:        min(l.cipherSize, last*pkg) - off,
		plainOff: first * crypt.PackageSize,
		final:    last == l.packages,
	}
}

// DownloadAt downloads object id, cipherSize bytes long, with parallel
// ranged GETs and writes each range's plaintext at its offset in w once the
// range has authenticated. It returns the plaintext size. On error some
// ranges may have been written: the caller must not treat w as complete.
func DownloadAt(ctx context.Context, s object.Store, keys crypt.Decrypter, id string, cipherSize int64, w io.WriterAt, o DownloadOptions) (int64, error) {
	o.defaults()
	plain, err := keys.PlainSize(cipherSize)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", id, err)
	}
	l := newLayout(cipherSize, o.ChunkPackages)
	count := l.count()
	if err := pinNonce(ctx, s, keys, id, count, o); err != nil {
		return 0, fmt.Errorf("download %s: %w", id, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	wb := newWriteback(w, min(count, maxWriteback))
	defer wb.close()
	gate := o.gate()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	fetch := func(c chunk) error {
		n, err := fetchChunk(ctx, s, keys, id, c, func() io.Writer { return io.NewOffsetWriter(w, c.plainOff) }, o)
		if err != nil {
			mu.Lock()
			if first == nil || errors.Is(first, context.Canceled) {
				first = err
			}
			mu.Unlock()
			cancel()
			return err
		}
		wb.start(c.plainOff, n)
		if o.Done != nil {
			o.Done(c.index)
		}
		if o.OnBytes != nil {
			o.OnBytes(n)
		}
		return nil
	}
	if o.OnSkipped != nil && o.Skip != nil {
		var skipped int64
		for i := range count {
			if c := l.chunk(i); o.Skip(c.index) {
				skipped += min(plain, c.plainOff+int64(o.ChunkPackages)*crypt.PackageSize) - c.plainOff
			}
		}
		o.OnSkipped(skipped)
	}
feed:
	for i := range count {
		c := l.chunk(i)
		if o.Skip != nil && o.Skip(c.index) {
			if o.OnBytes != nil && o.OnSkipped == nil {
				o.OnBytes(min(plain, c.plainOff+int64(o.ChunkPackages)*crypt.PackageSize) - c.plainOff)
			}
			continue
		}
		t, err := gate.Acquire(ctx)
		if err != nil {
			break feed
		}
		wg.Go(func() {
			err := fetch(c)
			gate.Release(t, err == nil)
		})
	}
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("download %s: %w", id, first)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return plain, nil
}

// writeback asks the kernel to start writing each range of w to disk as
// soon as it is written, when w is a file or block device. The download
// then overlaps the disk with the network, and the fsync that ends it
// (Target.Commit) finds little left to write instead of the whole file.
// One goroutine issues the requests: sync_file_range blocks while the
// disk's queue is full, and the download workers must not wait for it.
// It is advice: an error, or a range dropped because the goroutine is
// behind, only leaves the work to the fsync, which reports any real error.
type writeback struct {
	ranges chan [2]int64 // offset, length
	done   chan struct{}
}

// maxWriteback bounds the ranges queued for writeback: the kernel makes
// writers wait long before so many dirty ranges pile up.
const maxWriteback = 1024

// newWriteback returns nil, which does nothing, for a w that is not a file
// and where the system has no sync_file_range (see startWriteback).
// It queues up to ranges ranges.
func newWriteback(w io.WriterAt, ranges int) *writeback {
	if !canStartWriteback {
		return nil
	}
	f, ok := w.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	wb := &writeback{ranges: make(chan [2]int64, ranges), done: make(chan struct{})}
	go func() {
		defer close(wb.done)
		for r := range wb.ranges {
			_ = raw.Control(func(fd uintptr) {
				startWriteback(fd, r[0], r[1])
			})
		}
	}()
	return wb
}

// start queues n bytes at off; it never blocks.
func (wb *writeback) start(off, n int64) {
	if wb == nil || n <= 0 {
		return
	}
	select {
	case wb.ranges <- [2]int64{off, n}:
	default:
	}
}

// close waits for the requests queued, so that none outlives the download.
func (wb *writeback) close() {
	if wb == nil {
		return
	}
	close(wb.ranges)
	<-wb.done
}

// DownloadStream downloads object id into w in order, fetching up to
// Concurrency ranges ahead. Each range is written only after it has
// authenticated, so w may receive a prefix of the plaintext, never a forged
// byte; a failure part-way is reported as an error.
func DownloadStream(ctx context.Context, s object.Store, keys crypt.Decrypter, id string, cipherSize int64, w io.Writer, o DownloadOptions) (int64, error) {
	return downloadInOrder(ctx, s, keys, id, cipherSize, nil, func(_ int64, p []byte) (int, error) { return w.Write(p) }, o)
}

// DownloadPlainRanges downloads, in order and as DownloadStream does, only
// the ranges of object id that hold some plaintext want says it wants:
// want(from, to) is asked of each range's plaintext bytes [from, to).
// Each authenticated range's plaintext goes to write with its offset, in
// increasing order of offset. It returns the plaintext bytes written. A
// directory archive fetches the files it extracts this way
// (package-aligned ranges: S3 charges the bytes fetched).
func DownloadPlainRanges(ctx context.Context, s object.Store, keys crypt.Decrypter, id string, cipherSize int64, want func(from, to int64) bool, write func(off int64, p []byte) error, o DownloadOptions) (int64, error) {
	return downloadInOrder(ctx, s, keys, id, cipherSize, want, func(off int64, p []byte) (int, error) {
		if err := write(off, p); err != nil {
			return 0, err
		}
		return len(p), nil
	}, o)
}

// ChunkPlain is the plaintext range [from, to) of each range a download
// of an object of cipherSize bytes in ranges of chunkPackages packages
// fetches (StreamChunkPackages when 0), in order: what DownloadPlainRanges
// asks want about.
func ChunkPlain(cipherSize int64, chunkPackages int, fn func(from, to int64)) {
	if chunkPackages <= 0 {
		chunkPackages = StreamChunkPackages
	}
	l := newLayout(cipherSize, chunkPackages)
	for i := range l.count() {
		c := l.chunk(i)
		fn(c.plainOff, c.plainOff+plainOf(c))
	}
}

// plainOf is the plaintext bytes of a chunk, the terminator excluded: a
// chunk that ends the stream is, from its first package, a stream of its
// own (crypt.DecryptedSize); any other holds only full packages. A size no
// stream has gives 0, which the download itself refuses.
func plainOf(c chunk) int64 {
	if c.final {
		n, _ := crypt.DecryptedSize(c.n)
		return n
	}
	return c.n / crypt.MaxPackageLen * crypt.PackageSize
}

// downloadInOrder fetches the ranges want wants (all when nil), up to
// Concurrency ahead, and writes each in order once it authenticated.
func downloadInOrder(ctx context.Context, s object.Store, keys crypt.Decrypter, id string, cipherSize int64, want func(from, to int64) bool, write func(off int64, p []byte) (int, error), o DownloadOptions) (int64, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = StreamConcurrency
	}
	if o.ChunkPackages <= 0 {
		o.ChunkPackages = StreamChunkPackages
	}
	o.defaults()
	if _, err := keys.PlainSize(cipherSize); err != nil {
		return 0, fmt.Errorf("download %s: %w", id, err)
	}
	l := newLayout(cipherSize, o.ChunkPackages)
	var wanted []int // nil: all of them
	count := l.count()
	if want != nil {
		for i := range count {
			c := l.chunk(i)
			if want(c.plainOff, c.plainOff+plainOf(c)) {
				wanted = append(wanted, i)
			}
		}
		count = len(wanted)
		if count == 0 {
			return 0, nil
		}
	}
	chunkAt := func(k int) chunk {
		if wanted != nil {
			return l.chunk(wanted[k])
		}
		return l.chunk(k)
	}
	if err := pinNonce(ctx, s, keys, id, l.count(), o); err != nil {
		return 0, fmt.Errorf("download %s: %w", id, err)
	}
	// No goroutine outlives the download, cancelled first on an error: the
	// caller destroys the keys once it returns.
	var running sync.WaitGroup
	defer running.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type result struct {
		buf *buffer
		err error
	}
	// Range i reports in results[i % len(results)]. A range starts only when
	// one of the Concurrency slots is free, and the slot of range
	// i-Concurrency is freed only after its result was taken: so the
	// channel is empty, and nobody waits on it for another range, when
	// range i starts.
	results := make([]chan result, min(o.Concurrency, count))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	slots := make(chan struct{}, o.Concurrency)
	// free recycles the buffers of written ranges: with slots, it keeps the
	// memory to Concurrency ranges and the garbage to none.
	free := make(chan *buffer, o.Concurrency)
	running.Go(func() {
		for i := range count {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			var b *buffer
			select {
			case b = <-free:
			default:
				b = &buffer{}
			}
			c := chunkAt(i)
			running.Go(func() {
				// The buffer grows once the range's body arrives, not for a
				// GET that fails.
				_, err := fetchChunk(ctx, s, keys, id, c, func() io.Writer { b.grow(int(c.n)); return b.reset() }, o)
				results[i%len(results)] <- result{b, err}
			})
		}
	})
	var total int64
	for i := range count {
		var r result
		select {
		case r = <-results[i%len(results)]:
		case <-ctx.Done():
			return total, ctx.Err()
		}
		if r.err != nil {
			return total, fmt.Errorf("download %s: %w", id, r.err)
		}
		n, err := write(chunkAt(i).plainOff, r.buf.b)
		total += int64(n)
		if err != nil {
			return total, fmt.Errorf("write: %w", err)
		}
		if o.OnBytes != nil {
			o.OnBytes(int64(n))
		}
		free <- r.buf
		<-slots
	}
	return total, nil
}

// pinNonce reads package 0's header when the keys keep their stream nonce in the data
// (2019 archives) and the download has more than one range, and pins the keys to it:
// every range is then checked against that nonce, so that no range can be relabelled to
// authenticate at another position. A download of one range pins itself from its own
// first package.
func pinNonce(ctx context.Context, s object.Store, keys crypt.Decrypter, id string, ranges int, o DownloadOptions) error {
	p, ok := keys.(crypt.NoncePinner)
	if !ok || ranges < 2 {
		return nil
	}
	var err error
	for attempt := 0; attempt < o.Retries; attempt++ {
		if attempt > 0 {
			o.sleep(retryWait(attempt))
		}
		var header [crypt.HeaderSize]byte
		if err = readFull(ctx, s, id, header[:]); err == nil {
			return p.PinStreamNonce(header[:])
		}
		if !transient(ctx, err) {
			break
		}
	}
	return fmt.Errorf("read the stream nonce: %w", err)
}

// readFull reads the first len(buf) bytes of object id into buf.
func readFull(ctx context.Context, s object.Store, id string, buf []byte) error {
	body, err := s.Get(ctx, id, 0, int64(len(buf)))
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.ReadFull(&exactReader{r: body, left: int64(len(buf))}, buf)
	return err
}

// fetchChunk downloads and decrypts one range, retrying transient failures
// (a dropped connection mid-body, a 5xx the SDK gave up on) with backoff.
// Authentication failures and missing or archived objects are final.
// dst gives the writer for each attempt, positioned at the chunk's start.
func fetchChunk(ctx context.Context, s object.Store, keys crypt.Decrypter, id string, c chunk, dst func() io.Writer, o DownloadOptions) (int64, error) {
	var err error
	for attempt := 0; attempt < o.Retries; attempt++ {
		if attempt > 0 {
			o.sleep(retryWait(attempt))
		}
		var n int64
		n, err = fetchOnce(ctx, s, keys, id, c, dst)
		if err == nil || !transient(ctx, err) {
			return n, err
		}
		if o.OnRetry != nil && attempt+1 < o.Retries {
			o.OnRetry()
		}
	}
	return 0, err
}

// retryWait is the pause before attempt 1, 2, 3: a random time between half
// and all of 200, 400 and 800 ms, so that ranges cut by one network hiccup do
// not all come back at the same instant.
func retryWait(attempt int) time.Duration {
	base := time.Duration(1<<attempt) * 100 * time.Millisecond
	return base/2 + rand.N(base/2)
}

// errDestination marks a failure of the file, device or pipe being written
// (a full disk, an I/O error, a closed stdout): fetching the range again
// cannot mend it.
type errDestination struct{ err error }

func (e errDestination) Error() string { return e.err.Error() }
func (e errDestination) Unwrap() error { return e.err }

// destination marks its writer's errors as errDestination.
type destination struct{ w io.Writer }

func (d destination) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if err != nil {
		err = errDestination{err}
	}
	return n, err
}

// fetchOnce makes one attempt at chunk c, into the writer dst gives once the
// GET has answered.
func fetchOnce(ctx context.Context, s object.Store, keys crypt.Decrypter, id string, c chunk, dst func() io.Writer) (int64, error) {
	body, err := s.Get(ctx, id, c.off, c.n)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	// A range that authenticates but is short would be caught by the
	// package count; make a short body an error of its own for retries.
	lr := &exactReader{r: body, left: c.n}
	return keys.DecryptPackages(destination{dst()}, lr, c.first, c.final)
}

// errShortBody means a range ended early, typically a dropped connection.
var errShortBody = errors.New("connection ended before the range was complete")

type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if errors.Is(err, io.EOF) && e.left > 0 {
		return n, errShortBody
	}
	if err == nil && e.left == 0 {
		return n, io.EOF
	}
	return n, err
}

func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	// ErrUnavailable: the SDK already retried that request with backoff;
	// retrying it again here would multiply the attempts.
	for _, final := range []error{crypt.ErrAuthentication, object.ErrNotRestored, object.ErrNotFound,
		object.ErrAccessDenied, object.ErrCredentials, object.ErrNoSuchBucket, object.ErrUnavailable} {
		if errors.Is(err, final) {
			return false
		}
	}
	var dst errDestination
	return !errors.As(err, &dst)
}

// buffer collects one range's plaintext for in-order streaming.
type buffer struct{ b []byte }

// grow makes room for n bytes, so that a range's plaintext (never more than
// its ciphertext) fills the buffer without reallocating it.
func (b *buffer) grow(n int) {
	if cap(b.b) < n {
		b.b = make([]byte, 0, n)
	}
}

func (b *buffer) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }

// reset empties the buffer for another attempt and returns it as the writer.
func (b *buffer) reset() io.Writer { b.b = b.b[:0]; return b }
