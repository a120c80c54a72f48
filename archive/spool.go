package archive

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// A stream (stdin) cannot be read twice, and a part's CRC-32C goes ahead of
// its body, so each part must be whole somewhere before it is sent; parts of
// up to 5 GiB cannot be in memory. So each part of a stream but a first one
// that fits in headSize is written, as ciphertext, to a spool file of its
// own: an unnamed file (O_TMPFILE; elsewhere a name removed as soon as it is
// made) in the spool directory, which is the user's state directory, on
// disk and private, not a /tmp that may be a tmpfs in memory or shared. Its
// CRC-32C is computed as it is written; the part is then sent from the file,
// opened again from its start for each attempt, and the file is closed, its
// space freed, once S3 has the part or the upload fails. Memory is the head
// and the copy buffers, whatever the parts' size and the stream's length.
//
// Parts in flight are bounded by the options' gate (flight.Adaptive unless
// Concurrency is set) and by spoolBudget: the parts spooled at once, sent or
// being written, hold at most that many bytes, or two parts if a part is
// larger (one written while the other is sent).

const (
	// spoolBudget is the most disk the parts of one stream take at once.
	spoolBudget = 1 << 30
	// headSize is the most of a stream held in memory: a stream that ends
	// within it is stored with one PutObject, as before spooling.
	headSize = defaultPartPackages * crypt.MaxPackageLen
	// copyBufferSize is what a spool file is written in.
	copyBufferSize = 1 << 20
)

var (
	// ErrLongerThanExpected means a stream gave more bytes than the size
	// declared for it (PutOptions.ExpectedSize): its parts, planned for that
	// size, may not hold it.
	ErrLongerThanExpected = errors.New("the stream is longer than its expected size")
	// ErrNoSpool means a stream's parts would be too large to hold in memory
	// and no spool directory was given.
	ErrNoSpool = errors.New("a stream of this size needs a spool directory for its parts")
	// ErrUnsafeSpool means the spool directory is not the user's own, or
	// others may write to it.
	ErrUnsafeSpool = errors.New("the spool directory is not private")
)

// checkExpected checks a size declared for a stream.
func checkExpected(size int64) error {
	if size < 0 {
		return fmt.Errorf("negative expected size %d", size)
	}
	return CheckSize(size)
}

// budget is a number of bytes taken and given back; a taker waits until
// enough is free, or, for more than the whole budget, until at most one
// part no larger than its own is taken (parts only grow), so that one part
// is spooled while the one before it is sent.
type budget struct {
	mu    sync.Mutex
	total int64
	free  int64
	wake  chan struct{} // closed, and replaced, whenever bytes are given back
}

func newBudget(total int64) *budget {
	return &budget{total: total, free: total, wake: make(chan struct{})}
}

func (b *budget) take(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		// A part larger than the whole budget may be spooled while the
		// one before it is sent, not more: two parts at most.
		if n <= b.free || b.total-b.free+n <= 2*n {
			b.free -= n
			b.mu.Unlock()
			return nil
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += n
	close(b.wake)
	b.wake = make(chan struct{})
}

// streamUpload is one put of a stream past its first part.
type streamUpload struct {
	store    object.Store
	key      string
	uploadID string
	sizes    func(int32) int64
	dir      *spoolDir
	o        PutOptions
	disk     *budget
	buf      []byte // copy buffer, used by the reading loop only
	// stopReading ends the stream's reads, so that a part being spooled
	// stops when another fails.
	stopReading func()

	mu       sync.Mutex
	parts    []object.Part
	firstErr error
}

// putStream uploads the encrypted stream enc under key with parts of
// sizes, spooled in dir, and returns the bytes stored.
// stopReading ends enc's reads (see interruptible) when a part fails.
func putStream(ctx context.Context, s object.Store, key string, enc io.Reader, sizes func(int32) int64, dir *spoolDir, o PutOptions, stopReading func()) (int64, error) {
	in := bufio.NewReaderSize(enc, copyBufferSize)
	head := make([]byte, min(sizes(1), headSize))
	n, last, err := fill(in, head)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", key, err)
	}
	if last {
		return object.PutWhole(ctx, s, key, head[:n], object.UploadOptions{
			PutOptions: object.PutOptions{StorageClass: o.StorageClass},
			OnPart:     o.OnPart,
			OnSent:     o.OnSent,
		})
	}
	uploadID, err := s.CreateUpload(ctx, key, object.PutOptions{StorageClass: o.StorageClass})
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", key, err)
	}
	u := &streamUpload{store: s, key: key, uploadID: uploadID, sizes: sizes, dir: dir, o: o,
		disk: newBudget(spoolBudget), buf: make([]byte, copyBufferSize), stopReading: stopReading}
	total, err := u.run(ctx, in, head)
	if err != nil {
		if abortErr := abortStream(ctx, s, key, uploadID); abortErr != nil {
			err = fmt.Errorf("%w; abort: %w", err, abortErr)
		}
		return 0, fmt.Errorf("upload %s: %w", key, err)
	}
	return total, nil
}

// abortRecheck is how long after aborting an upload abortStream looks
// whether parts that were in flight have made it exist again.
var abortRecheck = time.Second

// abortStream aborts a failed upload, even when ctx is done. A part that
// was in flight when the upload failed may still land after the abort,
// and S3 (and the local server) then keep it, billed, under the upload: as
// S3's documentation advises, abortStream looks again a little later and
// aborts once more if the upload has parts. NotFound is success: the
// upload already ended (a lost answer's Complete, or an abort from
// elsewhere).
func abortStream(ctx context.Context, s object.Store, key, uploadID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if err := s.AbortUpload(ctx, key, uploadID); err != nil && !errors.Is(err, object.ErrNotFound) {
		return err
	}
	time.Sleep(abortRecheck)
	if parts, err := s.ListParts(ctx, key, uploadID); err == nil && len(parts) > 0 {
		if err := s.AbortUpload(ctx, key, uploadID); err != nil && !errors.Is(err, object.ErrNotFound) {
			return err
		}
	}
	return nil
}

// fill reads buf full from in and reports whether the input ended within
// it; peeking one byte tells an input of exactly len(buf) from a longer one.
func fill(in *bufio.Reader, buf []byte) (n int, last bool, err error) {
	n, err = io.ReadFull(in, buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	case err != nil:
		return 0, false, fmt.Errorf("read: %w", err)
	}
	last, err = ended(in)
	return n, last, err
}

// ended reports whether in has nothing more to give.
func ended(in *bufio.Reader) (bool, error) {
	if _, err := in.Peek(1); errors.Is(err, io.EOF) {
		return true, nil
	} else if err != nil {
		return false, fmt.Errorf("read: %w", err)
	}
	return false, nil
}

// run sends head (a full head, not the end of the stream) and the rest of
// in, part by part, then completes the upload. It returns the bytes stored.
func (u *streamUpload) run(ctx context.Context, in *bufio.Reader, head []byte) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gate := u.o.gate(0) // the disk budget bounds the bytes in flight
	var wg sync.WaitGroup
	var total int64
	for number := int32(1); ctx.Err() == nil; number++ {
		if number > MaxParts {
			u.fail(fmt.Errorf("%w: the stream is longer than the %s bytes of %d parts of up to %s bytes; declare its size to plan larger parts", ErrTooLarge, formatInt(MaxStreamSize), MaxParts, formatInt(object.MaxPartSize)), cancel)
			break
		}
		size := u.sizes(number)
		if err := u.disk.take(ctx, size); err != nil {
			u.fail(err, cancel)
			break
		}
		body, release, last, err := u.spool(in, number, size, head)
		head = nil
		if err != nil {
			u.disk.give(size)
			u.fail(err, cancel)
			break
		}
		total += body.Size
		// The gate times the transfer alone, not the spooling before it.
		t, err := gate.Acquire(ctx)
		if err != nil {
			release()
			u.disk.give(size)
			u.fail(err, cancel)
			break
		}
		wg.Go(func() {
			err := u.send(ctx, number, body)
			release()
			u.disk.give(size)
			gate.Release(t, err == nil)
			if err != nil {
				u.fail(err, cancel)
			}
		})
		if last {
			break
		}
	}
	wg.Wait()

	u.mu.Lock()
	defer u.mu.Unlock()
	if u.firstErr != nil {
		return 0, u.firstErr
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := object.Complete(ctx, u.store, u.key, u.uploadID, u.parts, total); err != nil {
		return 0, err
	}
	return total, nil
}

// spool makes part number, of size bytes (fewer for the last), from head
// and then in. A part that is all head is sent from memory; any other is
// written to a spool file, which release closes. last says that the stream
// ended with this part.
func (u *streamUpload) spool(in *bufio.Reader, number int32, size int64, head []byte) (body object.PartBody, release func(), last bool, err error) {
	if int64(len(head)) == size {
		last, err = ended(in)
		return object.BytesPart(head), func() {}, last, err
	}
	f, err := u.dir.create()
	if err != nil {
		return object.PartBody{}, nil, false, err
	}
	crc := object.NewCRC32C()
	w := io.MultiWriter(f, crc)
	if _, err := w.Write(head); err != nil {
		f.Close()
		return object.PartBody{}, nil, false, fmt.Errorf("spool part %d: %w", number, err)
	}
	n, err := io.CopyBuffer(w, io.LimitReader(in, size-int64(len(head))), u.buf)
	n += int64(len(head))
	if err == nil && n == size {
		last, err = ended(in)
	} else if err == nil {
		last = true
	}
	if err != nil {
		f.Close()
		return object.PartBody{}, nil, false, fmt.Errorf("spool part %d: %w", number, err)
	}
	body = object.PartBody{
		Size:   n,
		CRC32C: object.CRC32CString(crc.Sum32()),
		// Each attempt reads the file again from its start.
		Open: func() (io.Reader, error) { return io.NewSectionReader(f, 0, n), nil },
	}
	return body, func() { f.Close() }, last, nil
}

// send uploads one part and notes it.
func (u *streamUpload) send(ctx context.Context, number int32, body object.PartBody) error {
	p, err := u.store.UploadPart(ctx, u.key, u.uploadID, number, object.CountingPart(body, u.o.OnSent))
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.parts = append(u.parts, p)
	if u.o.OnPart != nil {
		u.o.OnPart(p)
	}
	return nil
}

// fail records the first error and stops the other parts.
func (u *streamUpload) fail(err error, cancel context.CancelFunc) {
	u.mu.Lock()
	if u.firstErr == nil {
		u.firstErr = err
	}
	u.mu.Unlock()
	cancel()
	if u.stopReading != nil {
		u.stopReading()
	}
}
