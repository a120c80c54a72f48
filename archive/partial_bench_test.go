package archive

import (
	"path/filepath"
	"testing"

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
// one 8 MiB range read back from the file, proved and recorded.
func BenchmarkRecordRange(b *testing.B) {
	s, keys, id, _ := benchArchive(b)
	info, err := s.Head(b.Context(), id)
	if err != nil {
		b.Fatal(err)
	}
	tg, err := NewTarget(filepath.Join(b.TempDir(), "out"), false)
	if err != nil {
		b.Fatal(err)
	}
	defer tg.Abort()
	_, done, err := tg.Resume(keys, info, DefaultChunkPackages)
	if err != nil {
		b.Fatal(err)
	}
	const n = DefaultChunkPackages * crypt.PackageSize
	if _, err := tg.File().WriteAt(make([]byte, n), 0); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		done(0)
	}
}
