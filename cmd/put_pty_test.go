//go:build unix

package cmd_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/ptytest"
)

// At a terminal, put's summary names the new archive by its short ID, as
// the whole ID follows on stdout, on the same screen; when stdout goes
// elsewhere, the summary (a log line) keeps the whole ID.
func TestTerminalPutSummaryFits(t *testing.T) {
	r := newRig(t, rigOptions{})
	path := r.write("example.dat", randomBytes(t, 1<<20))

	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, path}})
	if code := tm.Wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	rows := tm.Screen()
	summary := regexp.MustCompile(`^Uploaded example\.dat \(1\.0 MiB\) as ([A-Za-z0-9_-]{12})… in `)
	var short string
	for i, row := range rows {
		if m := summary.FindStringSubmatch(row); m != nil {
			short = m[1]
			if i+1 >= len(rows) || !strings.HasPrefix(rows[i+1], short) || len(rows[i+1]) < 40 {
				t.Errorf("the whole ID does not follow the summary:\n%s", tm.ScreenText())
			}
		}
	}
	if short == "" {
		t.Fatalf("no summary with a short ID:\n%s", tm.ScreenText())
	}

	var out bytes.Buffer
	tm = r.terminal(t, 24, 80, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, path}, Stdout: &out})
	if code := tm.Wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	id := strings.TrimSpace(out.String())
	if !strings.Contains(tm.Raw(), "as "+id+" in ") {
		t.Errorf("with stdout redirected, the summary does not name %s:\n%q", id, tm.Raw())
	}
}
