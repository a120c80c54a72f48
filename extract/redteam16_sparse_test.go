//go:build unix

package extract_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ogive-project/ogive/extract"
)

// redBlock is a ustar header block, its checksum computed.
func redBlock(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", 1700000000))
	b[156] = typ
	copy(b[257:263], "ustar\x00")
	copy(b[263:265], "00")
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func redPad(b []byte) []byte {
	if r := len(b) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

// paxRecord is one "len key=value\n" record.
func paxRecord(k, v string) string {
	s := " " + k + "=" + v + "\n"
	n := len(s)
	for {
		m := len(s) + len(fmt.Sprint(n))
		if m == n {
			break
		}
		n = m
	}
	return fmt.Sprintf("%d%s", n, s)
}

// TestRedteam16SparseExpands: the stream holds a regular file (type 0)
// carrying GNU sparse PAX records (format 0.1): 512 bytes of content in the
// stream, a "real size" of 32 MiB. FORMAT.md §7.1 stores no sparse file,
// and nothing in extract refuses one: archive/tar expands the holes and
// extract writes them out as zeros, so a stream of a few KiB writes as
// much as the header claims (a petabyte fills the disk), and none of it
// was checked against an index (no index lists it). Refusing such an
// entry, or at least writing no more than the stream holds, is expected.
func TestRedteam16SparseExpands(t *testing.T) {
	const real = 32 << 20
	var s []byte
	s = append(s, redBlock("top/", '5', 0)...)
	pax := paxRecord("GNU.sparse.size", fmt.Sprint(real)) +
		paxRecord("GNU.sparse.numblocks", "1") +
		paxRecord("GNU.sparse.map", "0,512")
	s = append(s, redBlock("top/PaxHeaders/big", 'x', int64(len(pax)))...)
	s = append(s, redPad([]byte(pax))...)
	s = append(s, redBlock("top/big", '0', 512)...)
	s = append(s, bytes.Repeat([]byte("A"), 512)...)
	s = append(s, make([]byte, 1024)...)

	parent := t.TempDir()
	x, err := extract.New(parent, "out", "top", extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = x.Stream(context.Background(), bytes.NewReader(s))
	if err == nil {
		err = x.Finish()
	} else {
		x.Abort()
	}
	written := x.Stats().Bytes
	if fi, serr := os.Stat(filepath.Join(parent, "out", "top", "big")); serr == nil {
		written = max(written, fi.Size())
	}
	t.Logf("stream of %d bytes; extraction: %v; %d bytes written", len(s), err, written)
	if written > int64(len(s)) {
		t.Errorf("a stream of %d bytes wrote a file of %d bytes (GNU sparse PAX records expanded)", len(s), written)
	}
	if err == nil {
		t.Errorf("a sparse entry, which §7.1 never stores, was extracted")
	}
}
