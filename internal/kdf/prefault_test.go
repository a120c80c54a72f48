//go:build linux && !race

package kdf

import (
	"syscall"
	"testing"

	"golang.org/x/crypto/argon2"
)

// The race detector's allocator and shadow memory fault on their own, so
// this runs without it; and on Linux only, where getrusage counts the
// minor faults this test relies on.

// minorFaults is the process's count of page faults served without I/O.
func minorFaults(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}

// After prefault, a 64 MiB derivation runs in memory that is already mapped.
// Without it, argon2 takes two faults per page (16,384 pages).
func TestPrefaultMapsTheMemory(t *testing.T) {
	const memoryKiB = 64 << 10
	pages := int64(memoryKiB << 10 / syscall.Getpagesize())
	prefault(memoryKiB)
	before := minorFaults(t)
	argon2.IDKey([]byte("pw"), make([]byte, 16), 1, memoryKiB, 4, 32)
	if faults := minorFaults(t) - before; faults > pages/8 {
		t.Errorf("argon2 took %d page faults after prefault, want at most %d (it has %d pages)", faults, pages/8, pages)
	}
}
