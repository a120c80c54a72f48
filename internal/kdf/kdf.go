// Package kdf runs Argon2 for ogive: the profile's password hash (Argon2id)
// and the 2019 format's per-object keys (Argon2i). The derivation is
// golang.org/x/crypto/argon2's, unchanged; the package only maps the memory
// it will use before it starts.
//
// Why: argon2 allocates its blocks fresh and, from the very first pass, XORs
// each new block into the zeroed memory. Every page is therefore read before
// it is written: the read maps the kernel's shared zero page and the write
// replaces it (copy-on-write), which must flush the TLB of every other CPU
// running one of the process's threads. With several lanes on several CPUs
// that is one inter-processor interrupt per 4 KiB page, and on a virtual
// machine each costs tens of microseconds: a 64 MiB derivation spent twice as
// long in the kernel as in Argon2 itself. Writing the pages once from one
// goroutine and handing them back to the heap lets argon2's allocation reuse
// them already mapped, so its first pass takes no faults at all.
package kdf

import (
	"os"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// IDKey is argon2.IDKey (Argon2id) with its memory mapped first.
func IDKey(password, salt []byte, time, memoryKiB uint32, threads uint8, keyLen uint32) []byte {
	prefault(memoryKiB)
	return argon2.IDKey(password, salt, time, memoryKiB, threads, keyLen)
}

// Key is argon2.Key (Argon2i) with its memory mapped first.
func Key(password, salt []byte, time, memoryKiB uint32, threads uint8, keyLen uint32) []byte {
	prefault(memoryKiB)
	return argon2.Key(password, salt, time, memoryKiB, threads, keyLen)
}

// slack is added to the prefaulted block so that argon2's allocation, which
// the heap rounds up, fits in the freed span.
const slack = 1 << 20

// prefault writes one byte in each page of a block as large as argon2's
// memory, then frees it with a collection so the heap reuses the pages. The
// runtime zeroes them again when argon2 allocates, with plain writes.
func prefault(memoryKiB uint32) {
	b := make([]byte, int(memoryKiB)<<10+slack)
	for i := 0; i < len(b); i += os.Getpagesize() {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	runtime.GC()
}
