package object

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"
)

// PartBody is what UploadPart sends: Size bytes, which Open gives from the
// first byte every time it is called. A part is opened again whenever the
// request is sent again, so a body is never held in memory unless it
// already is: a part of several GiB streams from its source.
type PartBody struct {
	Size int64
	// CRC32C is the base64 big-endian CRC-32C of the bytes, sent ahead of
	// them, so that the store refuses a part that does not match.
	CRC32C string
	// Open gives the bytes from the start. A reader that cannot give the
	// same bytes again (the source changed) must fail rather than give
	// others.
	Open func() (io.Reader, error)
}

// BytesPart is a part held in memory.
func BytesPart(b []byte) PartBody {
	return PartBody{
		Size:   int64(len(b)),
		CRC32C: ChecksumCRC32C(b),
		Open:   func() (io.Reader, error) { return bytes.NewReader(b), nil },
	}
}

// ReadPart reads a whole part into memory; the in-memory store and tests
// use it. It fails if the body does not give exactly Size bytes.
func ReadPart(body PartBody) ([]byte, error) {
	if body.Open == nil {
		return nil, errors.New("part body without a source")
	}
	r, err := body.Open()
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, body.Size+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != body.Size {
		return nil, fmt.Errorf("part body gave %d bytes, not %d", len(b), body.Size)
	}
	return b, nil
}

// NewCRC32C returns a running CRC-32C, for bodies whose checksum is computed
// as they are produced; CRC32CString encodes its sum as S3 wants it.
func NewCRC32C() hash.Hash32 { return crc32.New(castagnoli) }

// CRC32CString encodes a CRC-32C sum as S3 sends and expects it.
func CRC32CString(sum uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], sum)
	return base64.StdEncoding.EncodeToString(b[:])
}

// rewindable is a PartBody as the SDK needs it: an io.ReadSeeker, which it
// rewinds to send a request again. A seek reopens the body and skips to the
// offset: the SDK only ever seeks to where the body started or asks where
// it is.
type rewindable struct {
	body PartBody
	r    io.Reader
	off  int64
	err  error
}

func newRewindable(body PartBody) *rewindable { return &rewindable{body: body} }

// BodyError is a part body's own failure (its source changed, could not
// be read): sending the part again cannot mend it, so the S3 store never
// retries it, and it reaches the caller unwrapped by any "unavailable".
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return e.Err.Error() }
func (e *BodyError) Unwrap() error { return e.Err }

// isBodyError reports whether err is, or wraps, a part body's own failure.
func isBodyError(err error) bool {
	var be *BodyError
	return errors.As(err, &be)
}

func (w *rewindable) Read(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.r == nil {
		r, err := w.body.Open()
		if err != nil {
			w.err = &BodyError{err}
			return 0, w.err
		}
		w.r = r
		if w.off > 0 {
			if _, err := io.CopyN(io.Discard, w.r, w.off); err != nil {
				w.err = &BodyError{err}
				return 0, w.err
			}
		}
	}
	if left := w.body.Size - w.off; int64(len(p)) > left {
		p = p[:left]
	}
	if len(p) == 0 {
		return 0, io.EOF
	}
	n, err := w.r.Read(p)
	w.off += int64(n)
	switch {
	case errors.Is(err, io.EOF) && w.off < w.body.Size:
		w.err = &BodyError{io.ErrUnexpectedEOF}
		return n, w.err
	case errors.Is(err, io.EOF):
		err = nil
	case err != nil:
		w.err = &BodyError{err}
		return n, w.err
	}
	return n, err
}

func (w *rewindable) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += w.off
	case io.SeekEnd:
		offset += w.body.Size
	}
	if offset < 0 || offset > w.body.Size {
		return w.off, fmt.Errorf("seek to %d of a part of %d bytes", offset, w.body.Size)
	}
	if offset != w.off || w.err != nil || whence == io.SeekStart {
		// The next Read opens the body again and skips to offset: an
		// attempt that failed, even before its first byte, starts afresh.
		w.r, w.off, w.err = nil, offset, nil
	}
	return offset, nil
}

// CountingPart reports the bytes of body as they are read, to onSent, for
// a progress bar: each byte once, however often the part is sent again,
// an attempt that starts over counting only past where the others had
// reached. onSent may be called from several goroutines at once.
func CountingPart(body PartBody, onSent func(n int64)) PartBody {
	if onSent == nil {
		return body
	}
	var mu sync.Mutex
	var reached int64 // the furthest any attempt has read
	open := body.Open
	body.Open = func() (io.Reader, error) {
		r, err := open()
		if err != nil {
			return nil, err
		}
		return &countingPart{r: r, note: func(off int64) {
			mu.Lock()
			more := off - reached
			if more > 0 {
				reached = off
			}
			mu.Unlock()
			if more > 0 {
				onSent(more)
			}
		}}, nil
	}
	return body
}

type countingPart struct {
	r    io.Reader
	off  int64
	note func(off int64)
}

func (c *countingPart) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.off += int64(n)
		c.note(c.off)
	}
	return n, err
}
