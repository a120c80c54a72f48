package archive

import (
	"context"
	"io"
)

// interruptible makes the reads of a stream end when ctx does. A pipe's
// reader waits for as long as its writer takes (pg_dump, zfs send over
// ssh), and a put whose part failed, or that was interrupted, must stop
// reading and abort its upload now, not once the producer has written a
// part's worth more. Each read runs in a goroutine of its own, into a
// buffer of its own; one that ctx abandons is left to finish on its own,
// and its bytes are never used.
type interruptible struct {
	ctx context.Context
	r   io.Reader
	buf []byte
}

type readResult struct {
	n   int
	err error
}

func (i *interruptible) Read(p []byte) (int, error) {
	if err := i.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if cap(i.buf) < len(p) {
		i.buf = make([]byte, len(p))
	}
	buf := i.buf[:len(p)]
	done := make(chan readResult, 1)
	go func() {
		n, err := i.r.Read(buf)
		done <- readResult{n, err}
	}()
	select {
	case res := <-done:
		return copy(p, buf[:res.n]), res.err
	case <-i.ctx.Done():
		i.buf = nil // the abandoned read may still write into it
		return 0, i.ctx.Err()
	}
}
