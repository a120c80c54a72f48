package restoring

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ogive-project/ogive/object"
)

// DefaultWorkers is how many requests a pool keeps in flight. S3 takes
// thousands of requests a second per prefix, and about 1,000 restore
// requests a second per account; at 40 ms a round trip, 32 requests in
// flight send 800 a second, so that the account's limit, not ogive, sets
// the pace, while a slow link or a small server is not flooded: throttling
// shrinks the pool anyway.
const DefaultWorkers = 32

// GiveUp is how many times in a row one request may be throttled before
// it fails with its error. Each time comes after the SDK's own attempts,
// and the pool's waits double from MinWait: with S3's backoff that is a
// minute or more of refusals. When, besides, GiveUp throttles came in a
// row with nothing going through between them, and not all of that one
// request, the server is refusing everything, which is an outage rather
// than load shedding, and the pool sends nothing more. A server that lets
// requests through is never given up on as a whole.
const GiveUp = 7

// ErrNotSent marks a request that a pool did not send because it gave up
// on a server that throttled every request (see GiveUp).
var ErrNotSent = errors.New("not sent: the server throttled every request for too long")

// Pool sends one request per archive, at most Workers at a time. When the
// server throttles (Throttled says so of an error), the pool halves the
// requests it keeps in flight, waits, and sends the throttled request
// again, until it goes through, the context ends or GiveUp says to stop.
// As requests go through, the pool lets more be in flight again, one more
// for each as many requests as it allows, up to Workers.
type Pool struct {
	Workers int // requests in flight at most; 0 means DefaultWorkers
	// Throttled reports an error that asks for fewer requests; nil means
	// object.Throttled.
	Throttled func(error) bool
	// MinWait and MaxWait bound the pause after a throttled request,
	// which doubles with each throttle in a row; 0 means 100 ms and 20 s.
	MinWait, MaxWait time.Duration
}

// Run calls do for 0 ≤ i < n, from at most p.Workers goroutines at once,
// and returns each call's error at its index. A throttled call is made
// again. When ctx ends, calls not yet begun are not made: their errors
// stay nil, and Run returns ctx's error. A call throttled GiveUp times in
// a row keeps its error; if the pool then gives up (see GiveUp), the calls
// not made get ErrNotSent.
func (p Pool) Run(ctx context.Context, n int, do func(ctx context.Context, i int) error) ([]error, error) {
	errs := make([]error, n)
	if n == 0 {
		return errs, ctx.Err()
	}
	workers := p.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	l := &limiter{
		limit:   workers,
		max:     workers,
		minWait: p.MinWait,
		maxWait: p.MaxWait,
		changed: make(chan struct{}),
	}
	if l.minWait <= 0 {
		l.minWait = 100 * time.Millisecond
	}
	if l.maxWait <= 0 {
		l.maxWait = 20 * time.Second
	}
	isThrottle := p.Throttled
	if isThrottle == nil {
		isThrottle = object.Throttled
	}
	q := &queue{n: n}
	done := make([]bool, n)
	throttles := make([]int, n) // in a row, of each call; only its worker touches it
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				// The place in flight first, then the request to send in
				// it: the one throttled last, when the pool is throttled.
				epoch, err := l.acquire(ctx)
				if err != nil {
					return // ctx ended, or the pool gave up
				}
				i, ok := q.next()
				if !ok {
					l.leave()
					return
				}
				err = do(ctx, i)
				throttled := err != nil && ctx.Err() == nil && isThrottle(err)
				if throttled {
					throttles[i]++
				}
				if l.release(epoch, i, throttled, throttles[i]) {
					q.again(i)
					continue
				}
				errs[i], done[i] = err, true
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return errs, err
	}
	for i := range errs {
		if !done[i] {
			errs[i] = ErrNotSent
		}
	}
	return errs, nil
}

// queue hands out indexes in order, throttled ones again first, the last
// throttled first: a request that is refused again and again reaches
// GiveUp soon, rather than in turn with every other one throttled.
type queue struct {
	mu    sync.Mutex
	n     int
	given int // indexes handed out the first time
	retry []int
}

func (q *queue) next() (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.retry) > 0 {
		i := q.retry[len(q.retry)-1]
		q.retry = q.retry[:len(q.retry)-1]
		return i, true
	}
	if q.given < q.n {
		q.given++
		return q.given - 1, true
	}
	return 0, false
}

func (q *queue) again(i int) {
	q.mu.Lock()
	q.retry = append(q.retry, i)
	q.mu.Unlock()
}

// limiter keeps at most limit calls in flight and holds every new one
// until resume, after a throttle.
type limiter struct {
	mu       sync.Mutex
	limit    int // calls allowed in flight now, 1 ≤ limit ≤ max
	max      int
	inflight int
	ok       int           // calls that went through since limit last grew
	streak   int           // throttles since the last call that went through
	epoch    int           // throttles the limiter has reacted to
	stopped  bool          // gave up: no call begins any more
	first    int           // the call of the streak's first throttle
	mixed    bool          // the streak holds throttles of other calls too
	resume   time.Time     // no call begins before
	changed  chan struct{} // closed when inflight or limit changes
	minWait  time.Duration
	maxWait  time.Duration
}

// acquire waits for a place in flight and returns the epoch in which the
// call begins.
func (l *limiter) acquire(ctx context.Context) (int, error) {
	for {
		l.mu.Lock()
		if wait := time.Until(l.resume); wait > 0 {
			l.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err()
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			l.mu.Unlock()
			return 0, err
		}
		if l.stopped {
			l.mu.Unlock()
			return 0, ErrNotSent
		}
		if l.inflight < l.limit {
			l.inflight++
			epoch := l.epoch
			l.mu.Unlock()
			return epoch, nil
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// release ends call i, begun in epoch, throttled the times-th time in a
// row if throttled, and says whether to make it again. A throttle halves
// the limit and pauses new calls for a time that doubles with each
// throttle in a row, jittered so that the workers do not all come back at
// once. Calls begun before the last such reaction were sent at the old
// pace: their throttles say nothing new and only send them again. A call
// throttled GiveUp times fails; the limiter stops if GiveUp throttles came
// in a row, of more than that call. limit calls that go through raise the
// limit by one.
func (l *limiter) release(epoch, i int, throttled bool, times int) (again bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() {
		close(l.changed)
		l.changed = make(chan struct{})
	}()
	l.inflight--
	if throttled && l.streak > 0 && i != l.first {
		l.mixed = true
	}
	switch {
	case throttled && l.stopped:
		return false
	case throttled && times >= GiveUp:
		l.count(i)
		l.stopped = l.streak >= GiveUp && l.mixed
		return false
	case throttled && epoch != l.epoch:
		return true // sent at the old pace: it goes again at the new one
	case throttled:
		l.count(i)
		l.epoch++
		l.limit = max(l.limit/2, 1)
		l.ok = 0
		wait := l.minWait << min(l.streak-1, 16)
		if wait <= 0 || wait > l.maxWait {
			wait = l.maxWait
		}
		l.resume = time.Now().Add(wait/2 + rand.N(wait/2+1))
		return true
	}
	l.streak, l.mixed = 0, false
	if l.ok++; l.ok >= l.limit && l.limit < l.max {
		l.limit++
		l.ok = 0
	}
	return false
}

// leave gives back a place in flight that no call used.
func (l *limiter) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	close(l.changed)
	l.changed = make(chan struct{})
}

// count adds a throttle of call i to the streak.
func (l *limiter) count(i int) {
	if l.streak == 0 {
		l.first = i
	}
	l.streak++
}
