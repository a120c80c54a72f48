package restoring

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errSlowDown = errors.New("SlowDown")

func isSlowDown(err error) bool { return errors.Is(err, errSlowDown) }

// fast is a pool whose waits are short, so tests do not sleep long.
func fast(workers int) Pool {
	return Pool{Workers: workers, Throttled: isSlowDown, MinWait: time.Millisecond, MaxWait: 4 * time.Millisecond}
}

// TestPoolKeepsOrder: each call's error lands at its index, however the
// calls finish: here the later ones first.
func TestPoolKeepsOrder(t *testing.T) {
	const n = 50
	var gates [n]chan struct{}
	for i := range gates {
		gates[i] = make(chan struct{})
	}
	// Call i finishes only after call i+1 has, so the last finishes first.
	errs, err := Pool{Workers: n}.Run(context.Background(), n, func(_ context.Context, i int) error {
		if i+1 < n {
			<-gates[i+1]
		}
		close(gates[i])
		if i%7 == 3 {
			return fmt.Errorf("call %d failed", i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		want := ""
		if i%7 == 3 {
			want = fmt.Sprintf("call %d failed", i)
		}
		if got := fmt.Sprint(e); e == nil && want != "" || e != nil && got != want {
			t.Errorf("errs[%d] = %v, want %q", i, e, want)
		}
	}
}

// TestPoolBoundsInFlight: never more than Workers calls at once, and the
// pool does use them all. The first calls are held: Workers of them
// arrive, and no other while they are held.
func TestPoolBoundsInFlight(t *testing.T) {
	for _, workers := range []int{1, 4, 32} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			var now, peak atomic.Int32
			arrived := make(chan struct{}, 200)
			release := make(chan struct{})
			ran := make(chan error)
			go func() {
				_, err := Pool{Workers: workers}.Run(context.Background(), 200, func(_ context.Context, i int) error {
					cur := now.Add(1)
					defer now.Add(-1)
					for {
						p := peak.Load()
						if cur <= p || peak.CompareAndSwap(p, cur) {
							break
						}
					}
					arrived <- struct{}{}
					<-release
					return nil
				})
				ran <- err
			}()
			for range workers {
				<-arrived
			}
			select {
			case <-arrived:
				t.Errorf("more than %d calls in flight", workers)
			case <-time.After(50 * time.Millisecond):
			}
			close(release)
			if err := <-ran; err != nil {
				t.Fatal(err)
			}
			if p := peak.Load(); p != int32(workers) {
				t.Errorf("peak of %d calls in flight, want %d", p, workers)
			}
		})
	}
}

// TestPoolRetriesThrottled: a share of the calls are throttled, some many
// times over; every one is made again until it goes through.
func TestPoolRetriesThrottled(t *testing.T) {
	const n, workers = 300, 16
	var mu sync.Mutex
	tries := make([]int, n)
	var now atomic.Int32
	errs, err := fast(workers).Run(context.Background(), n, func(_ context.Context, i int) error {
		now.Add(1)
		defer now.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		tries[i]++
		if i%5 == 0 && tries[i] <= 1+i%4 {
			return fmt.Errorf("restore %d: %w", i, errSlowDown)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Errorf("errs[%d] = %v, want nil: throttles are sent again", i, e)
		}
		want := 1
		if i%5 == 0 {
			want = 2 + i%4
		}
		if tries[i] != want {
			t.Errorf("call %d made %d times, want %d", i, tries[i], want)
		}
	}
}

// TestLimiterBacksOff: a throttle halves the calls allowed in flight and
// holds new ones back; throttles of calls begun before it say nothing new;
// calls that go through let the limit grow back.
func TestLimiterBacksOff(t *testing.T) {
	l := &limiter{limit: 16, max: 16, minWait: time.Hour, maxWait: 2 * time.Hour, changed: make(chan struct{})}
	ctx := context.Background()
	var epochs []int
	for range 3 {
		e, err := l.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		epochs = append(epochs, e)
	}
	if !l.release(epochs[0], 0, true, 1) {
		t.Fatal("a throttled call is not made again")
	}
	if l.limit != 8 || time.Until(l.resume) < 30*time.Minute {
		t.Fatalf("after a throttle: limit %d, resume in %v; want 8 and about an hour", l.limit, time.Until(l.resume))
	}
	// Begun before the throttle: sent again, and the limit stays.
	if !l.release(epochs[1], 1, true, 1) || l.limit != 8 || l.streak != 1 {
		t.Fatalf("a stale throttle changed the limiter: limit %d, streak %d", l.limit, l.streak)
	}
	// New calls wait out the pause.
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire during the pause: %v, want to wait", err)
	}
	l.resume = time.Time{}
	if l.release(epochs[2], 2, false, 0) || l.streak != 0 {
		t.Fatal("a call that went through is made again, or the streak stands")
	}
	for range 8 * 3 {
		e, _ := l.acquire(ctx)
		l.release(e, 3, false, 0)
	}
	if l.limit <= 8 || l.limit > 16 {
		t.Fatalf("limit %d after many calls went through, want it grown back toward 16", l.limit)
	}
}

// TestPoolGivesUp: a server that throttles every request is given up on
// after GiveUp throttles in a row; the calls not made are ErrNotSent.
func TestPoolGivesUp(t *testing.T) {
	var calls atomic.Int32
	errs, err := fast(4).Run(context.Background(), 100, func(context.Context, int) error {
		calls.Add(1)
		return errSlowDown
	})
	if err != nil {
		t.Fatal(err)
	}
	throttled, notSent := 0, 0
	for _, e := range errs {
		switch {
		case errors.Is(e, errSlowDown):
			throttled++
		case errors.Is(e, ErrNotSent):
			notSent++
		default:
			t.Errorf("error %v, want SlowDown or ErrNotSent", e)
		}
	}
	if throttled == 0 || throttled+notSent != 100 || notSent < 90 {
		t.Errorf("%d throttled and %d not sent, want most not sent", throttled, notSent)
	}
	if c := calls.Load(); c > 4*GiveUp {
		t.Errorf("%d calls made before giving up, want at most %d", c, 4*GiveUp)
	}
}

// TestPoolStopsOnCancel: once the context ends, no new call begins.
func TestPoolStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	errs, err := Pool{Workers: 4}.Run(ctx, 1000, func(ctx context.Context, i int) error {
		if calls.Add(1) == 10 {
			cancel()
		}
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if c := calls.Load(); c > 10+4 {
		t.Errorf("%d calls made, want at most the 10th and those already begun", c)
	}
	if errs[999] != nil {
		t.Errorf("a call never made has error %v", errs[999])
	}
}

// TestPoolFailsOneRefusedCall: a call throttled every time fails after
// GiveUp tries with its own error, while the others, which go through,
// are all made: the pool as a whole does not give up.
func TestPoolFailsOneRefusedCall(t *testing.T) {
	var tries atomic.Int32
	errs, err := fast(4).Run(context.Background(), 100, func(_ context.Context, i int) error {
		if i == 10 {
			tries.Add(1)
			return errSlowDown
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if i == 10 && !errors.Is(e, errSlowDown) || i != 10 && e != nil {
			t.Errorf("errs[%d] = %v", i, e)
		}
	}
	if n := tries.Load(); n != GiveUp {
		t.Errorf("the refused call was made %d times, want %d", n, GiveUp)
	}
}
