//go:build linux

package cmd_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/ptytest"
)

// A person at a terminal who sends rm's stderr to a file (2>>log) is still
// asked, on the terminal, with the early-deletion charge that would have
// gone to stderr shown in the question; no is no.
func TestRmAsksWithStderrRedirected(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.put(r.write("big.bin", randomBytes(t, 1<<10)))[0]
	bin := buildOgive(t)
	tm := r.terminal(t, 24, 100, ptytest.Options{
		Bin:  "/bin/sh",
		Args: []string{"-c", `exec "$0" "$@" 2>>errors.log`, bin, "rm", "--force", "--password-file", r.pwFile, id},
	})
	asked := false
	deadline := time.Now().Add(ptyTimeout)
	for !tm.Done() && time.Now().Before(deadline) {
		if strings.Contains(tm.Raw(), "[y/N]") {
			asked = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !asked {
		tm.Wait(ptyTimeout)
		t.Fatalf("rm at a terminal with stderr to a file did not ask:\n%s", tm.ScreenText())
	}
	if raw := tm.Raw(); !strings.Contains(raw, "charged for the remaining 180 days") ||
		!strings.Contains(raw, "Delete big.bin (1.0 KiB, "+id+") for good? [y/N] ") {
		t.Errorf("the question lacks the charge or the archive:\n%s", tm.ScreenText())
	}
	tm.Type("\r") // no
	if code := tm.Wait(ptyTimeout); code != 1 {
		t.Errorf("answered no: exit %d", code)
	}
	if !r.exists(t, id) {
		t.Error("the archive was deleted after the answer no")
	}
}

// Keys typed before the question appears, such as a paste of the password
// followed by "y", do not answer it: only what is typed after it counts.
func TestRmIgnoresAnswerTypedAhead(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.put(r.write("big.bin", randomBytes(t, 1<<10)))[0]
	tm := r.terminal(t, 24, 100, ptytest.Options{Args: []string{"rm", "--force", id}})
	tm.WaitFor("Enter password: ", ptyTimeout)
	tm.Type(rigPassword + "\ry\r")
	tm.WaitFor("for good? [y/N] ", ptyTimeout)
	if !r.exists(t, id) {
		t.Fatalf("a 'y' typed ahead of the question deleted the archive:\n%s", tm.ScreenText())
	}
	tm.Type("\r") // no
	if code := tm.Wait(ptyTimeout); code != 1 || !r.exists(t, id) {
		t.Errorf("answered no after the question: exit %d\n%s", code, tm.ScreenText())
	}
}

// SIGHUP and SIGQUIT at the password prompt end ogive with the terminal's
// echo (and line mode) back on, as SIGINT and SIGTERM do.
func TestSignalsAtPromptRestoreTerminal(t *testing.T) {
	r := newRig(t, rigOptions{})
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"list"}})
			tm.WaitFor("Enter password: ", ptyTimeout)
			tm.Type("sec")
			// The prompt reads key by key once the terminal's echo is off.
			deadline := time.Now().Add(ptyTimeout)
			for echo, err := tm.Echo(); err == nil && echo && time.Now().Before(deadline); echo, err = tm.Echo() {
				time.Sleep(10 * time.Millisecond)
			}
			tm.Signal(sig)
			tm.Wait(ptyTimeout)
			if echo, err := tm.Echo(); err != nil || !echo {
				t.Errorf("after %v at the password prompt the terminal's echo is off (%v)", sig, err)
			}
		})
	}
}

// rm --yes at a terminal asks nothing, so a 6-character prefix is refused
// before the password is asked for, and nothing is deleted.
func TestRmYesNeedsLongPrefix(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.put(r.write("big.bin", randomBytes(t, 1<<10)))[0]
	tm := r.terminal(t, 24, 120, ptytest.Options{Args: []string{"rm", "--yes", "--force", id[:6]}})
	if code := tm.Wait(ptyTimeout); code != 1 || strings.Contains(tm.Raw(), "password") ||
		!strings.Contains(tm.Raw(), "give at least 12 characters of the storage ID, or the whole ID, to delete without a question") {
		t.Errorf("rm --yes with 6 characters: exit %d\n%s", code, tm.ScreenText())
	}
	if !r.exists(t, id) {
		t.Error("deleted")
	}
}
