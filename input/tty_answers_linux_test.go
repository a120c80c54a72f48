//go:build linux

package input

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A password typed at the terminal keeps every byte the prompt does not
// treat as a key: Tab, Escape and other control characters are in it, as
// they are when the same password comes from a file or a pipe. Ctrl-Z,
// which would otherwise have stopped ogive, is not. An answer keeps none.
func TestTTYPasswordKeepsControlBytes(t *testing.T) {
	p := newPTY(t)
	term := tty{path: p.path}
	p.typeAfter(t, "Password: ", "pass\tword\x1b[A\x01\x1az\n", true)
	pw, err := term.ReadPassword("Password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := text(t, pw), "pass\tword\x1b[A\x01z"; got != want {
		t.Errorf("typed %q, read %q", want, got)
	}

	// An echoed answer has no control characters: an arrow key or a Tab
	// is dropped, not shown as a cursor movement.
	p.typeAfter(t, "Bucket: ", "my\t-bucket\x1b\n", true)
	got, err := term.ReadLine("Bucket: ")
	if err != nil || got != "my-bucket" {
		t.Errorf("ReadLine: %q, %v", got, err)
	}
}

// Confirm discards what was typed before its question was shown: a "y"
// typed ahead (the rest of a paste) does not answer it; the key typed after
// the question does.
func TestConfirmDropsTypeAhead(t *testing.T) {
	p := newPTY(t)
	pr := New(Options{Terminal: tty{path: p.path}})
	if _, err := p.master.WriteString("y\n"); err != nil {
		t.Fatal(err)
	}
	slave := int(p.slave.Fd())
	waitFor(t, "typed ahead", func() bool { n, err := unix.IoctlGetInt(slave, unix.TIOCINQ); return err == nil && n == 2 })
	go func() {
		// Answer once the question is shown, the terminal is in the
		// prompt's mode and nothing is left to read (or give up: the
		// test has failed).
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if n, err := unix.IoctlGetInt(slave, unix.TIOCINQ); err == nil && n == 0 && p.echoOff() {
				break
			}
		}
		_, _ = p.master.WriteString("n\n")
	}()
	yes, err := pr.Confirm("Delete?")
	if err != nil || yes {
		t.Errorf("Confirm: %v, %v; want no, the answer typed after the question", yes, err)
	}
}

// A prompt that an interrupt reached after it started, before it changed
// the terminal's mode, does not change it: Interrupt had nothing to put
// back, so the terminal would be left without echo. It returns at once,
// reading nothing.
func TestTTYInterruptBeforeRawMode(t *testing.T) {
	p := newPTY(t)
	if _, err := p.master.WriteString("x\n"); err != nil {
		t.Fatal(err)
	}
	c := conn{in: p.slave, out: p.slave}
	if err := waiting.start(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		waiting.mu.Lock()
		waiting.interrupted = false
		waiting.mu.Unlock()
	})
	defer waiting.done()
	if !Interrupt() {
		t.Fatal("Interrupt found no prompt")
	}
	line, err := readTerminalLine(c, false)
	if !errors.Is(err, ErrInterrupted) || line != nil {
		t.Errorf("read %v, %v after the interrupt; want ErrInterrupted", line, err)
	}
	if p.echoOff() || !p.isig() {
		t.Error("the terminal was left in the prompt's mode")
	}
}
