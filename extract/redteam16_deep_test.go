//go:build unix

package extract_test

import (
	"archive/tar"
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/extract"
)

// deepStream is a stream of the top directory and one file depth
// directories down, none of which has an entry of its own.
func deepStream(tb testing.TB, depth int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "top/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "top/" + strings.Repeat("a/", depth) + "f", Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX})
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// deepMallocs extracts deepStream(depth) and counts the allocations made.
func deepMallocs(t *testing.T, depth int) uint64 {
	t.Helper()
	s := deepStream(t, depth)
	x, err := extract.New(t.TempDir(), "out", "top", extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = x.Stream(context.Background(), bytes.NewReader(s))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return after.Mallocs - before.Mallocs
}

// TestRedteam16DeepPathQuadratic: the work of extracting a path grows with
// the square of its depth: ensureDir makes (or checks) each directory on
// the way with a call through the os.Root that walks every component from
// the destination again (Lstat, then Mkdir). A crafted stream of 10 KiB (one
// entry 4,000 directories deep, in a pax path record) keeps "ogive get"
// busy for a minute on this machine; a pax path of 1 MiB (archive/tar's
// limit), days; an index path of 65,535 bytes, about an hour. Doubling the
// depth should about double the work, not quadruple it. (Counted in
// allocations, which follow the component walks, so as not to time
// anything.)
func TestRedteam16DeepPathQuadratic(t *testing.T) {
	a, b := deepMallocs(t, 200), deepMallocs(t, 400)
	t.Logf("allocations: depth 200: %d, depth 400: %d (×%.1f)", a, b, float64(b)/float64(a))
	if b > 3*a {
		t.Errorf("twice as deep took %.1f times the allocations (%d → %d): the extraction is quadratic in a path's depth", float64(b)/float64(a), a, b)
	}
}

// BenchmarkRedteam16Deep extracts one file 1,000 directories down: compare
// with -bench at other depths (the time grows with the square).
func BenchmarkRedteam16Deep(b *testing.B) {
	s := deepStream(b, 1000)
	for b.Loop() {
		x, err := extract.New(b.TempDir(), "out", "top", extract.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := x.Stream(context.Background(), bytes.NewReader(s)); err != nil {
			b.Fatal(err)
		}
		x.Abort()
	}
}
