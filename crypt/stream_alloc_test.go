//go:build !race

// The race detector makes sync.Pool drop items at random, so these tests run
// without it.

package crypt

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

// TestDecryptRunGarbage checks that decrypting a run reuses its package
// buffers and sio's, so a download of many ranges does not leave 192 KiB
// of garbage per range (two package buffers here and one in sio).
func TestDecryptRunGarbage(t *testing.T) {
	k := testKeys(t, saltFrom(0xa0))
	plain := pattern(8 * PackageSize)
	ct := encryptAll(t, k, plain)
	run := ct[:4*MaxPackageLen] // packages 0-3, not final
	decrypt := func() {
		if _, err := k.DecryptPackages(io.Discard, bytes.NewReader(run), 0, false); err != nil {
			t.Fatal(err)
		}
	}
	decrypt() // fill the pools
	const runs = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		decrypt()
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 32<<10 {
		t.Errorf("a run of 4 packages allocates %d bytes, want under 32 KiB", perRun)
	}
}

func TestReleasedOpenerRefuses(t *testing.T) {
	k := testKeys(t, saltFrom(0xa1))
	ct := encryptAll(t, k, pattern(PackageSize))
	o, err := k.newPackageOpener(0)
	if err != nil {
		t.Fatal(err)
	}
	o.release()
	if _, err := o.open(make([]byte, PackageSize), ct[:MaxPackageLen]); err == nil {
		t.Error("a released opener opened a package")
	}
}
