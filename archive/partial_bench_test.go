package archive

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
)

// BenchmarkDownloadTarget downloads 64 MiB into a Target, as get does into
// a file: each range is written, read back and recorded for a resume. Set
// beside BenchmarkDownloadAt, it shows what the progress record costs.
func BenchmarkDownloadTarget(b *testing.B) {
	s, keys, id, cipherSize := benchArchive(b)
	info, err := s.Head(b.Context(), id)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		tg, err := NewTarget(filepath.Join(dir, "out"), false)
		if err != nil {
			b.Fatal(err)
		}
		o := DownloadOptions{}
		o.Skip, o.Done, err = tg.Resume(keys, info, DefaultChunkPackages)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DownloadAt(b.Context(), s, keys, id, cipherSize, tg.File(), o); err != nil {
			b.Fatal(err)
		}
		tg.Abort()
	}
}

// BenchmarkRecordRange is the record's share of BenchmarkDownloadTarget:
// one 8 MiB range read back from the file, proved and recorded, when 100
// ranges (800 MiB) or 100,000 ranges (781 GiB) are recorded already. The two
// must cost the same: a download records every range it fetches.
func BenchmarkRecordRange(b *testing.B) {
	for _, recorded := range []int{100, 100_000} {
		b.Run(fmt.Sprintf("recorded=%d", recorded), func(b *testing.B) {
			const n = DefaultChunkPackages * crypt.PackageSize
			r, f := recordWith(b, recorded, n)
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				r.done(f, recorded, 0, n)
			}
		})
	}
}

// recordWith starts a record in a new directory, of a download of which
// ranges 0 to recorded-1 are done, and returns it with its temporary file,
// which holds n bytes.
func recordWith(tb testing.TB, recorded int, n int64) (*partialRecord, *os.File) {
	tb.Helper()
	keys, err := crypt.DeriveKeys(bytes.Repeat([]byte{7}, crypt.MasterKeySize), crypt.Salt{7})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(keys.Destroy)
	mac, err := keys.RangeMAC()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), ".out"+partialSuffix)
	f, err := createPrivate(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if err := f.Truncate(n); err != nil {
		tb.Fatal(err)
	}
	r := &partialRecord{path: p + recordSuffix, tmp: p + recordTmpSuffix, mac: mac}
	tb.Cleanup(r.close)
	had, valid := map[int][]byte{}, map[int]bool{}
	for i := range recorded {
		had[i], valid[i] = bytes.Repeat([]byte{byte(i)}, crypt.RangeMACSize), true
	}
	key := partialKey{ID: "AAAA", Size: 1 << 40, Modified: time.Unix(1700000000, 0).UTC(), ChunkPackages: DefaultChunkPackages}
	if err := r.start(key, had, valid); err != nil {
		tb.Fatal(err)
	}
	return r, f
}
