//go:build unix

package cmd_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	fp "github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/internal/ptytest"
)

// The bar, as a person at a terminal of a set size sees it: the real binary
// on a pseudo-terminal, the server behind the rig's fault proxy.

// afterFirst matches the requests that match m but the first one: the
// first part is acknowledged, the others stall.
func afterFirst(m func(*http.Request) bool) func(*http.Request) bool {
	var seen atomic.Int64
	return func(r *http.Request) bool { return m(r) && seen.Add(1) > 1 }
}

// barRows are the rows of the screen that show a bar of label.
func barRows(rows []string, label string) []string {
	var bars []string
	for _, r := range rows {
		if strings.Contains(r, label) && strings.Contains(r, "%") {
			bars = append(bars, r)
		}
	}
	return bars
}

// A server that stops answering mid-put: the clock on the bar keeps moving
// and the bar says for how long nothing has come.
func TestTerminalBarStalled(t *testing.T) {
	r := newRig(t, rigOptions{})
	big := r.write("big.bin", randomBytes(t, 40<<20))
	r.proxy.SetRules(fp.Rule{Fault: fp.Stall, Match: afterFirst(isUploadPart)})
	defer r.proxy.SetRules()
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, big}})
	tm.WaitScreen("the bar to say stalled", 40*time.Second, func(rows []string) bool {
		// The bar counts bytes as they leave: the proxy read the stalled
		// parts whole, and nothing more moves.
		return regexp.MustCompile(`put big\.bin +\d+% .*stalled 1[0-9] s`).MatchString(strings.Join(rows, "\n"))
	})
	first := regexp.MustCompile(`stalled (\d+) s`).FindStringSubmatch(tm.ScreenText())
	time.Sleep(2500 * time.Millisecond)
	later := regexp.MustCompile(`stalled (\d+) s`).FindStringSubmatch(tm.ScreenText())
	if first == nil || later == nil {
		t.Fatalf("no stall shown:\n%s", tm.ScreenText())
	}
	a, _ := strconv.Atoi(first[1])
	b, _ := strconv.Atoi(later[1])
	if b < a+2 {
		t.Errorf("the stall's clock went from %d s to %d s in 2.5 s:\n%s", a, b, tm.ScreenText())
	}
	tm.Type("\x03")
	tm.Wait(20 * time.Second)
}

// Ctrl-C in the middle of a put or a get: the bar's line is erased, "^C"
// included, and the messages start at the first column of clean lines.
func TestTerminalBarInterrupted(t *testing.T) {
	r := newRig(t, rigOptions{})
	big := r.write("big.bin", randomBytes(t, 40<<20))
	res := r.ogive("", "put", "--password-file", r.pwFile, "--storage-class", "STANDARD", big)
	if res.code != 0 {
		t.Fatal(res)
	}
	id := strings.TrimSpace(res.stdout)
	out := r.mkdir("out")
	isRangedGet := func(r *http.Request) bool { return r.Method == http.MethodGet && r.Header.Get("Range") != "" }
	for _, c := range []struct {
		name  string
		label string
		rule  fp.Rule
		args  []string
	}{
		{"put", "put big.bin", fp.Rule{Fault: fp.Stall, Match: afterFirst(isUploadPart)}, []string{"put", "--password-file", r.pwFile, big}},
		{"get", "get big.bin", fp.Rule{Fault: fp.Stall, Match: afterFirst(isRangedGet)}, []string{"get", "--password-file", r.pwFile, id, out}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r.proxy.SetRules(c.rule)
			defer r.proxy.SetRules()
			tm := r.terminal(t, 24, 80, ptytest.Options{Args: c.args})
			tm.WaitScreen("the bar", 30*time.Second, func(rows []string) bool { return len(barRows(rows, c.label)) == 1 })
			time.Sleep(500 * time.Millisecond) // a redraw or two
			tm.Type("\x03")
			if code := tm.Wait(20 * time.Second); code != 130 {
				t.Errorf("exit %d, want 130", code)
			}
			screen := tm.Screen()
			text := tm.ScreenText()
			if bars := barRows(screen, c.label); len(bars) != 0 {
				t.Errorf("the bar stayed after Ctrl-C:\n%s", text)
			}
			if strings.Contains(text, "^") {
				t.Errorf("a stray ^ of the echoed ^C stayed:\n%s", text)
			}
			found := false
			for _, row := range screen {
				if strings.HasPrefix(row, "ogive: interrupted") {
					found = true
				}
			}
			if !found {
				t.Errorf(`no row starts with "ogive: interrupted":`+"\n%s", text)
			}
		})
	}
}

// At 50 columns the bar fits, dropping what does not; after the terminal
// is widened to 80 it grows back. No redraw leaves a line behind.
func TestTerminalBarWidth(t *testing.T) {
	r := newRig(t, rigOptions{})
	big := r.write("a-file-with-a-rather-long-name-2026.bin", randomBytes(t, 40<<20))
	// A slow link: the put lasts some seconds, and the bar is redrawn
	// many times.
	r.proxy.SetRules(fp.Rule{Fault: fp.Throttle, Match: isUploadPart})
	defer r.proxy.SetRules()
	tm := r.terminal(t, 24, 50, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, big}})
	label := "put a-file"
	tm.WaitScreen("the bar", 30*time.Second, func(rows []string) bool { return len(barRows(rows, label)) == 1 })
	time.Sleep(time.Second)
	check := func(cols int) {
		t.Helper()
		rows := tm.Screen()
		bars := barRows(rows, label)
		if len(bars) != 1 {
			t.Fatalf("%d columns: %d bar rows:\n%s", cols, len(bars), tm.ScreenText())
		}
		for _, row := range rows {
			if len([]rune(row)) >= cols {
				t.Errorf("%d columns: a full row, wrapped or about to: %q", cols, row)
			}
		}
	}
	check(50)
	if bars := barRows(tm.Screen(), label); len(bars) == 1 && !strings.Contains(bars[0], "MiB") {
		t.Errorf("50 columns: the bar lost its byte count: %q", bars[0])
	}
	tm.Resize(24, 80)
	tm.WaitScreen("a wider bar", 10*time.Second, func(rows []string) bool {
		bars := barRows(rows, label)
		return len(bars) == 1 && strings.Contains(bars[0], "[")
	})
	check(80)
	if code := tm.Wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	// What stays: the summary and the storage ID, and no bar.
	if bars := barRows(tm.Screen(), label); len(bars) != 0 {
		t.Errorf("bars left on the screen:\n%s", tm.ScreenText())
	}
	if !strings.Contains(tm.ScreenText(), "Uploaded a-file-with-a-rather-long-name-2026.bin") {
		t.Errorf("no summary:\n%s", tm.ScreenText())
	}
}

// A put resumed after an interrupt: the bar starts at the parts already
// sent, the rate counts only the bytes sent now, and the summary says how
// much of the file this run sent.
func TestTerminalBarResumedPut(t *testing.T) {
	r := newRig(t, rigOptions{})
	big := r.write("big.bin", randomBytes(t, 40<<20))
	r.proxy.SetRules(fp.Rule{Fault: fp.Stall, Match: afterFirst(isUploadPart)})
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, big}})
	// The first part goes through, the others stall once the proxy has
	// read them: the bar stands still, and the first part is in S3.
	tm.WaitScreen("the others to stall", 30*time.Second, func(rows []string) bool {
		return regexp.MustCompile(`put big\.bin .*stalled`).MatchString(strings.Join(rows, "\n"))
	})
	kept := int(100 * archive.PartSize(crypt.EncryptedSize(40<<20)) / crypt.EncryptedSize(40<<20))
	tm.Type("\x03")
	if code := tm.Wait(20 * time.Second); code != 130 {
		t.Fatalf("interrupted put: exit %d:\n%s", code, tm.ScreenText())
	}

	r.proxy.SetRules(fp.Rule{Fault: fp.Throttle, Match: isUploadPart})
	defer r.proxy.SetRules()
	tm = r.terminal(t, 24, 100, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, big}})
	if code := tm.Wait(60 * time.Second); code != 0 {
		t.Fatalf("resumed put: exit %d:\n%s", code, tm.ScreenText())
	}
	// The proxy lets each part through at 2 MiB/s, three parts at once:
	// counting the kept part made the rate several times that.
	checkResumedBar(t, tm.Raw(), "put big.bin", kept, 8)
	if !regexp.MustCompile(`Uploaded big\.bin \(40\.0 MiB, [23]\d\.\d MiB of it now\) as `).MatchString(tm.ScreenText()) {
		t.Errorf("the summary does not say what was sent now:\n%s", tm.ScreenText())
	}
}

// A range cut off mid-body is fetched again: the bar says it is retrying,
// and the download still ends whole.
func TestTerminalBarRetrying(t *testing.T) {
	r := newRig(t, rigOptions{})
	data := randomBytes(t, 40<<20)
	big := r.write("big.bin", data)
	res := r.ogive("", "put", "--password-file", r.pwFile, "--storage-class", "STANDARD", big)
	if res.code != 0 {
		t.Fatal(res)
	}
	id := strings.TrimSpace(res.stdout)
	out := r.mkdir("out")
	isRangedGet := func(r *http.Request) bool { return r.Method == http.MethodGet && r.Header.Get("Range") != "" }
	// The two first ranges, both in flight, are cut; every request then
	// takes a second, so the retry stays on the bar a while before any
	// range completes.
	r.proxy.SetRules(fp.Rule{Fault: fp.ResetResponse, Match: isRangedGet, Limit: 2})
	r.proxy.SetLatency(time.Second)
	defer func() { r.proxy.SetRules(); r.proxy.SetLatency(0) }()
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"get", "--password-file", r.pwFile, "--concurrency", "2", id, out}})
	tm.WaitFor("retrying", 30*time.Second)
	if code := tm.Wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	if !strings.Contains(tm.ScreenText(), "Downloaded big.bin") {
		t.Errorf("no summary:\n%s", tm.ScreenText())
	}
	got, err := os.ReadFile(filepath.Join(out, "big.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("the download differs (%v)", err)
	}
}

// checkResumedBar checks the frames of a resumed transfer's bar labelled
// label: no rate above maxMiBps MiB/s, which only counting the bytes done by
// an earlier run could reach, and once under way no frame below the kept
// percentage.
func checkResumedBar(t *testing.T, raw, label string, kept int, maxMiBps float64) {
	t.Helper()
	for _, m := range regexp.MustCompile(`([0-9.]+) (B|KiB|MiB|GiB)/s`).FindAllStringSubmatch(raw, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "GiB" || m[2] == "MiB" && v > maxMiBps {
			t.Errorf("%s: rate %s %s/s counts bytes not moved now", label, m[1], m[2])
		}
	}
	for _, m := range regexp.MustCompile(regexp.QuoteMeta(label)+` +(\d+)%`).FindAllStringSubmatch(raw, -1) {
		if p, _ := strconv.Atoi(m[1]); p != 0 && p < kept {
			t.Errorf("%s: a frame at %d%%, below the %d%% done before", label, p, kept)
		}
	}
}
