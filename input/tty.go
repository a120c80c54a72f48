package input

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/awnumar/memguard"
	"golang.org/x/term"
)

// tty is a terminal device, the controlling terminal /dev/tty outside
// tests. It is opened for each question, so a Prompter holds nothing open
// and needs no Close.
type tty struct {
	path string
}

func (t tty) open() (*os.File, error) {
	f, err := os.OpenFile(t.path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoTerminal, err)
	}
	return f, nil
}

func (t tty) ReadPassword(prompt string) (*memguard.LockedBuffer, error) {
	f, err := t.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := io.WriteString(f, prompt); err != nil {
		return nil, fmt.Errorf("write to terminal: %w", err)
	}
	fd := int(f.Fd())
	if st, err := term.GetState(fd); err == nil {
		echoOff.set(f, st)
		defer echoOff.clear()
	}
	b, err := term.ReadPassword(fd)
	// Echo was off, so the user's Enter did not move the cursor.
	_, _ = io.WriteString(f, "\n")
	if err != nil {
		clear(b)
		return nil, fmt.Errorf("read password from terminal: %w", err)
	}
	// x/term collects the line by appending to a slice, so shorter copies
	// left behind as it grew cannot be reached to wipe; this one is wiped
	// by NewBufferFromBytes.
	return memguard.NewBufferFromBytes(b), nil
}

func (t tty) ReadLine(prompt string) (string, error) {
	f, err := t.open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.WriteString(f, prompt); err != nil {
		return "", fmt.Errorf("write to terminal: %w", err)
	}
	// A terminal in canonical mode returns at most one line per read, so
	// firstLine consumes nothing beyond the answer.
	line, err := firstLine(f)
	if err != nil {
		return "", fmt.Errorf("read from terminal: %w", err)
	}
	if line == nil {
		return "", nil
	}
	defer line.Destroy()
	return string(line.Bytes()), nil
}

// pendingPrompt is the terminal a password prompt is reading with echo off,
// and the state to put back, so that RestoreTerminal can turn echo on again
// if the process exits while the prompt still waits.
type pendingPrompt struct {
	mu    sync.Mutex
	f     *os.File
	state *term.State
}

var echoOff pendingPrompt

func (p *pendingPrompt) set(f *os.File, st *term.State) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.f, p.state = f, st
}

func (p *pendingPrompt) clear() { p.set(nil, nil) }

// RestoreTerminal turns echo back on in a terminal where a password prompt
// is waiting, and moves past the prompt's line. main calls it before exiting
// on an interrupt without waiting for the prompt to return; it does
// nothing when no prompt is waiting.
func RestoreTerminal() {
	echoOff.mu.Lock()
	defer echoOff.mu.Unlock()
	if echoOff.f == nil {
		return
	}
	if term.Restore(int(echoOff.f.Fd()), echoOff.state) == nil {
		_, _ = io.WriteString(echoOff.f, "\n")
	}
	echoOff.f, echoOff.state = nil, nil
}
