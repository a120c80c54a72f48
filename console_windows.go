package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// enableTerminalEscapes has the console interpret the escape sequences
// ogive writes to redraw progress bars and clear lines (ESC [ K), which
// Unix terminals always do and a Windows console does only in virtual
// terminal mode (Windows 10 and later). Where it cannot be turned on, or
// stderr is not a console, nothing changes: ogive draws bars only on a
// terminal, and an old console shows the sequences as text. The mode is
// left on at exit; it belongs to the console, which other programs share.
func enableTerminalEscapes() {
	for _, f := range []*os.File{os.Stdout, os.Stderr} {
		h := windows.Handle(f.Fd())
		var mode uint32
		if windows.GetConsoleMode(h, &mode) == nil {
			_ = windows.SetConsoleMode(h, mode|windows.ENABLE_PROCESSED_OUTPUT|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING)
		}
	}
}
