package tree_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ogive-project/ogive/tree"
)

// benchTree is 2,000 small files in 100 directories five levels deep.
func benchTree(b *testing.B) string {
	b.Helper()
	root := filepath.Join(b.TempDir(), "bench")
	for d := range 100 {
		dir := filepath.Join(root, fmt.Sprint(d%5), fmt.Sprint(d%7), fmt.Sprint(d%3), fmt.Sprint(d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 20 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", f)), []byte("some content\n"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	return root
}

func BenchmarkWalk(b *testing.B) {
	root := benchTree(b)
	for b.Loop() {
		if _, err := tree.Walk(root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashFiles opens and reads every file again, as a put does.
func BenchmarkHashFiles(b *testing.B) {
	tr, err := tree.Walk(benchTree(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tr.HashFiles(b.Context(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
