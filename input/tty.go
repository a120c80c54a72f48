package input

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/awnumar/memguard"
)

// tty is the terminal ogive asks on: the controlling terminal /dev/tty on
// Unix, the console on Windows (terminalPath), or a pseudo-terminal in
// tests. It is opened for each question, so a Prompter holds nothing open
// and needs no Close.
type tty struct {
	path string
}

// conn is an open terminal: answers are read from in, prompts written to
// out. On Unix both are the one terminal device; a Windows console has an
// input handle and a separate screen buffer.
type conn struct {
	in, out *os.File
}

func (c conn) close() {
	c.in.Close()
	if c.out != c.in {
		c.out.Close()
	}
}

func (t tty) ReadPassword(prompt string) (*memguard.LockedBuffer, error) {
	c, err := t.open()
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := waiting.start(c); err != nil {
		return nil, err
	}
	defer waiting.done()
	if _, err := io.WriteString(c.out, prompt); err != nil {
		return nil, fmt.Errorf("write to terminal: %w", err)
	}
	b, err := readTerminalLine(c, false)
	// Echo was off, so the user's Enter did not move the cursor.
	_, _ = io.WriteString(c.out, "\n")
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (t tty) ReadLine(prompt string) (string, error) {
	return t.readLine(prompt, false)
}

// readFreshLine is ReadLine for an answer that only keys typed after the
// prompt was shown may give (Confirm): what was typed before, such as the
// rest of a paste that held the password, is discarded unread.
func (t tty) readFreshLine(prompt string) (string, error) {
	return t.readLine(prompt, true)
}

func (t tty) readLine(prompt string, fresh bool) (string, error) {
	c, err := t.open()
	if err != nil {
		return "", err
	}
	defer c.close()
	if err := waiting.start(c); err != nil {
		return "", err
	}
	defer waiting.done()
	if fresh {
		if err := dropTypeAhead(c.in); err != nil {
			return "", fmt.Errorf("read from terminal: %w", err)
		}
	}
	if _, err := io.WriteString(c.out, prompt); err != nil {
		return "", fmt.Errorf("write to terminal: %w", err)
	}
	line, err := readTerminalLine(c, true)
	_, _ = io.WriteString(c.out, "\n")
	if err != nil {
		return "", err
	}
	if line == nil {
		return "", nil
	}
	defer line.Destroy()
	return string(line.Bytes()), nil
}

// pendingPrompt is the terminal a prompt is reading from, and how to put
// back the settings the prompt changed (echo, line editing), so that
// Interrupt can restore them and let the process exit at once while the
// prompt still waits. interrupted is set by the first Interrupt: a prompt
// that would start after it fails with ErrInterrupted instead of reading.
type pendingPrompt struct {
	mu          sync.Mutex
	c           *conn  // nil: no prompt waiting
	restore     func() // nil: nothing changed yet
	interrupted bool
}

var waiting pendingPrompt

// start records c as the terminal a prompt reads from, or fails if the
// process was already interrupted.
func (p *pendingPrompt) start(c conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.interrupted {
		return ErrInterrupted
	}
	p.c, p.restore = &c, nil
	return nil
}

// change records restore for the prompt reading from f and makes the
// change set undoes, under the lock that Interrupt takes: an interrupt
// either comes first, and the terminal is left as it was, or after, and
// finds how to put it back. A prompt interrupted since it started gets
// ErrInterrupted.
func (p *pendingPrompt) change(f *os.File, restore func(), set func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.interrupted || p.c == nil || p.c.in != f {
		return ErrInterrupted
	}
	p.restore = restore
	if err := set(); err != nil {
		p.restore = nil
		return fmt.Errorf("read from terminal: %w", err)
	}
	return nil
}

func (p *pendingPrompt) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.c, p.restore = nil, nil
}

// Interrupt is called on SIGINT, SIGTERM, SIGHUP or SIGQUIT (on Windows:
// Ctrl-C, Ctrl-Break, the console closing). If a prompt is waiting for an
// answer at the terminal, it turns echo back on there, moves past the
// prompt's line and returns true: the caller should exit at once, since
// the prompt cannot see the signal, and whatever is typed next is not
// meant for it (the terminal already dropped what was typed before
// Ctrl-C). From then on no prompt reads from the terminal.
func Interrupt() bool {
	waiting.mu.Lock()
	defer waiting.mu.Unlock()
	waiting.interrupted = true
	if waiting.c == nil {
		return false
	}
	if waiting.restore != nil {
		waiting.restore()
	}
	_, _ = io.WriteString(waiting.c.out, "\n")
	waiting.c, waiting.restore = nil, nil
	return true
}

// RestoreTerminal turns echo back on in a terminal where a password prompt
// is waiting, and moves past the prompt's line; it does nothing when no
// prompt is waiting. Unlike Interrupt it lets later prompts read.
func RestoreTerminal() {
	waiting.mu.Lock()
	defer waiting.mu.Unlock()
	if waiting.c == nil {
		return
	}
	if waiting.restore != nil {
		waiting.restore()
	}
	_, _ = io.WriteString(waiting.c.out, "\n")
	waiting.c, waiting.restore = nil, nil
}
