package archive

import (
	"bytes"
	"hash/crc32"
	"testing"
)

// A record may claim chunks whose data never reached the disk (a machine
// crash after the record was written): resuming keeps only chunks whose
// data still has the recorded checksum.
func TestVerifyKeepsOnlyIntactChunks(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1024) // 16 KiB: four 4 KiB chunks
	span := func(i int) (int64, int64) { return int64(i) * 4096, 4096 }
	had := map[int]uint32{}
	for i := range 4 {
		off, n := span(i)
		had[i] = crc32.Checksum(data[off:off+n], castagnoli)
	}
	disk := bytes.Clone(data)
	clear(disk[4096:8192])                                  // chunk 1 never written
	disk[3*4096+7] ^= 1                                     // chunk 3 damaged
	got := verify(bytes.NewReader(disk[:15000]), had, span) // and the file is short
	if !got[0] || got[1] || !got[2] || got[3] || len(got) != 2 {
		t.Fatalf("kept %v, want chunks 0 and 2", got)
	}
}
