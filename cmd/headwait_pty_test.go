//go:build unix

package cmd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/ptytest"
)

// head --wait through a restore that takes several checks: at a terminal
// one status line, redrawn in place and gone at the end; elsewhere one line
// when the wait begins, not one per check.
func TestHeadWaitLinePerState(t *testing.T) {
	r := newRig(t, rigOptions{restoreTime: 5 * time.Second})
	res := r.ogive("", "put", "--password-file", r.pwFile, r.write("a.txt", []byte("a")))
	if res.code != 0 {
		t.Fatal(res)
	}
	id := strings.TrimSpace(res.stdout)
	restore := func() {
		t.Helper()
		if res := r.ogive("", "restore", "--password-file", r.pwFile, "--tier", "Standard", id); res.code != 0 {
			t.Fatal(res)
		}
	}

	t.Run("terminal", func(t *testing.T) {
		restore()
		tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"head", "--password-file", r.pwFile, "--wait", id}})
		tm.WaitScreen("the status line", 10*time.Second, func(rows []string) bool {
			return strings.Contains(strings.Join(rows, "\n"), "a.txt: restore in progress (RECOV), waited 2s, next check in")
		})
		if code := tm.Wait(20 * time.Second); code != 0 {
			t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
		}
		text := tm.ScreenText()
		if strings.Contains(text, "restore in progress") {
			t.Errorf("the status line stayed:\n%s", text)
		}
		if !strings.Contains(text, "READY") || !strings.Contains(text, "a.txt is downloadable until") {
			t.Errorf("no READY:\n%s", text)
		}
		if n := strings.Count(tm.Raw(), "\r"+"a.txt: restore in progress"); n < 3 {
			t.Errorf("the status line was drawn %d times in a wait of seconds", n)
		}
	})

	t.Run("pipe", func(t *testing.T) {
		// The first archive stays restored: wait for another one.
		res := r.ogive("", "put", "--password-file", r.pwFile, r.write("b.txt", []byte("b")))
		if res.code != 0 {
			t.Fatal(res)
		}
		id = strings.TrimSpace(res.stdout)
		restore()
		res = r.ogive("", "head", "--password-file", r.pwFile, "--wait", id)
		if res.code != 0 || res.stdout != "READY\n" {
			t.Fatal(res)
		}
		if n := strings.Count(res.stderr, "restore in progress"); n != 1 {
			t.Errorf("%d lines about the restore in progress, want 1:\n%s", n, res.stderr)
		}
		if !strings.HasPrefix(res.stderr, "b.txt: restore in progress (RECOV); waiting until it completes") {
			t.Errorf("stderr: %q", res.stderr)
		}
	})
}
