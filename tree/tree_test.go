//go:build unix

package tree

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeTree builds a tree with what a directory archive must keep: nested
// directories, an empty one, small files and one over a few blocks, a
// relative symlink, a hard link, a Unicode name, a 0600 file with an old
// time, a FIFO and a socket (skipped).
func makeTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "photos")
	mk := func(rel string, data []byte, mode os.FileMode) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 3*block+17)
	for i := range big {
		big[i] = byte(rand.N(256))
	}
	mk("a/b/c/one.txt", []byte("one\n"), 0o644)
	mk("a/b/c/two.txt", []byte("two\n"), 0o644)
	mk("a/big.bin", big, 0o644)
	mk("été/ñ.txt", []byte("unicode\n"), 0o644)
	mk("secret.txt", []byte("mine\n"), 0o600)
	old := time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "secret.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b/c/one.txt", filepath.Join(root, "a", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "a", "big.bin"), filepath.Join(root, "z-hard.bin")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(root, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return root
}

// stream reads the whole stream sequentially.
func stream(t *testing.T, tr *Tree) []byte {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(tr, 0, tr.Size()))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != tr.Size() {
		t.Fatalf("stream of %d bytes, Size %d", len(b), tr.Size())
	}
	return b
}

// TestStreamIsTheTree: the stream is a tar that archive/tar reads back
// entry by entry, with every kind, mode, time and link, sizes as walked, and
// the special files skipped and named.
func TestStreamIsTheTree(t *testing.T) {
	root := makeTree(t)
	tr, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tr.Skipped, " "); got != "photos/fifo photos/sock" {
		t.Errorf("skipped %q", got)
	}
	r := tar.NewReader(bytes.NewReader(stream(t, tr)))
	var names []string
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		body, _ := io.ReadAll(r)
		switch h.Name {
		case "photos/a/link":
			if h.Typeflag != tar.TypeSymlink || h.Linkname != "b/c/one.txt" {
				t.Errorf("symlink %+v", h)
			}
		case "photos/z-hard.bin":
			if h.Typeflag != tar.TypeLink || h.Linkname != "photos/a/big.bin" {
				t.Errorf("hard link %+v", h)
			}
		case "photos/secret.txt":
			if h.Mode != 0o600 || !h.ModTime.Equal(time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)) || string(body) != "mine\n" {
				t.Errorf("secret.txt: mode %o time %v body %q", h.Mode, h.ModTime, body)
			}
		case "photos/empty/":
			if h.Typeflag != tar.TypeDir || h.Mode != 0o700 {
				t.Errorf("empty dir %+v", h)
			}
		case "photos/a/big.bin":
			want, _ := os.ReadFile(filepath.Join(root, "a", "big.bin"))
			if !bytes.Equal(body, want) {
				t.Error("big.bin's content differs")
			}
		}
		if h.Uid != os.Getuid() {
			t.Errorf("%s: uid %d", h.Name, h.Uid)
		}
	}
	want := "photos/ photos/a/ photos/a/b/ photos/a/b/c/ photos/a/b/c/one.txt photos/a/b/c/two.txt photos/a/big.bin photos/a/link photos/empty/ photos/secret.txt photos/z-hard.bin photos/été/ photos/été/ñ.txt"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries\n%s\nwant\n%s", got, want)
	}
}

// TestGNUTarReadsIt: GNU tar lists and extracts the stream, and finds the
// files as they were.
func TestGNUTarReadsIt(t *testing.T) {
	gnutar, err := exec.LookPath("tar")
	if err != nil {
		t.Fatal("GNU tar is needed: apt-get install tar") // never skipped
	}
	root := makeTree(t)
	tr, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "photos.tar")
	if err := os.WriteFile(file, stream(t, tr), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o700)
	if b, err := exec.Command(gnutar, "-x", "-f", file, "-C", out).CombinedOutput(); err != nil {
		t.Fatalf("tar x: %v: %s", err, b)
	}
	for _, rel := range []string{"a/b/c/one.txt", "a/big.bin", "été/ñ.txt", "secret.txt", "z-hard.bin"} {
		want, _ := os.ReadFile(filepath.Join(root, rel))
		got, err := os.ReadFile(filepath.Join(out, "photos", rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v", rel, err)
		}
	}
	if target, err := os.Readlink(filepath.Join(out, "photos", "a", "link")); err != nil || target != "b/c/one.txt" {
		t.Errorf("symlink: %q, %v", target, err)
	}
	a, _ := os.Stat(filepath.Join(out, "photos", "a", "big.bin"))
	b, _ := os.Stat(filepath.Join(out, "photos", "z-hard.bin"))
	if !os.SameFile(a, b) {
		t.Error("the hard link came back as a copy")
	}
	st, _ := os.Stat(filepath.Join(out, "photos", "secret.txt"))
	if st.Mode().Perm() != 0o600 || st.ModTime().Unix() != time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC).Unix() {
		t.Errorf("secret.txt: %v %v", st.Mode(), st.ModTime())
	}
	if st, err := os.Stat(filepath.Join(out, "photos", "empty")); err != nil || !st.IsDir() {
		t.Errorf("empty dir: %v", err)
	}
}

// TestDeterministic: two walks of the same tree give the same bytes and
// the same digest; a file touched gives another digest.
func TestDeterministic(t *testing.T) {
	root := makeTree(t)
	a, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stream(t, a), stream(t, b)) || a.Digest() != b.Digest() {
		t.Fatal("two walks of one tree differ")
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(root, "a", "b", "c", "two.txt"), later, later)
	c, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest() == a.Digest() {
		t.Fatal("a touched file leaves the digest as it was")
	}
}

// TestReadAtAnyOffset: any range of the stream, read on its own, is the
// same bytes as in the whole stream: a part can be made again alone.
func TestReadAtAnyOffset(t *testing.T) {
	root := makeTree(t)
	tr, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	whole := stream(t, tr)
	for range 500 {
		off := rand.N(tr.Size())
		n := rand.N(min(tr.Size()-off, 3000)) + 1
		got := make([]byte, n)
		m, err := tr.ReadAt(got, off)
		if err != nil && !(err == io.EOF && off+int64(m) == tr.Size()) {
			t.Fatalf("ReadAt(%d, %d): %v", n, off, err)
		}
		if !bytes.Equal(got[:m], whole[off:off+int64(m)]) || int64(m) != n {
			t.Fatalf("ReadAt(%d bytes at %d) differs from the stream", n, off)
		}
	}
	if _, err := tr.ReadAt(make([]byte, 1), tr.Size()); err != io.EOF {
		t.Fatalf("ReadAt past the end: %v", err)
	}
}

// TestChangedFileFails: a file that grows, is rewritten under the same
// size, is replaced by a symlink, or vanishes, fails the read with
// ErrChanged and its name.
func TestChangedFileFails(t *testing.T) {
	for _, change := range []struct {
		name string
		do   func(p string)
	}{
		{"grows", func(p string) { f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0); f.Write([]byte("more")); f.Close() }},
		{"same size, new time", func(p string) {
			os.WriteFile(p, []byte("TWO\n"), 0o644)
			later := time.Now().Add(time.Minute)
			os.Chtimes(p, later, later)
		}},
		{"same size, time put back", func(p string) {
			// Rewritten in place with its size and time kept: only its
			// change time shows it.
			st, _ := os.Stat(p)
			time.Sleep(20 * time.Millisecond) // past the file system's clock tick
			os.WriteFile(p, []byte("TWO\n"), 0o644)
			os.Chtimes(p, st.ModTime(), st.ModTime())
		}},
		{"replaced by a symlink", func(p string) { os.Remove(p); os.Symlink("/etc/passwd", p) }},
		{"vanishes", func(p string) { os.Remove(p) }},
	} {
		root := makeTree(t)
		tr, err := Walk(root)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, "a", "b", "c", "two.txt")
		change.do(p)
		_, err = io.ReadAll(io.NewSectionReader(tr, 0, tr.Size()))
		if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "two.txt") {
			t.Errorf("%s: %v, want ErrChanged naming two.txt", change.name, err)
		}
	}
}

// TestWalkRefusesNonDirectory: a file, or a symlink to a directory, is not
// walked.
func TestWalkRefusesNonDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o600)
	os.Symlink(dir, filepath.Join(dir, "l"))
	for _, p := range []string{filepath.Join(dir, "f"), filepath.Join(dir, "l")} {
		if _, err := Walk(p); err == nil {
			t.Errorf("Walk(%s) succeeded", p)
		}
	}
}

// TestStreamVector pins the stream's bytes for fixed entries (a directory,
// an empty file with a sub-second time, a symlink, a hard link, a name past
// ustar's 100 bytes), so that a change of dialect shows: the same tree must
// always give the same bytes, or a resumed upload would mix two streams.
func TestStreamVector(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 123456789, time.UTC)
	long := "photos/" + strings.Repeat("long-name-", 11) + "x.txt"
	tr := &Tree{Root: "photos", Entries: []Entry{
		{Path: "photos", Kind: Dir, Mode: 0o755, MTime: at, Uid: 1000, Gid: 1000, Uname: "me", Gname: "me"},
		{Path: "photos/empty.txt", Kind: File, Mode: 0o640, MTime: at, Uid: 1000, Gid: 1000, Uname: "me", Gname: "me"},
		{Path: "photos/link", Kind: Symlink, Link: "empty.txt", Mode: 0o777, MTime: at.Truncate(time.Second), Uid: 1000, Gid: 1000},
		{Path: "photos/again.txt", Kind: Hardlink, Link: "photos/empty.txt", Mode: 0o4755, MTime: at.Truncate(time.Second)},
		{Path: long, Kind: File, Mode: 0o600, MTime: at.Truncate(time.Second)},
	}}
	if err := tr.layout(); err != nil {
		t.Fatal(err)
	}
	b := stream(t, tr)
	sum := sha256.Sum256(b)
	const want = "9305d0b1b68c46a295753eb4527d49c4bfa399ef958917b7515090de8d2c6580"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("stream of %d bytes has SHA-256 %s, want %s", len(b), got, want)
	}
	r := tar.NewReader(bytes.NewReader(b))
	for _, e := range tr.Entries {
		h, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSuffix(h.Name, "/") != e.Path || !h.ModTime.Equal(e.MTime) {
			t.Errorf("entry %q at %v, want %q at %v", h.Name, h.ModTime, e.Path, e.MTime)
		}
	}
}

// TestHashFiles: each file's sum is the SHA-256 of its content, and a file
// written to since the walk fails, naming it, even with its size and time put
// back.
func TestHashFiles(t *testing.T) {
	root := makeTree(t)
	tr, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	var read int64
	sums, err := tr.HashFiles(t.Context(), func(n int64) { read += n })
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for i, e := range tr.Entries {
		if e.Kind != File {
			if sums[i] != ([32]byte{}) {
				t.Errorf("%s: a sum for a %v", e.Path, e.Kind)
			}
			continue
		}
		want += e.Size
		data, err := os.ReadFile(tr.src(&e))
		if err != nil {
			t.Fatal(err)
		}
		if sums[i] != sha256.Sum256(data) {
			t.Errorf("%s: sum %x", e.Path, sums[i])
		}
	}
	if read != want {
		t.Errorf("read %d bytes, want %d", read, want)
	}
	p := filepath.Join(root, "a", "b", "c", "two.txt")
	st, _ := os.Stat(p)
	time.Sleep(20 * time.Millisecond)
	os.WriteFile(p, []byte("TWO\n"), 0o644)
	os.Chtimes(p, st.ModTime(), st.ModTime())
	if _, err := tr.HashFiles(t.Context(), nil); !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "two.txt") {
		t.Errorf("rewritten in place: %v, want ErrChanged naming two.txt", err)
	}
}
