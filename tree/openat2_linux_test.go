//go:build linux && !ogive_portable

package tree

import "testing"

// openat2Modes are the ways open is tested: openat2, then the descriptor
// chain it falls back to.
var openat2Modes = []bool{true, false}

// setOpenat2 turns openat2 on or off for the test.
func setOpenat2(t *testing.T, on bool) {
	old := useOpenat2
	useOpenat2 = on
	t.Cleanup(func() { useOpenat2 = old })
}
