//go:build unix

package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// openFDs counts the descriptors the process holds (Linux).
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}

// TestDeepTreeDescriptors: a chain of directories deeper than the levels
// kept open, with a file in each written on the way back up (so each level
// closed on the way down is opened again through ".."), holds a bounded
// number of descriptors, and every file and directory ends as the stream
// says.
func TestDeepTreeDescriptors(t *testing.T) {
	const depth = 4 * maxOpenLevels
	var entries []entry
	p := "top/"
	entries = append(entries, entry{typ: tar.TypeDir, name: p, mode: 0o750})
	for range depth {
		p += "d/"
		entries = append(entries, entry{typ: tar.TypeDir, name: p, mode: 0o750})
	}
	for k := depth; k >= 0; k-- {
		entries = append(entries, file("top/"+strings.Repeat("d/", k)+"f", "x"))
	}
	base := t.TempDir()
	before := openFDs(t)
	x, err := New(base, "dest", "top", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	s := craft(t, entries...)
	tr := tar.NewReader(bytes.NewReader(s))
	most := 0
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if err := x.Entry(h, tr); err != nil {
			t.Fatal(err)
		}
		most = max(most, openFDs(t)-before)
	}
	if err := x.Finish(); err != nil {
		t.Fatal(err)
	}
	// The destination's, the levels kept open, the pool's temporaries.
	if limit := maxOpenLevels + 4 + 16; most > limit {
		t.Errorf("%d descriptors open at most, want at most %d", most, limit)
	}
	d := filepath.Join(base, "dest")
	for k := 0; k <= depth; k++ {
		if b, err := os.ReadFile(filepath.Join(d, "f")); err != nil || string(b) != "x" {
			t.Fatalf("level %d: %q, %v", k, b, err)
		}
		if fi, err := os.Lstat(d); err != nil || fi.Mode() != os.ModeDir|0o750 {
			t.Fatalf("level %d: %v, %v", k, fi.Mode(), err)
		}
		d = filepath.Join(d, "d")
	}
	assertNoTemps(t, base)
}

// TestSwappedDirectory: a directory the extraction made, swapped for
// another between two of its entries, is not written into.
func TestSwappedDirectory(t *testing.T) {
	base := t.TempDir()
	dest := filepath.Join(base, "dest")
	x, err := New(base, "dest", "top", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	put := func(e entry) error {
		tr := tar.NewReader(bytes.NewReader(craft(t, e)))
		h, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		return x.Entry(h, tr)
	}
	for _, e := range []entry{dir("top/"), dir("top/a/"), file("top/a/f1", "1"), dir("top/b/"), file("top/b/f", "b")} {
		if err := put(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(filepath.Join(dest, "a"), filepath.Join(base, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dest, "a"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := put(file("top/a/f2", "2")); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("got %v, want ErrUnsafePath", err)
	}
	x.Abort()
	if l := listing(t, filepath.Join(dest, "a")); len(l) != 1 {
		t.Errorf("written into the directory swapped in: %q", l)
	}
	// (f1's temporary stays in the directory moved away: no longer the
	// destination's, it is not gone into.)
	assertNoTemps(t, dest)
}

// TestMismatchStopsPool: a file that fails its check, small (written by
// the pool) or large (written by the stream's goroutine), stops the
// extraction: nothing after it is given a name, nothing is left behind.
func TestMismatchStopsPool(t *testing.T) {
	for _, size := range []int{10, smallFile + 1} {
		evil := strings.Repeat("e", size)
		good := sha256.Sum256([]byte("good"))
		entries := []entry{dir("top/")}
		for i := range 200 {
			name := "top/" + strings.Repeat("f", 1+i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))
			if i == 20 {
				entries = append(entries, file(name, evil))
			} else {
				entries = append(entries, file(name, "good"))
			}
		}
		base := t.TempDir()
		x, err := New(base, "dest", "top", Options{Expect: func(string) ([32]byte, bool) { return good, true }})
		if err != nil {
			t.Fatal(err)
		}
		err = x.Stream(context.Background(), bytes.NewReader(craft(t, entries...)))
		if err == nil {
			err = x.Finish()
		}
		x.Abort()
		if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), entries[21].name) {
			t.Errorf("size %d: got %v, want ErrMismatch of %s", size, err, entries[21].name)
		}
		if l := listing(t, filepath.Join(base, "dest")); len(l) != 1 {
			t.Errorf("size %d: left %d entries", size, len(l))
		}
		assertNoTemps(t, base)
	}
}

// TestManyEmptyFiles: empty files, more than the pool has buffers, all get
// their names (each takes a buffer of the pool and gives it back).
func TestManyEmptyFiles(t *testing.T) {
	entries := []entry{dir("top/")}
	for i := range 100 {
		entries = append(entries, file("top/e"+strings.Repeat("x", i), ""))
	}
	base := t.TempDir()
	st, err := extract(t, base, "dest", "top", Options{}, bytes.NewReader(craft(t, entries...)))
	if err != nil || st.Files != 100 {
		t.Fatalf("%+v, %v", st, err)
	}
}

// TestLinkNoReplace: where renameat2 cannot refuse to replace, the
// temporary gets a free name, and never a taken one.
func TestLinkNoReplace(t *testing.T) {
	d := t.TempDir()
	for _, n := range []string{"tmp1", "tmp2", "taken"} {
		if err := os.WriteFile(filepath.Join(d, n), []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(d)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pfd := int(f.Fd())
	if err := linkNoReplace(pfd, "tmp1", "free"); err != nil {
		t.Fatal(err)
	}
	if err := linkNoReplace(pfd, "tmp2", "taken"); !errors.Is(err, os.ErrExist) {
		t.Fatalf("got %v, want EEXIST", err)
	}
	want := []string{"free=tmp1", "taken=taken", "tmp2=tmp2"}
	if l := listing(t, d); !slices.Equal(l[1:], want) {
		t.Errorf("got %q, want %q", l, want)
	}
}

// TestFinishSwappedDir: a directory the extraction made, replaced before
// Finish by a link to a file of the user's, gets its mode and time
// through no link: the file keeps its own, and a Notice says so.
func TestFinishSwappedDir(t *testing.T) {
	base := t.TempDir()
	dest := filepath.Join(base, "dest")
	mine := filepath.Join(base, "mine.txt")
	if err := os.WriteFile(mine, []byte("private\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1234567890, 0)
	os.Chtimes(mine, old, old)
	var notices []string
	x, err := New(base, "dest", "top", Options{Notice: func(s string) { notices = append(notices, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	if err := x.Stream(context.Background(), bytes.NewReader(craft(t, dir("top/"), entry{typ: tar.TypeDir, name: "top/made/", mode: 0o777}))); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dest, "made"), filepath.Join(dest, "away")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../mine.txt", filepath.Join(dest, "made")); err != nil {
		t.Fatal(err)
	}
	if err := x.Finish(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(mine)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(old) {
		t.Errorf("mine.txt is now %v, %v", fi.Mode(), fi.ModTime())
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "top/made") {
		t.Errorf("notices %q", notices)
	}
}

// TestSparseRefused: every form of GNU sparse file is refused before any
// of its content is read.
func TestSparseRefused(t *testing.T) {
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeGNUSparse, Name: "top/old", Size: 1},
		{Typeflag: tar.TypeReg, Name: "top/pax00", Size: 1, PAXRecords: map[string]string{"GNU.sparse.offset": "0", "GNU.sparse.numbytes": "1"}},
		{Typeflag: tar.TypeReg, Name: "top/pax10", Size: 1, PAXRecords: map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0"}},
	} {
		base := t.TempDir()
		x, err := New(base, "dest", "top", Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := strings.NewReader("x")
		if err := x.Entry(h, r); !errors.Is(err, ErrUnsafePath) || r.Len() != 1 {
			t.Errorf("%s: got %v, %d bytes read", h.Name, err, 1-r.Len())
		}
		x.Abort()
	}
}
