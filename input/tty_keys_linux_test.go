//go:build linux

package input

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func (p *pty) isig() bool {
	tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	return err == nil && tio.Lflag&unix.ISIG != 0
}

// Ctrl-C at a password prompt ends it at once: what was typed before or
// after it is dropped, never read as the password nor left for the shell,
// and the terminal's echo and signal keys are back on.
func TestTTYPasswordCtrlC(t *testing.T) {
	p := newPTY(t)
	term := tty{path: p.path}
	p.typeAfter(t, "Password: ", "s3cr3t\x03after-ctrl-c\n", true)
	pw, err := term.ReadPassword("Password: ")
	if !errors.Is(err, ErrInterrupted) || pw != nil {
		t.Fatalf("got %v, %v; want ErrInterrupted", pw, err)
	}
	if p.echoOff() || !p.isig() {
		t.Error("terminal settings not restored")
	}
	// What followed Ctrl-C was dropped: the next read sees only new keys.
	p.typeAfter(t, "Next: ", "next\n", false)
	line, err := term.ReadLine("Next: ")
	if err != nil || line != "next" {
		t.Errorf("next read %q, %v; want only what was typed after the prompt", line, err)
	}
}

// The line keys of a terminal still work in a prompt that reads key by
// key: Backspace, Ctrl-U and Ctrl-W; an answer is echoed, a password not.
func TestTTYLineEditing(t *testing.T) {
	p := newPTY(t)
	term := tty{path: p.path}
	p.typeAfter(t, "Password: ", "wrong\x15s3cr3X\x7ft pw\n", true)
	pw, err := term.ReadPassword("Password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, pw); got != "s3cr3t pw" {
		t.Errorf("got %q", got)
	}
	if strings.Contains(p.displayed(), "s3cr3") || strings.Contains(p.displayed(), "wrong") {
		t.Errorf("password echoed: %q", p.displayed())
	}
	p.typeAfter(t, "Delete? [y/N] ", "no way\x17\x17yes\n", false)
	got, err := term.ReadLine("Delete? [y/N] ")
	if err != nil || got != "yes" {
		t.Errorf("ReadLine: %q, %v", got, err)
	}
	waitFor(t, "echo", func() bool { return strings.Contains(p.displayed(), "yes") })
}

// After Interrupt no prompt reads from the terminal.
func TestInterruptRefusesLaterPrompts(t *testing.T) {
	defer func() {
		waiting.mu.Lock()
		waiting.interrupted = false
		waiting.mu.Unlock()
	}()
	if Interrupt() {
		t.Error("Interrupt reported a waiting prompt where there was none")
	}
	p := newPTY(t)
	term := tty{path: p.path}
	if _, err := term.ReadPassword("Password: "); !errors.Is(err, ErrInterrupted) {
		t.Errorf("ReadPassword after Interrupt: %v", err)
	}
	if _, err := term.ReadLine("Bucket: "); !errors.Is(err, ErrInterrupted) {
		t.Errorf("ReadLine after Interrupt: %v", err)
	}
}
