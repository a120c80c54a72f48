package cmd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/flight"
)

// TestRedteam15ConcurrencyHelpRange: put's and get's --concurrency help
// (and the man pages generated from it) say the adaptive level moves
// between 8 and 32, but flight.Adaptive goes down to flight.Min = 4, as
// README and ARCHITECTURE say.
func TestRedteam15ConcurrencyHelpRange(t *testing.T) {
	want := fmt.Sprintf("%d to %d", flight.Min, flight.Max)
	for _, c := range []struct {
		name  string
		usage string
	}{
		{"put", newPutCmd(&Factory{}, &globalOptions{}).Flags().Lookup("concurrency").Usage},
		{"get", newGetCmd(&Factory{}, &globalOptions{}).Flags().Lookup("concurrency").Usage},
	} {
		if !strings.Contains(c.usage, want) {
			t.Errorf("%s --concurrency: %q; the gate moves %s", c.name, c.usage, want)
		}
	}
}
