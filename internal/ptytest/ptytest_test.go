//go:build unix

package ptytest

import (
	"strings"
	"testing"
	"time"
)

// A line longer than the terminal wraps, and a carriage return goes back
// to the start of the row the cursor is on, as on a real terminal: this is
// how a bar too wide for its terminal leaves garbage behind.
func TestScreenWrapsAndRedraws(t *testing.T) {
	tm := Start(t, Options{Bin: "sh", Args: []string{"-c", `printf '%s\r' 0123456789ABCDEFGHIJ0123; printf 'xy\n'; read line; echo "got $line"`}, Rows: 5, Cols: 20})
	tm.WaitFor("xy", 5*time.Second)
	tm.Type("hello\r")
	if code := tm.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	rows := tm.Screen()
	if rows[0] != "0123456789ABCDEFGHIJ" || rows[1] != "xy23" || !strings.HasPrefix(rows[3], "got hello") {
		t.Fatalf("screen:\n%s", tm.ScreenText())
	}
}

// Ctrl-C typed at the terminal interrupts the program.
func TestCtrlC(t *testing.T) {
	tm := Start(t, Options{Bin: "sh", Args: []string{"-c", `echo ready; sleep 30`}, Cols: 40})
	tm.WaitFor("ready", 5*time.Second)
	tm.Type("\x03")
	if code := tm.Wait(5 * time.Second); code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if on, err := tm.Echo(); err != nil || !on {
		t.Fatalf("echo %v, %v", on, err)
	}
}
