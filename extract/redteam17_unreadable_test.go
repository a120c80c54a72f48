//go:build linux

package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRedteam17PortableDirNotReadable: an archive holds a directory of
// mode 0300 (a drop box: its owner may add names and go in, not list it)
// with a file in it. On Linux the extraction succeeds: directories are
// walked through O_PATH handles, which need no read permission, and
// syncMeta is one syncfs. The portable code (macOS, FreeBSD; here with
// -tags ogive_portable) gives the directory its mode in Finish and only
// then, in syncMeta, opens every directory it made again, O_RDONLY, to
// fsync it: the open fails with EACCES, which syncMeta does not skip, so
// Finish fails ("sync the extracted directories: permission denied") and
// reports an extraction that wrote every file as failed. A directory of
// mode 0111, 0311 or 0000 does the same. It runs as nobody (root reads any
// directory): run as root, it re-runs itself as uid 65534.
//
//	go test -count=1 -tags ogive_portable -run Redteam17 ./extract
func TestRedteam17PortableDirNotReadable(t *testing.T) {
	if os.Geteuid() == 0 {
		if os.Getenv("REDTEAM17_CHILD") != "" {
			t.Fatal("still root")
		}
		runAsNobody(t, "TestRedteam17PortableDirNotReadable")
		return
	}
	s := craft(t, dir("top/"), entry{typ: tar.TypeDir, name: "top/box/", mode: 0o300}, file("top/box/f", "data\n"))
	parent, err := os.MkdirTemp("", "redteam17-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		os.Chmod(filepath.Join(parent, "out", "box"), 0o700)
		os.RemoveAll(parent)
	}()
	x, err := New(parent, "out", "top", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	if err := x.Stream(context.Background(), bytes.NewReader(s)); err != nil {
		t.Fatal(err)
	}
	if err := x.Finish(); err != nil {
		t.Fatalf("Finish: %v (every file was extracted; Linux succeeds)", err)
	}
}

// runAsNobody runs the test name of this test binary again as uid 65534,
// from a copy nobody can reach, and fails with what it printed if it fails.
func runAsNobody(t *testing.T, name string) {
	t.Helper()
	d, err := os.MkdirTemp("", "redteam17-bin-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(d)
	os.Chmod(d, 0o755)
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(d, "test.bin")
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(dst, src)
	src.Close()
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	c.Dir = os.TempDir()
	c.Env = append(os.Environ(), "REDTEAM17_CHILD=1", "HOME=/nonexistent")
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}
