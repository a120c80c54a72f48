//go:build linux

package input

import "testing"

// Probe (held): Backspace over a Tab, and over the last byte of an arrow
// key's escape sequence, in a password typed at the terminal.
func TestTTYBackspaceOverTab(t *testing.T) {
	p := newPTY(t)
	term := tty{path: p.path}
	p.typeAfter(t, "Password: ", "ab\t\x7fc\x1b[D\x7f\x7f\x7fd\n", true)
	pw, err := term.ReadPassword("Password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := text(t, pw), "abcd"; got != want {
		t.Errorf("read %q, want %q", got, want)
	}
}
