//go:build unix

package archive

import (
	"os"
	"path/filepath"
	"testing"
)

// childBinary copies the test binary where other users can run it, and
// returns the directory it is in, which they can reach too.
func childBinary(t *testing.T) (root, bin string) {
	t.Helper()
	root = t.TempDir()
	for p := root; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		must(t, os.Chmod(p, 0o755))
	}
	self, err := os.Executable()
	must(t, err)
	b, err := os.ReadFile(self)
	must(t, err)
	bin = filepath.Join(root, "archive.test")
	must(t, os.WriteFile(bin, b, 0o755))
	return root, bin
}
