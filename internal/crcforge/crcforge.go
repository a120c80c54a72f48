// Package crcforge makes bytes of a chosen CRC-32C, as anyone who wants to pass
// junk for a part whose checksum S3 lists can. Tests use it to show that ogive
// never trusts a CRC-32C against someone who can write to the bucket.
package crcforge

import (
	"encoding/binary"
	"hash/crc32"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Forge rewrites the last four bytes of b, which must hold at least four, so
// that the CRC-32C (Castagnoli) of b is want. CRC is affine over GF(2): the
// four bytes follow from a 32×32 linear system, which is always solvable.
func Forge(b []byte, want uint32) {
	head := b[:len(b)-4]
	prefix := crc32.Checksum(head, castagnoli)
	with := func(x uint32) uint32 {
		var tail [4]byte
		binary.LittleEndian.PutUint32(tail[:], x)
		return crc32.Update(prefix, castagnoli, tail[:])
	}
	base := with(0)
	rhs := want ^ base
	// Row r: bit c says whether tail bit c flips CRC bit r; bit 32 is the target's.
	var rows [32]uint64
	for r := range 32 {
		for c := range 32 {
			if (with(1<<c)^base)>>r&1 == 1 {
				rows[r] |= 1 << c
			}
		}
		rows[r] |= uint64(rhs>>r&1) << 32
	}
	for c := range 32 {
		p := c
		for rows[p]>>c&1 == 0 {
			p++ // a CRC's map of its last 32 bits is invertible: a pivot exists
		}
		rows[c], rows[p] = rows[p], rows[c]
		for r := range 32 {
			if r != c && rows[r]>>c&1 == 1 {
				rows[r] ^= rows[c]
			}
		}
	}
	var x uint32
	for r := range 32 {
		x |= uint32(rows[r]>>32&1) << r
	}
	binary.LittleEndian.PutUint32(b[len(b)-4:], x)
}
