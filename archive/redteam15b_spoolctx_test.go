package archive

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
)

// trickle is a stream that gives fast bytes first, then trickles (a slow
// producer: pg_dump, zfs send of an idle dataset, a pipe over ssh) until
// stop is closed.
type trickle struct {
	fast int64
	stop chan struct{}
}

func (s *trickle) Read(p []byte) (int, error) {
	if s.fast > 0 {
		k := int(min(int64(len(p)), s.fast))
		clear(p[:k])
		s.fast -= int64(k)
		return k, nil
	}
	select {
	case <-s.stop:
		return 0, errors.New("producer stopped by the test")
	case <-time.After(20 * time.Millisecond):
	}
	k := min(len(p), 4096)
	clear(p[:k])
	return k, nil
}

// TestRedteam15bFailedPutStopsReading: once a part of a spooled stream has
// failed (u.fail cancels ctx), the put should stop and report it. The
// reading loop only looks at ctx between parts: spool() copies the whole
// next part (up to 5 GiB with --expected-size) from stdin to disk with
// io.CopyBuffer before anyone looks, so a failed put of a slow producer
// goes on reading it, and writing it to the state directory, for as long
// as that part takes to arrive (here ~80 s for 16 MiB at 200 KiB/s; hours
// for a 5 GiB part), holding the storage ID's lock, before saying anything.
func TestRedteam15bFailedPutStopsReading(t *testing.T) {
	dir := t.TempDir()
	s := newWatchedSpool(t, dir)
	s.fail = 1 // the head, sent from memory as soon as part 2 starts
	src := &trickle{fast: headSize/crypt.MaxPackageLen*crypt.PackageSize + 1<<20, stop: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, _, err := Put(t.Context(), s, lend(make([]byte, crypt.MasterKeySize)),
			Source{R: src, Name: "stream", Size: -1}, PutOptions{SpoolDir: dir})
		done <- err
	}()
	select {
	case n := <-s.sent:
		if n != 1 {
			t.Fatalf("first part sent: %d", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("part 1 never sent")
	}
	select {
	case err := <-done:
		if !errors.Is(err, errPartFailed) {
			t.Errorf("Put: %v, want the part's failure", err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("3 s after part 1 failed the put is still spooling part 2 from stdin (%d spool files open)", len(spoolFiles(t, dir)))
		close(src.stop)
		err := <-done
		t.Logf("once the producer stopped: %v", err)
	}
}

// abortCount counts the aborts of a watchedSpool.
type abortCount struct {
	*watchedSpool
	aborts atomic.Int32
}

func (a *abortCount) AbortUpload(ctx context.Context, key, id string) error {
	a.aborts.Add(1)
	return a.watchedSpool.AbortUpload(ctx, key, id)
}

// TestRedteam15bInterruptAbortsInTime: on Ctrl-C or SIGTERM main.go
// cancels ctx and, interruptGrace (3 s) later, exits the process whatever
// is still running. A put of stdin must have aborted its multipart upload
// by then, or every part already sent (up to TiBs of a long stream) stays
// in S3, billed, until someone runs "ogive uploads --abort". While the
// put spools a part, it does not look at ctx: with a producer that the
// signal did not reach (stdin redirected from a file or a FIFO, "kill
// PID" of ogive alone, a producer in another process group) it goes on
// copying up to a whole part (5 GiB with --expected-size, at disk speed
// tens of seconds) and is killed before abortStream runs.
func TestRedteam15bInterruptAbortsInTime(t *testing.T) {
	dir := t.TempDir()
	s := &abortCount{watchedSpool: newWatchedSpool(t, dir)}
	src := &trickle{fast: headSize/crypt.MaxPackageLen*crypt.PackageSize + 1<<20, stop: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := Put(ctx, s, lend(make([]byte, crypt.MasterKeySize)),
			Source{R: src, Name: "stream", Size: -1}, PutOptions{SpoolDir: dir})
		done <- err
	}()
	select {
	case <-s.sent: // part 1 is in S3; part 2 is being spooled
	case <-time.After(30 * time.Second):
		t.Fatal("part 1 never sent")
	}
	time.Sleep(100 * time.Millisecond)
	cancel()                               // Ctrl-C
	const interruptGrace = 3 * time.Second // main.go
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || s.aborts.Load() == 0 {
			t.Errorf("Put: %v, %d aborts", err, s.aborts.Load())
		}
	case <-time.After(interruptGrace):
		t.Errorf("%v after Ctrl-C the put is still spooling part 2 and has not aborted its upload (%d aborts): main.go exits now, leaving part 1 in S3", interruptGrace, s.aborts.Load())
		close(src.stop)
		<-done
	}
}
