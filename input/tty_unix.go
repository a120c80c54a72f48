//go:build !windows

package input

import (
	"fmt"
	"os"
)

// terminalPath is the controlling terminal, whatever stdin and stdout are.
const terminalPath = "/dev/tty"

// open opens the terminal device for reading answers and writing prompts.
func (t tty) open() (conn, error) {
	f, err := os.OpenFile(t.path, os.O_RDWR, 0)
	if err != nil {
		return conn{}, fmt.Errorf("%w: %w", ErrNoTerminal, err)
	}
	return conn{in: f, out: f}, nil
}
