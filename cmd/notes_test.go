package cmd

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrapWords(t *testing.T) {
	for _, c := range []struct {
		in    string
		width int
		want  string
	}{
		{"a bb ccc dddd", 6, "a bb\nccc\ndddd"},
		{"a bb ccc dddd", 100, "a bb ccc dddd"},
		{"Note: see docs/a-very-long-path.md now", 10, "Note: see\ndocs/a-very-long-path.md\nnow"},
		{"äöü äöü", 3, "äöü\näöü"},
		{"  spaced   out  ", 20, "spaced out"},
	} {
		if got := wrapWords(c.in, c.width); got != c.want {
			t.Errorf("wrapWords(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

// Every line of a wrapped note fits, and no word is cut.
func TestWrappedNoteFits(t *testing.T) {
	note := minimumStorageNote(defaultPrices, "DEEP_ARCHIVE", 3, 1<<30) + " " +
		smallFilesNote(defaultPrices, "DEEP_ARCHIVE", 300, 300, 300<<20)
	for _, cols := range []int{40, 50, 80, 132} {
		var b strings.Builder
		printNote(&b, cols, note)
		out := strings.TrimSuffix(b.String(), "\n")
		for _, line := range strings.Split(out, "\n") {
			if utf8.RuneCountInString(line) >= cols {
				t.Errorf("%d columns: a line of %d: %q", cols, utf8.RuneCountInString(line), line)
			}
		}
		if strings.Join(strings.Fields(out), " ") != strings.Join(strings.Fields(note), " ") {
			t.Errorf("%d columns: words changed:\n%s", cols, out)
		}
	}
	var b strings.Builder
	printNote(&b, 0, note)
	if strings.Count(b.String(), "\n") != 1 {
		t.Errorf("off a terminal the note is not one line: %q", b.String())
	}
}

func TestSmallFilesNote(t *testing.T) {
	got := smallFilesNote(defaultPrices, "", 1000, 1000, 1000*(3<<20))
	want := "Note: besides its bytes, each Deep Archive object costs its PUT request ($0.05 per 1,000) " +
		"and 40 KB more of storage every month (32 KB at the Deep Archive rate, 8 KB of index at S3 Standard's $0.023 per GB-month). " +
		"For these 1000 files: $0.0500 in requests and $0.0002 a month (us-east-1 prices of 2026-11-22, docs/PRICING.md). " +
		"Archiving small files together pays these once: ogive put DIR (one archive, its files listed by ogive ls)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if n := smallFilesNote(defaultPrices, "GLACIER", 1000, 1000, 1000); n != "" {
		t.Errorf("a note for GLACIER: %q", n)
	}
	if n := smallFilesNote(defaultPrices, "", 1, 1, 10); n != "" {
		t.Errorf("a note for one file: %q", n)
	}
}

func TestPutRequests(t *testing.T) {
	if n := putRequests(1 << 20); n != 1 {
		t.Errorf("1 MiB: %d requests", n)
	}
	// 40 MiB: several parts, a create and a complete.
	if n := putRequests(40 << 20); n < 4 {
		t.Errorf("40 MiB: %d requests", n)
	}
}

func TestNotesOff(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == noNotesEnv {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		flag bool
		env  string
		want bool
		err  bool
	}{
		{false, "", false, false},
		{true, "", true, false},
		{false, "1", true, false},
		{false, "true", true, false},
		{false, "0", false, false},
		{true, "0", true, false},
		{false, "yes please", false, true},
	} {
		got, err := notesOff(c.flag, env(c.env))
		if got != c.want || (err != nil) != c.err {
			t.Errorf("notesOff(%v, %q) = %v, %v", c.flag, c.env, got, err)
		}
	}
}
