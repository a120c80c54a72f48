package flight

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a fake time that the tests move.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func adaptive(c *clock) *Gate { return newGate(Max, Min, Max, false, c.Now) }

// wave starts n transfers, lets each take d, and ends them.
func wave(t *testing.T, g *Gate, c *clock, n int, d time.Duration) {
	t.Helper()
	tickets := make([]Ticket, n)
	for i := range tickets {
		tk, err := g.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tickets[i] = tk
	}
	c.Add(d)
	for _, tk := range tickets {
		g.Release(tk, true)
	}
}

// TestAdaptiveStartsAtMax: nothing slow, nothing changes: 32 in flight.
func TestAdaptiveStartsAtMax(t *testing.T) {
	c := &clock{now: time.Unix(0, 0)}
	g := adaptive(c)
	for range 5 {
		wave(t, g, c, g.Level(), time.Second)
	}
	if g.Level() != Max || len(g.Steps()) != 0 {
		t.Fatalf("level %d, steps %v; want %d, none", g.Level(), g.Steps(), Max)
	}
}

// TestSlowLinkHalvesToMin: on a link that gives R in all, L transfers of B
// bytes take L·B/R. Transfers that take over Slow halve the level until
// they do not, and not below Min.
func TestSlowLinkHalvesToMin(t *testing.T) {
	c := &clock{now: time.Unix(0, 0)}
	g := adaptive(c)
	const perByte = time.Second / (1 << 20) // the link: 1 MiB/s in all
	const part = 16 << 20
	for range 20 {
		level := g.Level()
		wave(t, g, c, level, time.Duration(level)*part*perByte)
	}
	if g.Level() != Min {
		t.Fatalf("level %d after a 1 MiB/s link, want %d; steps %v", g.Level(), Min, g.Steps())
	}
	// 32 → 16 → 8 → 4, each step taken on a mean over Slow.
	steps := g.Steps()
	if len(steps) != 3 || steps[0].From != 32 || steps[2].To != 4 {
		t.Fatalf("steps %v", steps)
	}
	for _, s := range steps {
		if s.Mean <= Slow {
			t.Errorf("step %v taken on a mean under %v", s, Slow)
		}
	}
}

// TestLevelSettlesWhereFast: a link of 20 MiB/s in all with 16 MiB parts:
// 32 in flight take 25.6 s each, under Slow: the level stays; on 10 MiB/s
// they take 51 s, and 16 take 25.6 s: it settles at 16 without swinging.
func TestLevelSettlesWhereFast(t *testing.T) {
	for _, tc := range []struct {
		rate int64 // bytes per second
		want int
	}{{20 << 20, 32}, {10 << 20, 16}, {1 << 30, 32}} {
		c := &clock{now: time.Unix(0, 0)}
		g := adaptive(c)
		for range 30 {
			level := g.Level()
			wave(t, g, c, level, time.Duration(int64(level)*(16<<20)*int64(time.Second)/tc.rate))
		}
		if g.Level() != tc.want || len(g.Steps()) > 1 {
			t.Errorf("%d MiB/s: level %d, steps %v; want %d, at most one step", tc.rate>>20, g.Level(), g.Steps(), tc.want)
		}
	}
}

// TestLevelRisesWhenLinkImproves: after a slow spell, fast transfers
// double the level back up to Max.
func TestLevelRisesWhenLinkImproves(t *testing.T) {
	c := &clock{now: time.Unix(0, 0)}
	g := adaptive(c)
	for range 10 {
		wave(t, g, c, g.Level(), 2*Slow)
	}
	if g.Level() != Min {
		t.Fatalf("level %d, want %d", g.Level(), Min)
	}
	for range 10 {
		wave(t, g, c, g.Level(), time.Second)
	}
	if g.Level() != Max {
		t.Fatalf("level %d after fast transfers, want %d; steps %v", g.Level(), Max, g.Steps())
	}
}

// TestFailedTransfersDecideNothing: a round with a failure is measured
// again; failures alone never move the level.
func TestFailedTransfersDecideNothing(t *testing.T) {
	c := &clock{now: time.Unix(0, 0)}
	g := adaptive(c)
	for range 10 {
		var tickets []Ticket
		for range g.Level() {
			tk, _ := g.Acquire(context.Background())
			tickets = append(tickets, tk)
		}
		c.Add(2 * Slow)
		for _, tk := range tickets {
			g.Release(tk, false)
		}
	}
	if g.Level() != Max {
		t.Fatalf("level %d after failures only, want %d", g.Level(), Max)
	}
}

// TestFixedNeverMoves: --concurrency is the level, however slow.
func TestFixedNeverMoves(t *testing.T) {
	c := &clock{now: time.Unix(0, 0)}
	g := newGate(3, 3, 3, true, c.Now)
	for range 5 {
		wave(t, g, c, 3, 10*Slow)
	}
	if g.Level() != 3 || len(g.Steps()) != 0 {
		t.Fatalf("level %d, steps %v", g.Level(), g.Steps())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	for range 3 {
		if _, err := g.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.Acquire(ctx); err == nil {
		t.Fatal("a fourth transfer was let through a gate of 3")
	}
}

// TestNeverMoreThanLevelInFlight runs transfers from many goroutines while
// the level halves and doubles: in flight never exceeds the level it had
// when each started, nor Max, and after a halving the excess drains.
func TestNeverMoreThanLevelInFlight(t *testing.T) {
	c := &clock{now: time.Unix(0, 0)}
	g := adaptive(c)
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	slow := atomic.Bool{}
	slow.Store(true)
	for range 64 {
		wg.Go(func() {
			for range 50 {
				tk, err := g.Acquire(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				n := inFlight.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				if n > Max {
					t.Errorf("%d in flight", n)
				}
				if slow.Load() {
					c.Add(5 * time.Second)
				}
				inFlight.Add(-1)
				g.Release(tk, true)
			}
		})
	}
	wg.Wait()
	if peak.Load() > Max {
		t.Fatalf("peak %d", peak.Load())
	}
	// Whatever happened, every slot is back: Level transfers can start now.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for range g.Level() {
		if _, err := g.Acquire(ctx); err != nil {
			t.Fatalf("level %d but a slot is missing: %v", g.Level(), err)
		}
	}
}

// TestAdaptiveForLargeParts: what is in flight stays within MaxBytes, and
// never below Min transfers.
func TestAdaptiveForLargeParts(t *testing.T) {
	for _, c := range []struct {
		size int64
		want int
	}{{16 << 20, Max}, {64 << 20, 32}, {128 << 20, 16}, {1 << 30, Min}, {5 << 30, Min}, {0, Max}} {
		if got := AdaptiveFor(c.size).Level(); got != c.want {
			t.Errorf("AdaptiveFor(%d MiB) starts at %d, want %d", c.size>>20, got, c.want)
		}
	}
}
