//go:build unix

package cmd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/ptytest"
)

// The password is typed at the terminal, without echo, and list runs.
func TestTerminalPasswordPrompt(t *testing.T) {
	r := newRig(t, rigOptions{})
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"list"}})
	tm.WaitFor("Enter password: ", 10*time.Second)
	tm.Type(rigPassword + "\r")
	if code := tm.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	if strings.Contains(tm.Raw(), rigPassword) {
		t.Error("the password was echoed")
	}
	if !strings.Contains(tm.ScreenText(), "STORAGE ID") {
		t.Errorf("no listing:\n%s", tm.ScreenText())
	}
}
