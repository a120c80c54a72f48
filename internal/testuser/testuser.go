// Package testuser serves tests that play another local user (nobody): it
// makes a directory that user can reach, and copies an executable there for
// it to run. Tests import it; ogive does not.
package testuser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Nobody is the user and group ID tests run other users' processes as.
const Nobody = 65534

// ReachableDir returns a new directory, mode 0755, that every user can
// reach: t.TempDir's own 0700 directories are opened to 0755. When a
// directory above them is closed to others, the test is skipped, or fails
// under CI, which must run it (TMPDIR then needs to be one others can
// traverse).
func ReachableDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		switch {
		case err != nil:
			t.Fatal(err)
		case strings.HasPrefix(d, filepath.Dir(dir)):
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		case st.Mode().Perm()&0o001 == 0:
			if os.Getenv("CI") != "" {
				t.Fatalf("CI must run this test, but other users cannot reach %s: set TMPDIR to a directory they can traverse", d)
			}
			t.Skipf("other users cannot reach %s", d)
		}
	}
	return dir
}

// CopyExecutable copies the file src to dir/name, mode 0755, and returns
// the copy's path.
func CopyExecutable(t testing.TB, src, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Self is the running test binary, copied where every user can run it when
// the test is root, who can become them; else the binary itself.
func Self(t testing.TB, name string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		return self
	}
	return CopyExecutable(t, self, ReachableDir(t), name)
}
