// Package flight decides how many transfers (parts of an upload, ranges of
// a download) are in flight at once.
//
// Far from the server each connection is capped, by the round trip and by
// the store's limit per connection, and only more connections fill the
// link: S3 serves some tens of MiB/s per connection, and the 100 ms model
// of make bench 10 MiB/s. Transfers stream, so memory does not grow with
// their number, and a Gate starts at Max (32), which fills 320 MiB/s at
// 10 MiB/s per connection.
//
// More transfers do not help once the link itself is full: then they only
// share it, each takes longer, and an interrupted put has more parts to
// send again. A Gate measures how long the transfers begun at its level
// take; when half a round of them (half the level) has ended, and they
// took more than Slow on average, the link is what limits them and the
// level halves, down to Min. When they take less than Slow/4, it doubles
// again, up to Max. On a link giving R bytes per second in all, L transfers
// of B bytes each take about L·B/R; halving L halves that, so the level
// does not swing between two values.
package flight

import (
	"context"
	"sync"
	"time"
)

const (
	// Max is the level an adaptive Gate starts at, and its most.
	Max = 32
	// Min is the least an adaptive Gate goes down to.
	Min = 4
	// Slow is the mean time in flight above which a level is more than
	// the link needs.
	Slow = 30 * time.Second
)

// Gate lets up to Level transfers run at once.
type Gate struct {
	slots chan struct{}
	now   func() time.Time

	mu       sync.Mutex
	level    int
	min, max int
	fixed    bool
	owed     int // slots to take back as transfers end, after a halving
	round    round
	steps    []Step
}

// round measures the current level.
type round struct {
	id    int           // which round: tickets of an earlier one do not count
	level int           // the level it measures
	begun int           // transfers begun at that level
	ended int           // of those, ended
	time  time.Duration // their time in flight, summed
}

// Step is a change of level and why: the mean time in flight of the half
// round that decided it.
type Step struct {
	From, To int
	Mean     time.Duration
}

// Fixed returns a gate that always lets n transfers run.
func Fixed(n int) *Gate {
	return newGate(n, n, n, true, time.Now)
}

// Adaptive returns a gate that starts at Max and moves between Min and Max.
func Adaptive() *Gate {
	return newGate(Max, Min, Max, false, time.Now)
}

// MaxBytes bounds what AdaptiveFor lets be in flight: large parts, on a
// link of any speed, take long to send, and what is in flight when a put
// is interrupted is sent again.
const MaxBytes = 2 << 30

// AdaptiveFor is Adaptive for transfers of size bytes each: it starts at,
// and never goes above, as many as MaxBytes holds, between Min and Max.
// Parts of 16 MiB go 32 at once; the 5 GiB parts of a 48.8 TiB file, 4.
func AdaptiveFor(size int64) *Gate {
	top := Max
	if size > 0 {
		top = int(min(max(MaxBytes/size, Min), Max))
	}
	return newGate(top, Min, top, false, time.Now)
}

func newGate(level, lo, hi int, fixed bool, now func() time.Time) *Gate {
	g := &Gate{slots: make(chan struct{}, hi), now: now, level: level, min: lo, max: hi, fixed: fixed}
	for range level {
		g.slots <- struct{}{}
	}
	g.round = round{id: 1, level: level}
	return g
}

// Ticket is one transfer let through.
type Ticket struct {
	round int // the round it is measured in; 0 if it is not
	start time.Time
}

// Acquire waits until a transfer may start, or ctx is done.
func (g *Gate) Acquire(ctx context.Context) (Ticket, error) {
	select {
	case <-g.slots:
	case <-ctx.Done():
		return Ticket{}, ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fixed || g.round.begun >= g.round.level {
		return Ticket{}, nil
	}
	g.round.begun++
	return Ticket{round: g.round.id, start: g.now()}, nil
}

// Release ends a transfer. ok is false for one that failed, whose time says
// nothing of the link.
func (g *Gate) Release(t Ticket, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.round != 0 && t.round == g.round.id {
		r := &g.round
		r.ended++
		r.time += g.now().Sub(t.start)
		switch {
		case !ok:
			g.next(g.level) // measured again from the next transfer
		case r.ended == (r.level+1)/2:
			g.decide(r.time / time.Duration(r.ended))
		}
	}
	if g.owed > 0 {
		g.owed--
		return
	}
	g.slots <- struct{}{}
}

// decide sets the level from the mean time in flight of half a round.
func (g *Gate) decide(mean time.Duration) {
	next := g.level
	switch {
	case mean > Slow && g.level > g.min:
		next = max(g.level/2, g.min)
	case mean < Slow/4 && g.level < g.max:
		next = min(g.level*2, g.max)
	}
	if next != g.level {
		g.steps = append(g.steps, Step{From: g.level, To: next, Mean: mean})
		if next > g.level {
			add := next - g.level
			// Slots owed are forgiven first; the rest are new.
			forgiven := min(add, g.owed)
			g.owed -= forgiven
			for range add - forgiven {
				g.slots <- struct{}{}
			}
		} else {
			g.owed += g.level - next
		}
		g.level = next
	}
	g.next(next)
}

// next starts a round at level.
func (g *Gate) next(level int) {
	g.round = round{id: g.round.id + 1, level: level}
}

// Level is how many transfers may run at once now.
func (g *Gate) Level() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.level
}

// Steps returns the changes of level so far.
func (g *Gate) Steps() []Step {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Step(nil), g.steps...)
}
