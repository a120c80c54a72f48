//go:build unix

package cmd_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	fp "github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/internal/ptytest"
)

// --yes answers for a script run at a terminal: restore --all and
// uploads --abort go ahead without a question.
func TestTerminalYesAsksNothing(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.put(r.write("a.bin", randomBytes(t, 1<<20)))
	tm := r.terminal(t, 24, 120, ptytest.Options{Args: []string{"restore", "--all", "--yes", "--password-file", r.pwFile}})
	if code := tm.Wait(ptyTimeout); code != 0 || strings.Contains(tm.Raw(), "[y/N]") ||
		!strings.Contains(tm.ScreenText(), "Restoration request sent.") {
		t.Fatalf("restore --all --yes: exit %d\n%s", code, tm.ScreenText())
	}

	r.unfinishedUpload(t, "big.bin")
	tm = r.terminal(t, 24, 120, ptytest.Options{Args: []string{"uploads", "--abort", "--yes", "--password-file", r.pwFile}})
	if code := tm.Wait(ptyTimeout); code != 0 || strings.Contains(tm.Raw(), "[y/N]") {
		t.Fatalf("uploads --abort --yes: exit %d\n%s", code, tm.ScreenText())
	}
	if list := r.ogive("", "uploads", "--password-file", r.pwFile); list.code != 0 || list.stdout != "" {
		t.Fatalf("uploads after --abort --yes: %s", list)
	}
}

// At a terminal too, list shows the oldest archive first, whatever the
// order of the puts and of the names.
func TestTerminalListSortedByDate(t *testing.T) {
	r := newRig(t, rigOptions{})
	ids := r.put(r.write("b.txt", []byte("b")), r.write("c.txt", []byte("c")), r.write("a.txt", []byte("a")))
	dates := []time.Time{
		time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		time.Date(2025, 1, 2, 10, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 5, 23, 59, 0, 0, time.UTC),
	}
	for i, id := range ids {
		if err := os.Chtimes(r.objectPath(id), dates[i], dates[i]); err != nil {
			t.Fatal(err)
		}
	}
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"list", "--password-file", r.pwFile}})
	if code := tm.Wait(ptyTimeout); code != 0 {
		t.Fatalf("exit %d\n%s", code, tm.ScreenText())
	}
	var names []string
	row := regexp.MustCompile(`^\S+ B +(\d{4}-\d\d-\d\dT\d\d:\d\dZ) +DEEPS +\S{12} +(\S+)$`)
	for _, line := range tm.Screen() {
		if m := row.FindStringSubmatch(line); m != nil {
			names = append(names, m[1]+" "+m[2])
		}
	}
	want := []string{"2025-01-02T10:30Z c.txt", "2026-03-01T09:00Z b.txt", "2026-11-05T23:59Z a.txt"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Fatalf("rows %q, want %q:\n%s", names, want, tm.ScreenText())
	}
}

// A resumed get at a terminal: its bar starts past the ranges already
// here, its rate counts only what comes now, and its summary says so.
func TestTerminalBarResumedGet(t *testing.T) {
	r := newRig(t, rigOptions{})
	big := r.write("big.bin", randomBytes(t, 40<<20))
	res := r.ogive("", "put", "--password-file", r.pwFile, "--storage-class", "STANDARD", big)
	if res.code != 0 {
		t.Fatal(res)
	}
	id := strings.TrimSpace(res.stdout)
	out := r.mkdir("out")
	isRangedGet := func(r *http.Request) bool { return r.Method == http.MethodGet && r.Header.Get("Range") != "" }
	r.proxy.SetRules(fp.Rule{Fault: fp.Stall, Match: afterFirst(isRangedGet)})
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"get", "--password-file", r.pwFile, "--concurrency", "1", id, out}})
	got := regexp.MustCompile(`get big\.bin +([1-9]\d?)%`)
	tm.WaitScreen("a range written", 30*time.Second, func(rows []string) bool {
		return got.MatchString(strings.Join(rows, "\n"))
	})
	kept, _ := strconv.Atoi(got.FindStringSubmatch(tm.ScreenText())[1])
	tm.Type("\x03")
	if code := tm.Wait(20 * time.Second); code != 130 {
		t.Fatalf("interrupted get: exit %d:\n%s", code, tm.ScreenText())
	}

	r.proxy.SetRules(fp.Rule{Fault: fp.Throttle, Match: isRangedGet})
	defer r.proxy.SetRules()
	tm = r.terminal(t, 24, 200, ptytest.Options{Args: []string{"get", "--password-file", r.pwFile, "--concurrency", "1", id, out}})
	if code := tm.Wait(60 * time.Second); code != 0 {
		t.Fatalf("resumed get: exit %d:\n%s", code, tm.ScreenText())
	}
	// One range at a time through a proxy that passes 2 MiB/s: counting
	// the ranges already here would make the rate several times that.
	checkResumedBar(t, tm.Raw(), "get big.bin", kept, 6)
	if !strings.Contains(tm.ScreenText(), "Resuming the download of big.bin: 1 range of 8.0 MiB already here.") {
		t.Errorf("no resume notice:\n%s", tm.ScreenText())
	}
	if !regexp.MustCompile(`Downloaded big\.bin as .* \(40\.0 MiB, [1-3]?\d\.\d MiB of it now\)`).MatchString(tm.ScreenText()) {
		t.Errorf("the summary does not say what was fetched now:\n%s", tm.ScreenText())
	}
	if b, err := os.ReadFile(filepath.Join(out, "big.bin")); err != nil || len(b) != 40<<20 {
		t.Errorf("the download: %d bytes, %v", len(b), err)
	}
}

// --version names the commit the Makefile stamps into the binary, besides
// the version and the Go that built it.
func TestVersionNamesCommit(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ogive")
	build := exec.Command("go", "build", "-o", bin, "-ldflags",
		"-X github.com/ogive-project/ogive/cmd.Version=v9.8.7 -X github.com/ogive-project/ogive/cmd.Commit=abc1234",
		"github.com/ogive-project/ogive")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^ogive v9\.8\.7 \(commit abc1234, built with go1\.\d+(\.\d+)? \w+/\w+\)\n$`)
	if !want.Match(out) {
		t.Fatalf("--version printed %q", out)
	}
}
