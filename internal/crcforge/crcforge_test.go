package crcforge

import (
	"crypto/rand"
	"hash/crc32"
	"testing"
)

func TestForge(t *testing.T) {
	for _, size := range []int{4, 5, 100, 1 << 20} {
		for _, want := range []uint32{0, 1, 0xdeadbeef, 0xffffffff} {
			b := make([]byte, size)
			rand.Read(b)
			Forge(b, want)
			if got := crc32.Checksum(b, castagnoli); got != want {
				t.Errorf("%d bytes: CRC-32C %08x, want %08x", size, got, want)
			}
		}
	}
}
