// Package progress shows how far a transfer has come: a bar with rate and
// time left while it runs on a terminal, and one summary line when it ends,
// so that logs of unattended runs get a single line per transfer instead of
// a stream of carriage returns.
package progress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
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
}

// Transfer follows one transfer. Its methods are safe for concurrent use,
// as downloads report bytes from several goroutines.
type Transfer struct {
	w     io.Writer
	quiet bool
	start time.Time
	now   func() time.Time
	bytes atomic.Int64

	mu  sync.Mutex
	bar *progressbar.ProgressBar // nil when no bar is drawn, and once it is cleared
}

// labelWidth keeps a long file name from squeezing the bar out of the line.
const labelWidth = 32

// redraw bounds how often the bar is drawn, however often bytes arrive.
const redraw = 100 * time.Millisecond

// Start begins following a transfer that writes its bar and summary to w.
func Start(w io.Writer, o Options) *Transfer {
	return start(w, o, time.Now)
}

func start(w io.Writer, o Options, now func() time.Time) *Transfer {
	t := &Transfer{w: w, quiet: o.Quiet, start: now(), now: now}
	if o.Quiet || !o.Bar || o.Total == 0 {
		return t
	}
	total := o.Total
	if total < 0 {
		total = -1 // the library's spinner mode
	}
	t.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(shorten(o.Label, labelWidth)+" "),
		progressbar.OptionShowBytes(true),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionThrottle(redraw),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
		// Drawing the empty bar at once also starts the library's clock
		// before its spinner goroutine can look at it.
		progressbar.OptionSetRenderBlankState(true),
	)
	return t
}

// Add counts n more bytes done.
func (t *Transfer) Add(n int64) {
	t.bytes.Add(n)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != nil {
		// A drawing error (a closed terminal) must not fail the transfer.
		_ = t.bar.Add64(n)
	}
}

// Done clears the bar and prints one line: summary followed by the time
// taken and the rate, e.g. "Uploaded photos.tar (1.0 GiB) in 6.2 s (165 MiB/s)".
func (t *Transfer) Done(summary string) {
	t.clear()
	if t.quiet {
		return
	}
	elapsed := t.now().Sub(t.start)
	fmt.Fprintf(t.w, "%s in %s (%s)\n", summary, formatDuration(elapsed), formatRate(t.bytes.Load(), elapsed))
}

// Println prints a line of its own above the bar, which is drawn again on
// the next Add.
func (t *Transfer) Println(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != nil {
		_ = t.bar.Clear()
	}
	fmt.Fprintln(t.w, msg)
}

// Stop clears the bar of a transfer that failed, so that the error message
// that follows starts on a clean line. It prints no summary.
func (t *Transfer) Stop() { t.clear() }

func (t *Transfer) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar == nil {
		return
	}
	// Finish with OptionClearOnFinish erases the line; it also ends the
	// spinner goroutine of a bar of unknown length.
	_ = t.bar.Finish()
	t.bar = nil
}

// shorten cuts s to at most n characters, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// formatDuration prints a duration for people: "0.3 s", "6.2 s", "4 min 05 s",
// "2 h 03 min".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		s := int64(d.Round(time.Second) / time.Second)
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	default:
		m := int64(d.Round(time.Minute) / time.Minute)
		return fmt.Sprintf("%d h %02d min", m/60, m%60)
	}
}

// formatRate prints bytes per second with IEC prefixes, as the sizes ogive
// prints elsewhere.
func formatRate(n int64, d time.Duration) string {
	if d <= 0 {
		return "– B/s"
	}
	rate := float64(n) / d.Seconds()
	const unit = 1024
	if rate < unit {
		return fmt.Sprintf("%.0f B/s", rate)
	}
	exp := 0
	for rate >= unit*unit && exp < 5 {
		rate /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB/s", rate/unit, "KMGTPE"[exp])
}
