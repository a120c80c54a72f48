package input

import (
	"fmt"
	"os"

	"github.com/awnumar/memguard"
	"golang.org/x/sys/windows"
)

// terminalPath is the console's input buffer, whatever stdin is; prompts go
// to the console's screen buffer, CONOUT$. Both need read and write access
// for their modes to be read and set.
const terminalPath = "CONIN$"

// open opens the console for reading answers from t.path and writing
// prompts to CONOUT$. A process without a console (started detached, or
// as a service) has neither, and gets ErrNoTerminal.
func (t tty) open() (conn, error) {
	in, err := os.OpenFile(t.path, os.O_RDWR, 0)
	if err != nil {
		return conn{}, fmt.Errorf("%w: %w", ErrNoTerminal, err)
	}
	out, err := os.OpenFile("CONOUT$", os.O_RDWR, 0)
	if err != nil {
		in.Close()
		return conn{}, fmt.Errorf("%w: %w", ErrNoTerminal, err)
	}
	return conn{in: in, out: out}, nil
}

// dropTypeAhead discards the key events waiting in the console's input
// buffer, as TCIFLUSH does for a Unix terminal.
func dropTypeAhead(in *os.File) error {
	return windows.FlushConsoleInputBuffer(windows.Handle(in.Fd()))
}

// readTerminalLine reads one line from the console through its own line
// editing (Backspace, arrows, Esc to clear the line), without echo unless
// echo is set. Ctrl-C there is a console control event, which Go delivers
// as os.Interrupt and main handles through Interrupt. Turning echo off is
// recorded under the lock Interrupt takes, so an interrupt either comes
// first, and the console is left as it was, or finds how to turn echo back
// on; the console's mode is shared with the shell that started ogive, so
// leaving it off would hide what is typed at the shell afterwards.
//
// The line is collected in locked memory, but the os package decodes the
// console's UTF-16 into buffers of its own, which cannot be wiped. Unlike
// Linux, the line is not read key by key: Ctrl-C reaches the process as a
// signal, never as a byte, and what was typed after it is left to the
// console. nil means an empty line.
func readTerminalLine(c conn, echo bool) (*memguard.LockedBuffer, error) {
	if !echo {
		h := windows.Handle(c.in.Fd())
		var old uint32
		if err := windows.GetConsoleMode(h, &old); err != nil {
			return nil, fmt.Errorf("read from terminal: %w", err)
		}
		// Echo needs line input; Ctrl-C must stay a signal.
		quiet := old&^windows.ENABLE_ECHO_INPUT | windows.ENABLE_LINE_INPUT | windows.ENABLE_PROCESSED_INPUT
		restore := func() { _ = windows.SetConsoleMode(h, old) }
		if err := waiting.change(c.in, restore, func() error {
			return windows.SetConsoleMode(h, quiet)
		}); err != nil {
			return nil, err
		}
		defer restore()
	}
	line, err := firstLine(c.in)
	if err != nil {
		return nil, fmt.Errorf("read from terminal: %w", err)
	}
	return line, nil
}
