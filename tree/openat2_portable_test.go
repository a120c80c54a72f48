//go:build unix && (!linux || ogive_portable)

package tree

import "testing"

// openat2Modes: no openat2 here, only the descriptor chain.
var openat2Modes = []bool{false}

func setOpenat2(*testing.T, bool) {}
