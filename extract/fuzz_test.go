//go:build unix

package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzExtract: no byte sequence makes the extraction panic, write anything
// outside its destination, or leave a temporary behind.
func FuzzExtract(f *testing.F) {
	f.Add(craft(f, dir("top/"), file("top/a", "a"), symlink("top/l", ".."), file("top/l/x", "x")), false)
	f.Add(craft(f, dir("top/"), symlink("top/l", "/tmp"), hardlink("top/h", "../x")), true)
	f.Add(craft(f, dir("top/"), dir("top/d/"), file("top/d/f", "f"), hardlink("top/h", "top/d/f"), file("top/h", "again")), true)
	f.Add(craft(f, dir("top/"), file("../x", "x"), file("/x", "x")), false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, force bool) {
		base := t.TempDir()
		canary := filepath.Join(base, "canary")
		if err := os.Mkdir(canary, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(canary, "x"), []byte("canary"), 0o644); err != nil {
			t.Fatal(err)
		}
		before := listing(t, base)
		x, err := New(base, "dest", "top", Options{Force: force})
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Stream(context.Background(), bytes.NewReader(data)); err == nil {
			_ = x.Finish() // refused or not, nothing may land outside
		}
		x.Abort()
		// Directories left unreadable would stop the listing and the cleanup.
		filepath.WalkDir(filepath.Join(base, "dest"), func(p string, d os.DirEntry, err error) error {
			if d != nil && d.IsDir() {
				os.Chmod(p, 0o700)
			}
			return nil
		})
		os.Chmod(filepath.Join(base, "dest"), 0o700)
		assertNoTemps(t, base)
		os.RemoveAll(filepath.Join(base, "dest"))
		if after := listing(t, base); !slices.Equal(before, after) {
			t.Fatalf("outside the destination: %q, was %q", after, before)
		}
	})
}
