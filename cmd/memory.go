package cmd

import (
	"math"
	"os"
	"runtime/debug"
)

// BaseMemoryLimit is the soft limit main gives the Go runtime (unless
// GOMEMLIMIT is set): the garbage collector works harder as the heap nears
// it, rather than let it reach twice what is live. A put or get of a single
// file stays well under it; a directory of 100,000 entries would otherwise
// take 190 MiB where 115 MiB do (docs/BENCHMARKS.md).
const BaseMemoryLimit = 100 << 20

// treeEntryMemory is a little less than what one entry of a directory
// archive keeps alive, walked, hashed and indexed (about 650 bytes at the
// index's peak): the limit stays soft, yet the heap near what is live.
const treeEntryMemory = 256

// SetMemoryLimit applies BaseMemoryLimit, unless GOMEMLIMIT says otherwise.
func SetMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(BaseMemoryLimit)
	}
}

// raiseMemoryLimit makes room for a directory archive of entries entries,
// when the limit is ogive's own: a soft limit below what is live would have
// the collector run without end.
func raiseMemoryLimit(entries int) {
	cur := debug.SetMemoryLimit(-1)
	if os.Getenv("GOMEMLIMIT") != "" || cur == math.MaxInt64 {
		return
	}
	// Past some 200,000 entries, the second term keeps the limit above
	// what is live (about 650 bytes an entry at the index's peak), so that
	// the collector never runs without end.
	want := max(int64(BaseMemoryLimit)+int64(entries)*treeEntryMemory, 48<<20+int64(entries)*900)
	if want > cur {
		debug.SetMemoryLimit(want)
	}
}
