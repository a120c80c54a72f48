package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/awnumar/memguard"
)

// maxLineLen bounds one line of input (a password, an answer), so a stray
// binary file given as a password file cannot exhaust locked memory. A
// line this long fits one locked page, so reading it takes no more locked
// memory than harden.LockPages counts on, even where the limit is as low as
// FreeBSD's default of 64 KiB.
const maxLineLen = 4 << 10

var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLineLen)

// lineBuffer accumulates one line in locked memory.
type lineBuffer struct {
	buf *memguard.LockedBuffer // nil until the first byte
	n   int
}

func (l *lineBuffer) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if l.n+len(p) > maxLineLen {
		return errLineTooLong
	}
	if l.buf == nil || l.n+len(p) > l.buf.Size() {
		size := max(os.Getpagesize(), 2*l.n, l.n+len(p))
		grown := memguard.NewBuffer(size)
		if l.buf != nil {
			copy(grown.Bytes(), l.buf.Bytes()[:l.n])
			l.buf.Destroy()
		}
		l.buf = grown
	}
	l.n += copy(l.buf.Bytes()[l.n:], p)
	return nil
}

// take returns the line without "\n" or "\r\n" in a buffer of its exact
// size, or nil if it is empty, and releases the accumulator.
func (l *lineBuffer) take() *memguard.LockedBuffer {
	if l.buf == nil {
		return nil
	}
	defer l.destroy()
	line := l.buf.Bytes()[:l.n]
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil
	}
	out := memguard.NewBuffer(len(line))
	copy(out.Bytes(), line)
	out.Freeze()
	return out
}

func (l *lineBuffer) destroy() {
	if l.buf != nil {
		l.buf.Destroy()
		l.buf, l.n = nil, 0
	}
}

// readLine reads one line from the shared stdin reader. It copies each
// chunk out of bufio's buffer and wipes it there, so typed secrets do not
// linger in ordinary memory. At end of input it returns what it has; nil
// means an empty line or nothing at all.
func readLine(r *bufio.Reader) (*memguard.LockedBuffer, error) {
	var line lineBuffer
	for {
		chunk, err := r.ReadSlice('\n')
		werr := line.write(chunk)
		clear(chunk) // consumed: bufio never reads these bytes again
		if werr != nil {
			line.destroy()
			return nil, werr
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil, errors.Is(err, io.EOF):
			return line.take(), nil
		default:
			line.destroy()
			return nil, err
		}
	}
}

// firstLine reads the first line of r, reading past it at most a chunk.
// nil means the line is empty.
func firstLine(r io.Reader) (*memguard.LockedBuffer, error) {
	var line lineBuffer
	var scratch [512]byte
	defer clear(scratch[:])
	for {
		n, err := r.Read(scratch[:])
		chunk := scratch[:n]
		end := bytes.IndexByte(chunk, '\n')
		if end >= 0 {
			chunk = chunk[:end+1]
		}
		if werr := line.write(chunk); werr != nil {
			line.destroy()
			return nil, werr
		}
		switch {
		case end >= 0, errors.Is(err, io.EOF):
			return line.take(), nil
		case err != nil:
			line.destroy()
			return nil, err
		}
	}
}

// destroy releases a buffer that may be nil.
func destroy(b *memguard.LockedBuffer) {
	if b != nil {
		b.Destroy()
	}
}
