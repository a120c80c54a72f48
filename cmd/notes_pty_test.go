//go:build unix

package cmd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/ptytest"
)

// put's notes at a 50-column terminal: wrapped at word boundaries, every
// row short of the edge; --no-notes silences them and keeps the summaries.
func TestTerminalNotesWrapped(t *testing.T) {
	r := newRig(t, rigOptions{})
	a := r.write("a.txt", []byte("a"))
	b := r.write("b.txt", []byte("b"))
	tm := r.terminal(t, 40, 50, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, a, b}})
	if code := tm.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	rows := tm.Screen()
	start := -1
	for i, row := range rows {
		if start < 0 && strings.HasPrefix(row, "Note: ") {
			start = i
		}
	}
	if start < 0 {
		t.Fatalf("no note:\n%s", tm.ScreenText())
	}
	// The summaries and IDs above are as long as the IDs are; the notes
	// are prose, and fit.
	for _, row := range rows[start:] {
		if len([]rune(row)) >= 50 {
			t.Errorf("a row of the notes reaches the edge: %q", row)
		}
	}
	// Rows joined with spaces give the sentences back only if no word
	// was split across two rows.
	text := strings.Join(rows[start:], " ")
	for _, want := range []string{
		"Note: S3 bills DEEP_ARCHIVE objects for at least 180 days of storage, even if they are deleted sooner. Minimum charge for these 2 files,",
		"Note: besides its bytes, each Deep Archive object costs its PUT request ($0.05 per 1,000)",
		"and 40 KB more of storage every month (32 KB at the Deep Archive rate, 8 KB of index at S3 Standard's",
		"For these 2 files:",
		"Archiving small files together pays these once: ogive put DIR (one archive, its files listed by ogive ls)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the notes do not read %q:\n%s", want, tm.ScreenText())
		}
	}

	tm = r.terminal(t, 40, 50, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, "--no-notes", a, b}})
	if code := tm.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	if s := tm.ScreenText(); strings.Contains(s, "Note") || strings.Count(s, "Uploaded ") != 2 {
		t.Errorf("--no-notes:\n%s", s)
	}
}
