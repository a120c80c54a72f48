package archive

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/ogive-project/ogive/crypt"
)

// cancelAfter is a source that cancels the put's context at its n-th read
// (Ctrl-C while parts are being scanned) and counts the reads after it.
type cancelAfter struct {
	io.ReaderAt
	n      int32
	reads  atomic.Int32
	after  atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelAfter) ReadAt(p []byte, off int64) (int, error) {
	switch n := c.reads.Add(1); {
	case n == c.n:
		c.cancel()
	case n > c.n:
		c.after.Add(1)
	}
	return c.ReaderAt.ReadAt(p, off)
}

// TestRedteam15ScanHonoursCancel: a part's scan (and its body's second
// pass) reads and encrypts the whole part without looking at the context.
// With 32 parts in flight by default and parts of up to 5 GiB, Ctrl-C at the
// start of a large put has to wait for up to 160 GiB of reading and
// AES-GCM before PutResumable returns; main gives up after 3 s and exits
// without the "run the same command again to resume" message. Here: three
// 16 MiB parts scanned at once, cancelled at the 10th read; every read after
// that is wasted, and one package per part in flight is all a put that
// honours ctx would read.
func TestRedteam15ScanHonoursCancel(t *testing.T) {
	r := newResumeRig(t, 48<<20+5)
	src := r.source()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := &cancelAfter{ReaderAt: src.R, n: 10, cancel: cancel}
	src.R = slow
	_, err := PutResumable(ctx, standardStore(), lend(r.master), src, ResumableOptions{
		PutOptions: PutOptions{Concurrency: 3},
		States:     r.states, Bucket: "b",
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("put: %v, want context.Canceled", err)
	}
	perPart := PartSize(crypt.EncryptedSize(src.Size)) / crypt.MaxPackageLen
	if after := slow.after.Load(); after > 3*2 {
		t.Errorf("%d reads of the source after the put was cancelled (a part is %d packages): the scan does not look at ctx", after, perPart)
	}
}
