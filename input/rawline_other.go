//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows)

package input

import (
	"fmt"
	"os"

	"github.com/awnumar/memguard"
	"golang.org/x/term"
)

// readTerminalLine reads one line from the terminal c, without echo unless
// echo is set, through the terminal's own line editing, on systems whose
// terminal settings ogive does not handle itself. Ctrl-C there is a
// signal, which main handles through Interrupt; echo is turned off by
// x/term, after its restore is recorded, so an interrupt in between may
// leave it off. nil means an empty line.
func readTerminalLine(c conn, echo bool) (*memguard.LockedBuffer, error) {
	f := c.in
	if echo {
		// A terminal in canonical mode returns at most one line per read,
		// so firstLine consumes nothing beyond the answer.
		line, err := firstLine(f)
		if err != nil {
			return nil, fmt.Errorf("read from terminal: %w", err)
		}
		return line, nil
	}
	fd := int(f.Fd())
	if st, err := term.GetState(fd); err == nil {
		waiting.echoOff(f, func() { _ = term.Restore(fd, st) })
	}
	b, err := term.ReadPassword(fd)
	if err != nil {
		clear(b)
		return nil, fmt.Errorf("read password from terminal: %w", err)
	}
	// x/term collects the line by appending to a slice, so shorter copies
	// left behind as it grew cannot be reached to wipe; this one is wiped
	// by NewBufferFromBytes.
	if len(b) == 0 {
		return nil, nil
	}
	return memguard.NewBufferFromBytes(b), nil
}

// echoOff records how to undo what the prompt on f changes in the
// terminal's settings, before it changes them. Linux uses change instead.
func (p *pendingPrompt) echoOff(f *os.File, restore func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.c != nil && p.c.in == f {
		p.restore = restore
	}
}

// dropTypeAhead would discard what was typed ahead at the terminal; these
// systems are left to do without.
func dropTypeAhead(*os.File) error { return nil }
