package progress

import (
	"bytes"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time source that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

// Off a terminal, a transfer prints exactly one line, at the end, whatever
// happened in between.
func TestSummaryOnlyOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	tr := start(&buf, Options{Label: "put photos.tar", Total: 3 << 20}, c.now)
	for range 3 {
		tr.Add(1 << 20)
		c.advance(time.Second)
	}
	if buf.Len() != 0 {
		t.Fatalf("output before Done: %q", buf.String())
	}
	tr.Done("Uploaded photos.tar (3.0 MiB)")
	want := "Uploaded photos.tar (3.0 MiB) in 3.0 s (1.0 MiB/s)\n"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}

func TestQuietPrintsNothing(t *testing.T) {
	for _, bar := range []bool{false, true} {
		var buf bytes.Buffer
		tr := Start(&buf, Options{Label: "get x", Total: 100, Bar: bar, Quiet: true})
		tr.Add(100)
		tr.Done("Downloaded x")
		if buf.Len() != 0 {
			t.Errorf("bar=%v: quiet printed %q", bar, buf.String())
		}
	}
}

func TestStopPrintsNoSummary(t *testing.T) {
	var buf bytes.Buffer
	tr := Start(&buf, Options{Label: "get x", Total: 100})
	tr.Add(50)
	tr.Stop()
	if buf.Len() != 0 {
		t.Fatalf("a failed transfer off a terminal printed %q", buf.String())
	}
}

// On a terminal the bar shows the label, the percentage, the byte count,
// the rate and the time left; Done erases it before the summary, so the
// terminal keeps only the summary line.
func TestBarOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	tr := Start(&buf, Options{Label: "get photos.tar", Total: 4 << 20, Bar: true})
	tr.Add(1 << 20)
	time.Sleep(redraw + 20*time.Millisecond) // past the redraw throttle
	tr.Add(1 << 20)
	out := buf.String()
	if !strings.Contains(out, "\r") {
		t.Fatalf("bar not redrawn in place: %q", out)
	}
	last := out[strings.LastIndex(out, "\r"):]
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`get photos\.tar`),
		regexp.MustCompile(`50%`),
		regexp.MustCompile(`2\.0/4\.0 MiB`),
		regexp.MustCompile(`[0-9.]+ [KMG]iB/s`),
		regexp.MustCompile(`\[[0-9ms.]+:[0-9hms.]+\]`), // elapsed:left
	} {
		if !want.MatchString(last) {
			t.Errorf("bar %q lacks %v", last, want)
		}
	}

	before := buf.Len()
	tr.Done("Downloaded photos.tar")
	tail := buf.String()[before:]
	if !regexp.MustCompile(`^\r +\r`).MatchString(tail) {
		t.Errorf("Done did not erase the bar first: %q", tail)
	}
	if !regexp.MustCompile(`\rDownloaded photos\.tar in [0-9.]+ s \([0-9.]+ [KMG]?i?B/s\)\n$`).MatchString(tail) {
		t.Errorf("summary after the bar: %q", tail)
	}
	if strings.Count(tail, "\n") != 1 {
		t.Errorf("more than one line after Done: %q", tail)
	}
}

// A stream of unknown length gets a spinner with the byte count; ending the
// transfer also ends the library's spinner goroutine.
func TestSpinnerForUnknownLength(t *testing.T) {
	base := runtime.NumGoroutine()
	var buf bytes.Buffer
	tr := Start(&buf, Options{Label: "put stdin", Total: -1, Bar: true})
	tr.Add(3 << 20)
	time.Sleep(3 * redraw)
	tr.Done("Uploaded stdin")
	if !strings.Contains(buf.String(), "3.0 MiB") {
		t.Errorf("spinner without a byte count: %q", buf.String())
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines left running after Done, %d before Start", n, base)
	}
}

// Nothing to transfer draws no bar (the library refuses a total of 0).
func TestEmptyTransferDrawsNoBar(t *testing.T) {
	var buf bytes.Buffer
	tr := Start(&buf, Options{Label: "get empty", Total: 0, Bar: true})
	tr.Done("Downloaded empty")
	if !regexp.MustCompile(`^Downloaded empty in [0-9.]+ s \(`).MatchString(buf.String()) {
		t.Fatalf("got %q", buf.String())
	}
}

// Downloads report bytes from several goroutines at once.
func TestConcurrentAdd(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	tr := start(&buf, Options{Label: "get x", Total: 1000 << 10, Bar: true}, c.now)
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(func() { tr.Add(1 << 10) })
	}
	wg.Wait()
	c.advance(time.Second)
	before := buf.Len()
	tr.Done("Downloaded x")
	if got := buf.String()[before:]; !strings.HasSuffix(got, "Downloaded x in 1.0 s (1000.0 KiB/s)\n") {
		t.Fatalf("summary %q", got)
	}
}

func TestLongLabelIsShortened(t *testing.T) {
	var buf bytes.Buffer
	tr := Start(&buf, Options{Label: "put " + strings.Repeat("ü", 100), Total: 10, Bar: true})
	tr.Add(5)
	tr.Stop()
	if strings.Contains(buf.String(), strings.Repeat("ü", labelWidth)) {
		t.Fatalf("label not shortened: %q", buf.String())
	}
	if !strings.Contains(buf.String(), "…") {
		t.Fatalf("cut not marked: %q", buf.String())
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond:           "0.3 s",
		6200 * time.Millisecond:          "6.2 s",
		4*time.Minute + 5*time.Second:    "4 min 05 s",
		2*time.Hour + 3*time.Minute + 10: "2 h 03 min",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatRate(t *testing.T) {
	for _, c := range []struct {
		n    int64
		d    time.Duration
		want string
	}{
		{13, time.Second, "13 B/s"},
		{2048, time.Second, "2.0 KiB/s"},
		{165 << 20, time.Second, "165.0 MiB/s"},
		{1 << 30, 6200 * time.Millisecond, "165.2 MiB/s"},
		{3 << 40, time.Second, "3.0 TiB/s"},
		{1, 0, "– B/s"},
	} {
		if got := formatRate(c.n, c.d); got != c.want {
			t.Errorf("formatRate(%d, %v) = %q, want %q", c.n, c.d, got, c.want)
		}
	}
}
