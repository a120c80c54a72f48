package progress

import (
	"bytes"
	"io"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
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
// the rate, the time taken and the time left, redrawn in place; Done erases
// it before the summary, so the terminal keeps only the summary line.
func TestBarOnTerminal(t *testing.T) {
	var buf syncBuffer
	var ahead atomic.Int64 // the clock runs this far ahead of the real one
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	tr := start(&buf, Options{Label: "get photos.tar", Total: 4 << 20, Bar: true}, now)
	tr.Add(1 << 20)
	tr.Add(1 << 20)
	time.Sleep(2 * redraw)
	// The first seconds show no rate: socket buffers filling would make
	// it several times the link's.
	if early := buf.String(); regexp.MustCompile(`iB/s|ETA`).MatchString(early[strings.LastIndex(early, "\r"):]) {
		t.Errorf("a rate before %v: %q", rateAfter, early)
	}
	ahead.Store(int64(rateAfter + time.Second))
	time.Sleep(2 * redraw)
	out := buf.String()
	if !strings.Contains(out, "\r") {
		t.Fatalf("bar not redrawn in place: %q", out)
	}
	last := out[strings.LastIndex(out, "\r"):]
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`get photos\.tar`),
		regexp.MustCompile(`50%`),
		regexp.MustCompile(`\[=+>? *\]`),
		regexp.MustCompile(`2\.0/4\.0 MiB`),
		regexp.MustCompile(`[0-9.]+ [KMG]iB/s`),
		regexp.MustCompile(`0:0[0-9] ETA [0-9:]+`), // elapsed, left
	} {
		if !want.MatchString(last) {
			t.Errorf("bar %q lacks %v", last, want)
		}
	}

	before := buf.Len()
	tr.Done("Downloaded photos.tar")
	tail := buf.String()[before:]
	// The clock may redraw the bar once more just before Done (a loaded
	// machine): what Done wrote starts at its erase.
	if i := strings.LastIndex(tail, "\r\x1b[KDownloaded"); i > 0 && !strings.Contains(tail[:i], "\n") {
		tail = tail[i:]
	}
	if !strings.HasPrefix(tail, "\r\x1b[K") {
		t.Errorf("Done did not erase the bar first: %q", tail)
	}
	if !regexp.MustCompile(`^\r\x1b\[KDownloaded photos\.tar in [0-9.]+ s \([0-9.]+ [KMG]?i?B/s\)\n$`).MatchString(tail) {
		t.Errorf("summary after the bar: %q", tail)
	}
	if strings.Count(tail, "\n") != 1 {
		t.Errorf("more than one line after Done: %q", tail)
	}
	time.Sleep(2 * redraw)
	if buf.Len() != before+len(tail) {
		t.Errorf("drawn after Done: %q", buf.String()[before+len(tail):])
	}
}

// syncBuffer is a bytes.Buffer for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// The line is redrawn by the clock, not by the bytes: with nothing arriving
// the time taken keeps moving, and after a while the line says the transfer
// is stalled, for how long.
func TestStalledTransferKeepsTicking(t *testing.T) {
	c := newClock()
	tr := start(io.Discard, Options{Label: "put big.bin", Total: 100 << 20, Bar: true}, c.now)
	defer tr.Stop()
	for range 10 {
		tr.Add(1 << 20)
		c.advance(time.Second)
	}
	if l := tr.line(80); !strings.Contains(l, "0:10") || strings.Contains(l, "stalled") {
		t.Fatalf("moving transfer: %q", l)
	}
	c.advance(5 * time.Second)
	if l := tr.line(80); !strings.Contains(l, "0:15") || strings.Contains(l, "stalled") {
		t.Fatalf("5 s without progress: %q", l)
	}
	c.advance(7 * time.Second)
	l := tr.line(80)
	if !strings.Contains(l, "stalled 13 s") || !strings.Contains(l, "10%") {
		t.Fatalf("13 s without progress: %q", l)
	}
	if strings.Contains(l, "ETA") || strings.Contains(l, "/s") {
		t.Errorf("a stalled line still shows a rate or a time left: %q", l)
	}
	// At 50 columns the stall outranks the byte count.
	if l := tr.line(50); !strings.Contains(l, "stalled 13 s") {
		t.Errorf("50 columns: %q", l)
	}
	tr.Add(1 << 20)
	if l := tr.line(80); strings.Contains(l, "stalled") {
		t.Errorf("stalled after progress resumed: %q", l)
	}
}

// A retry shows until progress comes again; with a stall, both show.
func TestRetryShown(t *testing.T) {
	c := newClock()
	tr := start(io.Discard, Options{Label: "get big.bin", Total: 100 << 20, Bar: true}, c.now)
	defer tr.Stop()
	c.advance(time.Second)
	tr.Add(1 << 20)
	c.advance(time.Second)
	tr.Retry()
	if l := tr.line(80); !strings.Contains(l, "retrying") || strings.Contains(l, "ETA") {
		t.Fatalf("after a retry: %q", l)
	}
	c.advance(12 * time.Second)
	if l := tr.line(80); !strings.Contains(l, "stalled 13 s, retrying") {
		t.Fatalf("a retry, then a stall: %q", l)
	}
	tr.Add(1 << 20)
	if l := tr.line(80); strings.Contains(l, "retrying") || strings.Contains(l, "stalled") {
		t.Fatalf("after progress: %q", l)
	}
}

// Before anything is acknowledged, a long silence says "waiting".
func TestWaitingForFirstReply(t *testing.T) {
	c := newClock()
	tr := start(io.Discard, Options{Label: "put big.bin", Total: 100 << 20, Bar: true}, c.now)
	defer tr.Stop()
	c.advance(11 * time.Second)
	if l := tr.line(80); !strings.Contains(l, "waiting 11 s") {
		t.Fatalf("%q", l)
	}
}

// A transfer that reports rarely (large parts on a slow link) is not called
// stalled between two of its usual reports.
func TestSlowReportsAreNotStalls(t *testing.T) {
	c := newClock()
	tr := start(io.Discard, Options{Label: "put big.bin", Total: 100 << 20, Bar: true}, c.now)
	defer tr.Stop()
	for range 3 {
		c.advance(20 * time.Second)
		tr.Add(8 << 20)
	}
	c.advance(25 * time.Second)
	if l := tr.line(80); strings.Contains(l, "stalled") {
		t.Fatalf("%q", l)
	}
	c.advance(40 * time.Second)
	if l := tr.line(80); !strings.Contains(l, "stalled 1 min 05 s") {
		t.Fatalf("%q", l)
	}
}

// A resumed transfer starts at what earlier runs did; the rate, the time
// left and the summary count only the bytes moved now.
func TestResumedTransfer(t *testing.T) {
	var buf syncBuffer
	c := newClock()
	tr := start(&buf, Options{Label: "get big.bin", Total: 1000 << 20, Bar: true}, c.now)
	tr.Resume(600 << 20)
	if l := tr.line(100); !strings.Contains(l, " 60%") || !strings.Contains(l, "600.0/1000.0 MiB") {
		t.Fatalf("resumed line: %q", l)
	}
	c.advance(10 * time.Second)
	tr.Add(100 << 20)
	l := tr.line(100)
	for _, want := range []string{" 70%", "10.0 MiB/s", "ETA 0:30"} {
		if !strings.Contains(l, want) {
			t.Errorf("line %q lacks %q", l, want)
		}
	}
	if tr.Resumed() != 600<<20 || tr.Moved() != 100<<20 {
		t.Errorf("Resumed %d, Moved %d", tr.Resumed(), tr.Moved())
	}
	tr.Done("Downloaded big.bin")
	if !strings.HasSuffix(buf.String(), "Downloaded big.bin in 10.0 s (10.0 MiB/s)\n") {
		t.Errorf("summary %q", buf.String())
	}
}

// The line fits the width it is given, dropping fields from the least
// useful: elapsed time, time left, bar, rate, bytes, then the label.
func TestLineFitsWidth(t *testing.T) {
	s := state{label: "put photos-of-the-summer-holiday-2026.tar", total: 3 << 30, done: 1 << 30,
		moved: 1 << 30, elapsed: 20 * time.Second}
	for _, c := range []struct {
		cols       int
		has, lacks []string
	}{
		{120, []string{"put photos-of-the-summer-holida…", "33%", "[", "1.0/3.0 GiB", "51.2 MiB/s", "0:20 ETA 0:40"}, nil},
		{77, []string{"put photos-of", "33%", "[", "1.0/3.0 GiB", "51.2 MiB/s", "0:20 ETA 0:40"}, nil},
		{57, []string{"put photos-of-t…", "33%", "[", "1.0/3.0 GiB", "MiB/s"}, []string{"ETA", "0:20"}},
		{47, []string{"put photos-of-t…", "33%", "1.0/3.0 GiB", "MiB/s"}, []string{"["}},
		{30, []string{"put photos-of-t…", "33%"}, []string{"GiB"}},
		{10, []string{"33%"}, []string{"put"}},
		{2, nil, []string{"33"}},
	} {
		l := s.fit(c.cols)
		if n := utf8.RuneCountInString(l); n > c.cols {
			t.Errorf("%d columns: %d wide: %q", c.cols, n, l)
		}
		for _, w := range c.has {
			if !strings.Contains(l, w) {
				t.Errorf("%d columns: %q lacks %q", c.cols, l, w)
			}
		}
		for _, w := range c.lacks {
			if strings.Contains(l, w) {
				t.Errorf("%d columns: %q has %q", c.cols, l, w)
			}
		}
	}
}

// Every width from 1 to 200 columns, for every kind of line, fits; wide
// characters count two columns.
func TestLineNeverOverflows(t *testing.T) {
	for _, s := range []state{
		{label: "put " + strings.Repeat("ü", 100), total: 5, done: 2, moved: 2, elapsed: time.Hour},
		{label: "put stdin", total: -1, done: 12345678, moved: 12345678, elapsed: time.Second, stalled: time.Hour},
		{label: "get x", total: 1 << 50, done: 1 << 49, moved: 1, elapsed: 100 * time.Hour},
		{label: "get 夏休みの写真を全部まとめたアーカイブ.tar", total: 5 << 30, done: 1 << 30, moved: 1 << 30, elapsed: time.Minute},
	} {
		for cols := 1; cols <= 200; cols++ {
			if l := s.fit(cols); columns(l) > cols {
				t.Fatalf("%d columns: %q", cols, l)
			}
		}
	}
}

// The bar follows the terminal's width, asked at every redraw, and leaves
// the last columns free so that an echoed ^C stays on the bar's line.
func TestBarFollowsWidth(t *testing.T) {
	var buf syncBuffer
	var cols atomic.Int64
	cols.Store(80)
	tr := Start(&buf, Options{Label: "put x", Total: 100, Bar: true, Width: func() int { return int(cols.Load()) }})
	tr.Add(50)
	time.Sleep(2 * redraw)
	cols.Store(40)
	time.Sleep(redraw) // a frame may be under way at the old width
	n := buf.Len()
	time.Sleep(2 * redraw)
	tr.Stop()
	frames := strings.Split(buf.String(), "\r")
	for _, f := range frames {
		f = strings.TrimSuffix(f, "\x1b[K")
		if utf8.RuneCountInString(f) > 80-margin {
			t.Errorf("frame of %d columns: %q", utf8.RuneCountInString(f), f)
		}
	}
	late := strings.Split(buf.String()[n:], "\r")
	for _, f := range late {
		f = strings.TrimSuffix(f, "\x1b[K")
		if utf8.RuneCountInString(f) > 40-margin {
			t.Errorf("after the resize, a frame of %d columns: %q", utf8.RuneCountInString(f), f)
		}
	}
	if !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Errorf("Stop left the line: %q", buf.String())
	}
}

// A stream of unknown length gets a spinner with the byte count; ending the
// transfer also ends the redraw goroutine.
func TestSpinnerForUnknownLength(t *testing.T) {
	base := runtime.NumGoroutine()
	var buf syncBuffer
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

// Nothing to transfer draws no bar.
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
	var buf syncBuffer
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

func TestColumns(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "ü": 1, "夏休み": 6, "a…": 2} {
		if got := columns(s); got != want {
			t.Errorf("columns(%q) = %d, want %d", s, got, want)
		}
	}
	if got := shorten("夏休みの写真", 7); got != "夏休み…" {
		t.Errorf("shorten: %q", got)
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
