//go:build unix

package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkExtract10k extracts a stream of 10,000 files of 100 KiB, in 100
// directories, built once in memory. What each round extracts stays until
// the end: on ext4, creating files just after as many were removed costs
// a scan of the recently deleted inodes per file (recently_deleted), which
// would measure the benchmark's cleanup rather than the extraction.
func BenchmarkExtract10k(b *testing.B) {
	const files, size = 10000, 100 << 10
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	content := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	hdr := func(h *tar.Header) {
		h.ModTime, h.Format = time.Unix(1e9, 0), tar.FormatPAX
		if err := w.WriteHeader(h); err != nil {
			b.Fatal(err)
		}
	}
	hdr(&tar.Header{Typeflag: tar.TypeDir, Name: "top/", Mode: 0o755})
	for i := range files {
		if i%100 == 0 {
			hdr(&tar.Header{Typeflag: tar.TypeDir, Name: fmt.Sprintf("top/d%03d/", i/100), Mode: 0o755})
		}
		hdr(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("top/d%03d/f%05d", i/100, i), Mode: 0o644, Size: size})
		if _, err := w.Write(content); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	stream := buf.Bytes()
	base := b.TempDir()
	b.SetBytes(files * size)
	b.ResetTimer()
	for i := range b.N {
		x, err := New(base, fmt.Sprint(i), "top", Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := x.Stream(context.Background(), bytes.NewReader(stream)); err != nil {
			b.Fatal(err)
		}
		if err := x.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOneFile writes the same bytes as BenchmarkExtract10k to one file
// and syncs it: the ratio of the two is what extraction costs per file.
func BenchmarkOneFile(b *testing.B) {
	const files, size = 10000, 100 << 10
	content := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	name := filepath.Join(b.TempDir(), "one")
	b.SetBytes(files * size)
	for b.Loop() {
		f, err := os.Create(name)
		if err != nil {
			b.Fatal(err)
		}
		for range files {
			if _, err := f.Write(content); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		b.StopTimer()
		os.Remove(name)
		b.StartTimer()
	}
}
