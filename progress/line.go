package progress

import (
	"fmt"
	"strings"
	"time"
)

// state is what one drawing of the line shows.
type state struct {
	label    string
	total    int64 // < 0: unknown, a spinner
	done     int64 // bytes done, those of earlier runs included
	moved    int64 // bytes this run moved: the rate counts only these
	elapsed  time.Duration
	stalled  time.Duration // > 0: nothing reported for this long
	waiting  bool          // stalled before anything was reported at all
	retrying bool          // a retry was reported since the last progress
	frame    int
}

// labelWidth keeps a long file name from squeezing everything else out of
// a wide line; a narrow one shortens it further.
const labelWidth = 32

// A narrow line cuts the label to midLabel before it drops any field, and
// to minLabel before it drops the label.
const (
	midLabel = 16
	minLabel = 8
)

// minBar is the narrowest bar worth drawing, brackets included; maxBar keeps
// a wide terminal's bar from dwarfing the figures.
const (
	minBar = 12
	maxBar = 50
)

// A field is one part of the line. Fields are dropped from the lowest
// priority up until the line fits.
type field struct {
	text     string
	priority int // 0 is kept longest
}

// fit lays the line out in at most cols columns:
//
//	put photos.tar  42% [=========>            ] 1.2/3.0 GiB 12.0 MiB/s 0:12 ETA 0:16
//
// (elapsed time, then time left).
//
// When it does not fit, the bar narrows, then goes; then fields go in the
// order elapsed time, time left, bar, rate, bytes, label (which is shortened
// first), so that the percentage, and a stall, stay longest.
func (s state) fit(cols int) string {
	label := shorten(s.label, labelWidth)
	var pct, bytes, rate, eta, clock, status string
	if s.total > 0 {
		done := min(s.done, s.total)
		pct = fmt.Sprintf("%3d%%", done*100/s.total)
		bytes = formatPair(done, s.total)
	} else {
		pct = string(`|/-\`[s.frame%4])
		bytes = formatSize(s.done)
	}
	clock = formatClock(s.elapsed)
	switch {
	case s.stalled > 0 && s.waiting:
		status = "waiting " + formatSeconds(s.stalled)
	case s.stalled > 0:
		status = "stalled " + formatSeconds(s.stalled)
	}
	if s.retrying {
		status = strings.TrimPrefix(status+", retrying", ", ")
	}
	// The first seconds' rate is the socket buffers filling, not the link:
	// it shows once there is more to go on.
	if status == "" && s.elapsed >= rateAfter {
		rate = formatRate(s.moved, s.elapsed)
		if s.total > 0 && s.moved > 0 && s.elapsed > 0 {
			left := time.Duration(float64(s.total-min(s.done, s.total)) / float64(s.moved) * float64(s.elapsed))
			eta = "ETA " + formatClock(left)
		}
	}
	// Display order, with each field's priority. The bar holds its
	// narrowest width while the fields are fitted, and takes what room
	// is left after.
	bar := ""
	if s.total > 0 {
		bar = strings.Repeat("=", minBar)
	}
	fields := []field{
		{label, 1},
		{pct, 0},
		{bar, 5},
		{bytes, 3},
		{status, 2},
		{rate, 4},
		{clock, 7},
		{eta, 6},
	}
	for {
		line, width := join(fields)
		if width <= cols {
			return strings.TrimSpace(withBar(fields, width, cols, s))
		}
		// A long label is shortened to midLabel before any field goes,
		// and to minLabel before the label itself does.
		floor := midLabel
		if lowest(fields) <= 2 {
			floor = minLabel
		}
		if n := columns(fields[0].text); n > floor {
			fields[0].text = shorten(fields[0].text, max(floor, n-(width-cols)))
			continue
		}
		if !drop(fields) {
			return strings.TrimSpace(cut(line, cols))
		}
	}
}

// withBar draws the bar, if it is still among the fields, as wide as the
// room left allows.
func withBar(fields []field, width, cols int, s state) string {
	if fields[2].text != "" {
		inner := min(minBar+cols-width, maxBar) - 2
		filled := int(min(s.done, s.total) * int64(inner) / s.total)
		bar := "[" + strings.Repeat("=", filled)
		if filled < inner {
			bar += ">" + strings.Repeat(" ", inner-filled-1)
		}
		fields[2].text = bar + "]"
	}
	line, _ := join(fields)
	return line
}

// join writes the fields that are not empty, one space apart, and returns
// the line and its width in columns.
func join(fields []field) (string, int) {
	var parts []string
	for _, f := range fields {
		if f.text != "" {
			parts = append(parts, f.text)
		}
	}
	line := strings.Join(parts, " ")
	return line, columns(line)
}

// lowest is the priority of the field that would be dropped next.
func lowest(fields []field) int {
	p := -1
	for _, f := range fields {
		if f.text != "" && f.priority > p {
			p = f.priority
		}
	}
	return p
}

// drop empties the field of the lowest priority, and reports whether there
// was one to drop other than the last.
func drop(fields []field) bool {
	at, n := -1, 0
	for i, f := range fields {
		if f.text == "" {
			continue
		}
		n++
		if at < 0 || f.priority > fields[at].priority {
			at = i
		}
	}
	if n <= 1 {
		return false
	}
	fields[at].text = ""
	return true
}

// cut is the last resort of a terminal too narrow for a single field.
func cut(s string, cols int) string {
	if columns(s) <= cols {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		if used+runeColumns(r) > cols {
			break
		}
		b.WriteRune(r)
		used += runeColumns(r)
	}
	return b.String()
}

// shorten cuts s to at most n columns, marking the cut.
func shorten(s string, n int) string {
	if columns(s) <= n {
		return s
	}
	return cut(s, n-1) + "…"
}

// columns is how many terminal columns s takes at most. A file name may
// hold characters that take two (CJK, most emoji): counting every rune
// from U+1100 on as two overestimates some, which only shortens the line.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n += runeColumns(r)
	}
	return n
}

func runeColumns(r rune) int {
	if r >= 0x1100 && r != '…' {
		return 2
	}
	return 1
}

// formatPair prints done and total in total's unit: "1.2/3.0 GiB".
func formatPair(done, total int64) string {
	unit, div := unitOf(total)
	if div == 1 {
		return fmt.Sprintf("%d/%d B", done, total)
	}
	return fmt.Sprintf("%.1f/%.1f %s", float64(done)/float64(div), float64(total)/float64(div), unit)
}

// formatSize prints a byte count with IEC prefixes: "3.0 MiB".
func formatSize(n int64) string {
	unit, div := unitOf(n)
	if div == 1 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", float64(n)/float64(div), unit)
}

func unitOf(n int64) (string, int64) {
	const k = 1024
	if n < k {
		return "B", 1
	}
	div, exp := int64(k), 0
	for m := n / k; m >= k && exp < 5; m /= k {
		div *= k
		exp++
	}
	return string("KMGTPE"[exp]) + "iB", div
}

// formatClock prints a duration as a clock does: "0:07", "12:34", "2:03:04".
func formatClock(d time.Duration) string {
	s := int64(d / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// rateAfter is how long a transfer runs before its line shows a rate and a
// time left. Bytes count as they leave (a put) or arrive (a get), and the
// first ones fill the kernel's socket buffers, megabytes a connection, far
// faster than the link: a rate from them would say several times the truth.
const rateAfter = 2 * time.Second

// formatSeconds prints how long a stall has lasted: "12 s", "4 min 05 s".
func formatSeconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", int64(d/time.Second))
	}
	return formatDuration(d)
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
