package cmd

import (
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/ogive-project/ogive/progress"
)

// errColumns returns a function that measures stderr's terminal width now,
// or nil when stderr is not a terminal. The bar asks it at every redraw, so
// it follows a terminal that is resized.
func (f *Factory) errColumns() func() int {
	file, ok := f.Err.(*os.File)
	if !ok || !f.ErrIsTerminal {
		return nil
	}
	return func() int {
		w, _, err := term.GetSize(int(file.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
}

// startTransfer follows a transfer on stderr: a bar at a terminal, a
// summary line anywhere unless --quiet.
func startTransfer(f *Factory, g *globalOptions, label string, total int64) *progress.Transfer {
	return progress.Start(f.Err, progress.Options{
		Label: label,
		Total: total,
		Bar:   f.ErrIsTerminal,
		Quiet: g.quiet,
		Width: f.errColumns(),
	})
}

// sizeNow describes the size of a transfer of n bytes for its summary, and,
// when an earlier run had done part of it, how much of it this run moved:
// "1.0 GiB" or "1.0 GiB, 600.0 MiB of it now". The transfer may count other
// bytes than n (ciphertext for an upload): the share it moved is scaled to n.
func sizeNow(n int64, tr *progress.Transfer) string {
	resumed, moved := tr.Resumed(), tr.Moved()
	if resumed <= 0 || n <= 0 {
		return formatSize(n)
	}
	now := int64(float64(n) * float64(moved) / float64(moved+resumed))
	return fmt.Sprintf("%s, %s of it now", formatSize(n), formatSize(now))
}

// maxConcurrency bounds put's and get's --concurrency: each transfer in
// flight is a connection, and a get to stdout holds 2 MiB for each.
const maxConcurrency = 256

// checkConcurrency checks a --concurrency; 0 is the default, which adapts.
func checkConcurrency(n int) error {
	if n < 0 || n > maxConcurrency {
		return usagef("--concurrency must be 1 to %d (0 adapts it to the link)", maxConcurrency)
	}
	return nil
}
