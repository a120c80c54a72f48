// Package progress shows how far a transfer has come: a line on a terminal
// with a bar, the rate, the time taken and the time left, redrawn in place
// and fitted to the terminal's width, and one summary line when it ends, so
// that logs of unattended runs get a single line per transfer instead of a
// stream of carriage returns.
package progress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Options describe one transfer.
type Options struct {
	// Label names the transfer on the bar, e.g. "put photos.tar".
	Label string
	// Total is the number of bytes the bar counts up to; a negative Total
	// (a stream of unknown length) draws a spinner instead, and 0 draws
	// nothing, as there is nothing to wait for.
	Total int64
	// Bar draws a bar; set it only when the writer is a terminal.
	Bar bool
	// Quiet prints nothing at all, not even the summary.
	Quiet bool
	// Width returns the terminal's width in columns. It is asked at every
	// redraw, so the bar follows a terminal that is resized; nil, or a
	// width of 0 or less, means 80.
	Width func() int
}

// Transfer follows one transfer. Its methods are safe for concurrent use,
// as downloads report bytes from several goroutines.
type Transfer struct {
	w     io.Writer
	quiet bool
	label string
	total int64
	width func() int
	start time.Time
	now   func() time.Time

	bytes   atomic.Int64 // moved by this run
	resumed atomic.Int64 // already done by an earlier run
	acks    atomic.Int64 // calls to Add: how often progress is reported
	last    atomic.Int64 // when progress was last reported, in ns since start
	retried atomic.Int64 // when a retry was last reported, in ns since start; 0 for never

	mu     sync.Mutex
	drawn  bool          // a line is on the terminal that clear must erase
	frame  int           // spinner frame
	stop   chan struct{} // closed to end the redraw loop; nil when no bar is drawn
	exited chan struct{} // closed when the redraw loop has ended
}

// redraw is how often the line is drawn: from a clock, not from the bytes,
// so that the time keeps moving while nothing arrives.
const redraw = 200 * time.Millisecond

// stallAfter is how long without progress makes the line say "stalled",
// for a transfer that used to report progress more often than that. One
// that reports less often (large parts on a slow link) is called stalled
// only after three of its usual intervals.
const stallAfter = 10 * time.Second

// Start begins following a transfer that writes its bar and summary to w.
func Start(w io.Writer, o Options) *Transfer {
	return start(w, o, time.Now)
}

func start(w io.Writer, o Options, now func() time.Time) *Transfer {
	t := &Transfer{w: w, quiet: o.Quiet, label: o.Label, total: o.Total, width: o.Width, start: now(), now: now}
	if o.Quiet || !o.Bar || o.Total == 0 {
		return t
	}
	t.stop, t.exited = make(chan struct{}), make(chan struct{})
	t.mu.Lock()
	t.draw()
	t.mu.Unlock()
	go t.loop(t.stop, t.exited)
	return t
}

// loop redraws the line until stop is closed.
func (t *Transfer) loop(stop, exited chan struct{}) {
	defer close(exited)
	tick := time.NewTicker(redraw)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			t.mu.Lock()
			t.draw()
			t.mu.Unlock()
		}
	}
}

// Add counts n more bytes moved by this run.
func (t *Transfer) Add(n int64) {
	t.bytes.Add(n)
	t.acks.Add(1)
	t.last.Store(int64(t.now().Sub(t.start)))
}

// Retry notes that part of the transfer is being tried again after a
// failure: the line says "retrying" until progress is reported again.
func (t *Transfer) Retry() {
	t.retried.Store(max(int64(t.now().Sub(t.start)), 1))
}

// Resume counts n bytes that an earlier run already moved: the bar starts
// past them, but the rate, the time left and the summary's rate count only
// the bytes this run moves.
func (t *Transfer) Resume(n int64) { t.resumed.Add(n) }

// Resumed is how many bytes Resume counted.
func (t *Transfer) Resumed() int64 { return t.resumed.Load() }

// Moved is how many bytes Add counted: those this run moved.
func (t *Transfer) Moved() int64 { return t.bytes.Load() }

// Done clears the bar and prints one line: summary followed by the time
// taken and the rate of this run's bytes, e.g. "Uploaded photos.tar
// (1.0 GiB) in 6.2 s (165 MiB/s)".
func (t *Transfer) Done(summary string) {
	t.clear()
	if t.quiet {
		return
	}
	elapsed := t.now().Sub(t.start)
	fmt.Fprintf(t.w, "%s in %s (%s)\n", summary, formatDuration(elapsed), formatRate(t.bytes.Load(), elapsed))
}

// Println prints a line of its own above the bar, which is drawn again on
// the next redraw.
func (t *Transfer) Println(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.erase()
	fmt.Fprintln(t.w, msg)
}

// Stop clears the bar of a transfer that failed or was interrupted, so that
// the error message that follows starts at the first column of a clean
// line. It prints no summary.
func (t *Transfer) Stop() { t.clear() }

func (t *Transfer) clear() {
	t.mu.Lock()
	stop, exited := t.stop, t.exited
	t.stop = nil
	t.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-exited
	t.mu.Lock()
	defer t.mu.Unlock()
	t.erase()
}

// erase removes the drawn line, and whatever the terminal echoed after it
// (a "^C"), leaving the cursor at its first column. The caller holds t.mu.
func (t *Transfer) erase() {
	if !t.drawn {
		return
	}
	// A drawing error (a closed terminal) must not fail the transfer.
	_, _ = io.WriteString(t.w, "\r\x1b[K")
	t.drawn = false
}

// columnsOf is the terminal's width as width tells it, or 80 when it
// cannot: no function, or a terminal that reports no size.
func columnsOf(width func() int) int {
	if width != nil {
		if cols := width(); cols > 0 {
			return cols
		}
	}
	return 80
}

// draw writes the current line over the previous one. The caller holds t.mu.
func (t *Transfer) draw() {
	if t.stop == nil {
		return
	}
	cols := columnsOf(t.width)
	line := t.line(cols)
	t.frame++
	// The line ends short of the last columns: a line that filled them
	// would leave the cursor pending a wrap, and the "^C" a terminal echoes
	// at an interrupt would spill onto the next line, out of reach of the
	// carriage return that erases the bar.
	_, _ = io.WriteString(t.w, "\r"+line+"\x1b[K")
	t.drawn = true
}

// line is the transfer's state now, fitted to cols columns.
func (t *Transfer) line(cols int) string {
	now := t.now()
	elapsed := now.Sub(t.start)
	moved, resumed := t.bytes.Load(), t.resumed.Load()
	s := state{
		label:   t.label,
		total:   t.total,
		done:    moved + resumed,
		moved:   moved,
		elapsed: elapsed,
		frame:   t.frame,
	}
	last := time.Duration(t.last.Load())
	if idle := elapsed - last; idle >= stallThreshold(last, t.acks.Load()) {
		s.stalled = idle
		s.waiting = t.acks.Load() == 0
	}
	s.retrying = t.retried.Load() > int64(last)
	return s.fit(cols - margin)
}

// margin is how many columns the line leaves free at its end; see draw.
const margin = 3

// stallThreshold is how long without progress counts as a stall, after
// acks reports of progress, the last one at last.
func stallThreshold(last time.Duration, acks int64) time.Duration {
	if acks == 0 {
		return stallAfter
	}
	return max(stallAfter, 3*last/time.Duration(acks))
}
