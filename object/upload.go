package object

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Defaults for UploadOptions.
const (
	defaultPartSize    = 16 << 20
	defaultConcurrency = 4
)

// abortTimeout bounds the clean-up of a failed upload, which runs even
// when the caller's context is done.
const abortTimeout = time.Minute

var errTooManyParts = errors.New("input needs more than 10000 parts")

// UploadOptions configure Upload.
type UploadOptions struct {
	PutOptions
	PartSize int64 // 0 → 16 MiB; otherwise MinPartSize to MaxPartSize
	// PartSizes, if set, gives the size of each part by its number (from
	// 1) and PartSize is ignored. It lets an input of unknown length start
	// with small parts and grow them, so that it can reach S3's largest
	// object within MaxParts parts while a short one still needs little
	// memory. Every size must be MinPartSize to MaxPartSize.
	PartSizes   func(number int32) int64
	Concurrency int // parts in flight; 0 → 4
	// OnPart, if set, is called as the store acknowledges each part, in
	// completion order, never concurrently. An input that fits in one part
	// is stored with a single Put and reported as part 1 without an ETag.
	OnPart func(Part)
	// OnSent, if set, is called with the bytes of the upload as they leave
	// for the store, each byte once (see CountingPart); an input stored with
	// a single Put is reported once it is stored. It may be called from
	// several goroutines at once.
	OnSent func(n int64)
}

// limits checks the options and returns the part size schedule and the
// concurrency they mean.
func (o UploadOptions) limits() (partSizes func(int32) (int, error), concurrency int, err error) {
	sizeOf := o.PartSizes
	if sizeOf == nil {
		partSize := o.PartSize
		if partSize == 0 {
			partSize = defaultPartSize
		}
		sizeOf = func(int32) int64 { return partSize }
	}
	partSizes = func(number int32) (int, error) {
		size := sizeOf(number)
		if size < MinPartSize || size > MaxPartSize {
			return 0, fmt.Errorf("size %d of part %d outside %d-%d", size, number, MinPartSize, int64(MaxPartSize))
		}
		return int(size), nil
	}
	if _, err := partSizes(1); err != nil {
		return nil, 0, err
	}
	concurrency = o.Concurrency
	if concurrency == 0 {
		concurrency = defaultConcurrency
	}
	if concurrency < 0 {
		return nil, 0, fmt.Errorf("negative concurrency %d", concurrency)
	}
	return partSizes, concurrency, nil
}

// Upload streams r into key as a multipart upload, with up to Concurrency
// parts in flight and never more than Concurrency × PartSize bytes of r in
// memory (with PartSizes: Concurrency × the size of the part being read).
// An input that fits in one part is stored with a single Put. On an
// error, or when ctx is done, the multipart upload is aborted so that its
// parts stop costing storage. It returns the number of bytes stored.
//
// A Read of r already under way is not interrupted by ctx.
func Upload(ctx context.Context, s Store, key string, r io.Reader, o UploadOptions) (int64, error) {
	partSizes, concurrency, err := o.limits()
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", key, err)
	}
	in := bufio.NewReader(r)
	firstSize, _ := partSizes(1) // checked by limits
	first := make([]byte, firstSize)
	n, last, err := readPart(in, first)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", key, err)
	}
	if last {
		return PutWhole(ctx, s, key, first[:n], o)
	}

	uploadID, err := s.CreateUpload(ctx, key, o.PutOptions)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", key, err)
	}
	u := &multipart{
		store:     s,
		key:       key,
		uploadID:  uploadID,
		onPart:    o.OnPart,
		onSent:    o.OnSent,
		partSizes: partSizes,
		free:      make(chan []byte, concurrency),
	}
	total, err := u.run(ctx, in, first, n)
	if err != nil {
		// The caller's ctx may be what failed; the abort must still go out.
		abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		// NotFound: the upload already ended, completed by a lost answer's
		// Complete, or aborted by someone else; nothing is left to abort.
		if abortErr := s.AbortUpload(abortCtx, key, uploadID); abortErr != nil && !errors.Is(abortErr, ErrNotFound) {
			err = fmt.Errorf("%w; abort: %w", err, abortErr)
		}
		return 0, fmt.Errorf("upload %s: %w", key, err)
	}
	return total, nil
}

// PutWhole stores body with one Put, as Upload does an input that fits in
// one part, and reports it to o.OnPart and o.OnSent. When the answer to a PutObject is
// lost, the SDK sends it again and S3 refuses the repeat with 412, the
// object being there: ErrExists is success if key holds body, as its ETag
// shows. (Under SSE-KMS or SSE-C the ETag is no MD5, and such a repeat
// stays an error: nothing is lost, the put can be run again.)
func PutWhole(ctx context.Context, s Store, key string, body []byte, o UploadOptions) (int64, error) {
	if err := s.Put(ctx, key, body, o.PutOptions); err != nil &&
		!(errors.Is(err, ErrExists) && holds(ctx, s, key, int64(len(body)), bodyETag(body))) {
		return 0, fmt.Errorf("upload %s: %w", key, err)
	}
	if o.OnPart != nil {
		o.OnPart(Part{Number: 1, Size: int64(len(body)), ChecksumCRC32C: ChecksumCRC32C(body)})
	}
	if o.OnSent != nil {
		o.OnSent(int64(len(body)))
	}
	return int64(len(body)), nil
}

// readPart fills buf from in and reports whether the input ended within
// it; peeking one byte tells an input of exactly one part from a longer one.
func readPart(in *bufio.Reader, buf []byte) (n int, last bool, err error) {
	n, err = io.ReadFull(in, buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	case err != nil:
		return 0, false, fmt.Errorf("read: %w", err)
	}
	if _, err := in.Peek(1); errors.Is(err, io.EOF) {
		return n, true, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("read: %w", err)
	}
	return n, false, nil
}

// multipart is one Upload past its first part.
type multipart struct {
	store     Store
	key       string
	uploadID  string
	onPart    func(Part)
	onSent    func(int64)
	partSizes func(number int32) (int, error)

	// free holds part buffers whose upload finished. Buffers are made on
	// demand up to its capacity, which is what bounds memory and the
	// number of parts in flight. A buffer too small for a grown part is
	// dropped for a new one, so the bound holds as parts grow.
	free     chan []byte
	made     int
	lastSize int // size of the last part read

	mu       sync.Mutex
	parts    []Part
	firstErr error
}

// run uploads first (holding n bytes, not the last part) and the rest of
// in, then completes the upload. It returns the bytes stored.
func (u *multipart) run(ctx context.Context, in *bufio.Reader, first []byte, n int) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		total int64
		buf   = first
		last  bool
		err   error
	)
	u.made, u.lastSize = 1, len(first)
	for number := int32(1); ; number++ {
		if number > 1 {
			if buf, n, last, err = u.read(ctx, in, number); err != nil {
				u.fail(err, cancel)
				break
			}
		}
		total += int64(n)
		partBuf, partLen := buf, n // the loop reuses buf and n
		wg.Go(func() { u.send(ctx, cancel, number, partBuf, partLen) })
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
	if err := Complete(ctx, u.store, u.key, u.uploadID, u.parts, total); err != nil {
		return 0, err
	}
	return total, nil
}

// Complete completes a multipart upload whose parts hold size bytes in all.
// When the answer to a CompleteMultipartUpload is lost, the SDK sends it
// again, and S3 may answer the repeat 200, NoSuchUpload (the upload is
// completed) or, since the request says If-None-Match: *, 412 (the key
// holds the object it made). Complete then looks at the key:
//   - it holds this upload's object (size bytes, and the ETag S3 computes
//     from the parts' MD5s): success;
//   - it holds nothing, or another object: the error stays (ErrNotFound: the
//     upload is gone, nothing was stored; ErrExists: someone else's object
//     took the key). The upload, which S3 keeps after a 412, is the caller's
//     to abort;
//   - it holds an object of this size whose ETag proves nothing either way
//     (SSE-KMS, SSE-C), or it cannot be looked at: ErrUnconfirmed, naming
//     the key, for the archive may well be stored.
//
// The parts may be given in any order, as uploads in parallel finish them.
func Complete(ctx context.Context, s Store, key, uploadID string, parts []Part, size int64) error {
	parts = slices.SortedFunc(slices.Values(parts), func(a, b Part) int { return int(a.Number - b.Number) })
	err := s.CompleteUpload(ctx, key, uploadID, parts)
	if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrExists) {
		return err
	}
	info, herr := s.Head(ctx, key)
	switch {
	case errors.Is(herr, ErrNotFound):
		return err
	case herr != nil:
		return fmt.Errorf("complete upload %s: %w: after %v, the key could not be looked at: %v", key, ErrUnconfirmed, err, herr)
	case info.Size != size:
		return err
	}
	if sums, ok := partMD5s(parts); ok && info.ETagIsMD5() {
		if same, _ := MatchETag(info.ETag, sums); same {
			return nil
		}
		return err
	}
	return fmt.Errorf("complete upload %s: %w: after %v, an object of this upload's size holds the key, but its ETag is no MD5 and cannot tell whose it is", key, ErrUnconfirmed, err)
}

// ErrUnconfirmed means a multipart upload may or may not have been completed:
// its Complete failed in a way a lost answer also causes, and the object now
// under the key cannot be told to be the upload's or another's.
var ErrUnconfirmed = errors.New("the upload's completion cannot be confirmed")

// holds reports whether key holds an object of size bytes and that ETag.
func holds(ctx context.Context, s Store, key string, size int64, etag string) bool {
	info, err := s.Head(ctx, key)
	return err == nil && info.Size == size && sameETag(info.ETag, etag)
}

// read reads part number from in into a buffer of the part's size.
func (u *multipart) read(ctx context.Context, in *bufio.Reader, number int32) (buf []byte, n int, last bool, err error) {
	if number > MaxParts {
		return nil, 0, false, fmt.Errorf("%w: part %d of %d bytes", errTooManyParts, number-1, u.lastSize)
	}
	size, err := u.partSizes(number)
	if err != nil {
		return nil, 0, false, err
	}
	u.lastSize = size
	if buf, err = u.buffer(ctx, size); err != nil {
		return nil, 0, false, err
	}
	n, last, err = readPart(in, buf)
	return buf, n, last, err
}

// buffer returns a part buffer of size bytes: a free one, a new one while
// fewer than cap(free) exist, or the next one an upload in flight gives back.
func (u *multipart) buffer(ctx context.Context, size int) ([]byte, error) {
	select {
	case buf := <-u.free:
		return resize(buf, size), nil
	default:
	}
	if u.made < cap(u.free) {
		u.made++
		return make([]byte, size), nil
	}
	select {
	case buf := <-u.free:
		return resize(buf, size), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// resize returns buf as size bytes, or a new buffer when buf is too small.
func resize(buf []byte, size int) []byte {
	if cap(buf) < size {
		return make([]byte, size)
	}
	return buf[:size]
}

func (u *multipart) send(ctx context.Context, cancel context.CancelFunc, number int32, buf []byte, n int) {
	defer func() { u.free <- buf }()
	if ctx.Err() != nil {
		u.fail(ctx.Err(), cancel)
		return
	}
	p, err := u.store.UploadPart(ctx, u.key, u.uploadID, number, CountingPart(BytesPart(buf[:n]), u.onSent))
	if err != nil {
		u.fail(err, cancel)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.parts = append(u.parts, p)
	if u.onPart != nil {
		u.onPart(p)
	}
}

// fail records the first error and stops the other parts.
func (u *multipart) fail(err error, cancel context.CancelFunc) {
	u.mu.Lock()
	if u.firstErr == nil {
		u.firstErr = err
	}
	u.mu.Unlock()
	cancel()
}
