//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package input

import (
	"errors"
	"fmt"

	"github.com/awnumar/memguard"
	"golang.org/x/sys/unix"
)

// readTerminalLine reads one answer from the terminal c a key at a time,
// with the terminal's own line editing and signal keys turned off, so that
// Ctrl-C is seen here, as the byte it is, before anything typed after it:
// the prompt ends with ErrInterrupted, and what was typed after the Ctrl-C
// is dropped unread, as the terminal does with what precedes a signal key.
// The keys a terminal line offers are kept: Backspace (the erase
// character), Ctrl-U (the kill character) and Ctrl-W erase; Enter ends the
// line; Ctrl-D on an empty line, or the quit character (Ctrl-\), ends the
// prompt like Ctrl-C; the suspend character (Ctrl-Z) is ignored. Without
// echo (a password) every other byte is part of the line, Tab, Escape and
// other control characters included, as the terminal's own line mode kept
// them; with echo (an answer) control characters are dropped, as no answer
// holds one and showing them would move the cursor. With echo, typed
// characters are shown as typed; without, nothing is.
//
// The terminal's settings are put back before returning, and Interrupt
// puts them back if the process ends first: how to restore them is
// recorded before they are changed, under the same lock as Interrupt. The
// line is collected in locked memory; nil means an empty line.
func readTerminalLine(c conn, echo bool) (*memguard.LockedBuffer, error) {
	f := c.in
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, getTermios)
	if err != nil {
		return nil, fmt.Errorf("read from terminal: %w", err)
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG | unix.IEXTEN
	raw.Iflag &^= unix.IXON // Ctrl-S and Ctrl-Q are ordinary keys here
	raw.Iflag |= unix.ICRNL
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	restore := func() { _ = unix.IoctlSetTermios(fd, setTermios, old) }
	if err := waiting.change(f, restore, func() error {
		return unix.IoctlSetTermios(fd, setTermios, &raw)
	}); err != nil {
		return nil, err
	}
	defer restore()

	erase, kill := old.Cc[unix.VERASE], old.Cc[unix.VKILL]
	intr, quit, eof := old.Cc[unix.VINTR], old.Cc[unix.VQUIT], old.Cc[unix.VEOF]
	susp := old.Cc[unix.VSUSP]
	var line lineBuffer
	var key [1]byte
	defer clear(key[:])
	show := func(s string) {
		if echo {
			_, _ = c.out.WriteString(s)
		}
	}
	// backspace removes the last character, all the bytes of a UTF-8 one.
	backspace := func() bool {
		if line.n == 0 {
			return false
		}
		b := line.buf.Bytes()
		line.n--
		for line.n > 0 && b[line.n]&0xC0 == 0x80 {
			line.n--
		}
		clear(b[line.n:])
		show("\b \b")
		return true
	}
	for {
		n, err := f.Read(key[:])
		if err != nil || n == 0 {
			line.destroy()
			if err == nil {
				err = errors.New("terminal closed")
			}
			return nil, fmt.Errorf("read from terminal: %w", err)
		}
		switch c := key[0]; {
		case c == '\n' || c == '\r':
			return line.take(), nil
		case c == intr && c != disabled, c == quit && c != disabled:
			// Drop what was typed ahead, as the terminal does for the
			// signal keys, so that it reaches neither ogive nor the shell.
			line.destroy()
			_ = dropTypeAhead(f)
			return nil, ErrInterrupted
		case c == eof && c != disabled:
			if line.n == 0 {
				line.destroy()
				return nil, ErrInterrupted
			}
		case c == erase || c == 0x7f || c == '\b':
			backspace()
		case c == kill && c != disabled:
			for backspace() {
			}
		case c == 0x17: // Ctrl-W: the word before the cursor
			for line.n > 0 && line.buf.Bytes()[line.n-1] == ' ' {
				backspace()
			}
			for line.n > 0 && line.buf.Bytes()[line.n-1] != ' ' {
				backspace()
			}
		case c == susp && c != disabled:
			// Ctrl-Z would stop ogive with the terminal in this mode.
		case echo && c < 0x20:
			// Not part of an answer (above).
		default:
			if err := line.write(key[:]); err != nil {
				line.destroy()
				return nil, err
			}
			show(string(key[:]))
		}
	}
}
