//go:build unix

package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ogive-project/ogive/tree"
)

// testUmask is the umask every test runs under, so that the modes expected
// are known.
const testUmask = 0o022

func TestMain(m *testing.M) {
	syscall.Umask(testUmask)
	// Where the umask cannot be read without setting it (processUmask),
	// the extraction uses the one the process started with.
	startUmask = testUmask
	os.Exit(m.Run())
}

// makeTree builds a tree with what a directory archive must bring back.
func makeTree(t testing.TB) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "photos")
	mk := func(rel string, data []byte, mode os.FileMode) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 5<<20+17)
	for i := range big {
		big[i] = byte(rand.N(256))
	}
	mk("a/b/c/one.txt", []byte("one\n"), 0o644)
	mk("a/b/c/two.sh", []byte("#!/bin/sh\n"), 0o755)
	mk("a/big.bin", big, 0o640)
	mk("été/ñ.txt", []byte("unicode\n"), 0o666)
	mk("secret.txt", []byte("mine\n"), 0o600)
	mk("empty-file", nil, 0o644)
	old := time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "secret.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "a", "b"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b/c/one.txt", filepath.Join(root, "a", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "a", "big.bin"), filepath.Join(root, "z-hard.bin")); err != nil {
		t.Fatal(err)
	}
	// Directory times last, deepest first, once nothing changes in them.
	for _, d := range []string{"a/b/c", "a/b", "a", "empty", "été", "."} {
		tm := time.Date(2010, 1, 2, 3, 4, 5, 6, time.UTC).Add(time.Duration(len(d)) * time.Hour)
		if err := os.Chtimes(filepath.Join(root, d), tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// walkStream is the stream package tree makes of root.
func walkStream(t testing.TB, root string) io.Reader {
	t.Helper()
	tr, err := tree.Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	return io.NewSectionReader(tr, 0, tr.Size())
}

// extract runs a whole extraction of r into parent/name, and Abort on
// failure, as a caller must.
func extract(t testing.TB, parent, name, top string, o Options, r io.Reader) (Stats, error) {
	t.Helper()
	x, err := New(parent, name, top, o)
	if err != nil {
		return Stats{}, err
	}
	if err := x.Stream(context.Background(), r); err != nil {
		x.Abort()
		return x.Stats(), err
	}
	if err := x.Finish(); err != nil {
		x.Abort()
		return x.Stats(), err
	}
	return x.Stats(), nil
}

type node struct {
	kind  string
	mode  fs.FileMode
	mtime time.Time
	data  string // content or link target
	nlink uint64
}

// snapshot describes every entry under root.
func snapshot(t testing.TB, root string) map[string]node {
	t.Helper()
	m := map[string]node{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n := node{mode: fi.Mode(), mtime: fi.ModTime(), nlink: uint64(fi.Sys().(*syscall.Stat_t).Nlink)}
		switch {
		case fi.IsDir():
			n.kind, n.nlink = "dir", 0
		case fi.Mode()&fs.ModeSymlink != 0:
			n.kind, n.mode = "symlink", 0
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			n.data = l
		default:
			n.kind = "file"
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.data = string(b)
		}
		m[rel] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	src := makeTree(t)
	if err := os.Chmod(filepath.Join(src, "a", "b", "c", "two.sh"), 0o4755); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, src)
	parent := t.TempDir()
	st, err := extract(t, parent, "restored", "photos", Options{}, walkStream(t, src))
	if err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, filepath.Join(parent, "restored"))
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: missing", p)
			continue
		}
		// setuid is recorded but never applied; the rest less the umask.
		w.mode = w.mode &^ (fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky) &^ testUmask
		if g.kind != w.kind || g.mode != w.mode || g.data != w.data || g.nlink != w.nlink {
			t.Errorf("%s: got %s %v nlink %d %.20q, want %s %v nlink %d %.20q", p, g.kind, g.mode, g.nlink, g.data, w.kind, w.mode, w.nlink, w.data)
		}
		if !g.mtime.Equal(w.mtime) {
			t.Errorf("%s: mtime %v, want %v", p, g.mtime, w.mtime)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: extra", p)
		}
	}
	// The two names of the hard link are one file.
	a, _ := os.Stat(filepath.Join(parent, "restored", "a", "big.bin"))
	b, _ := os.Stat(filepath.Join(parent, "restored", "z-hard.bin"))
	if !os.SameFile(a, b) {
		t.Error("the hard link is a copy")
	}
	if st != (Stats{Files: 6, Dirs: 6, Links: 2, Bytes: int64(len(want["a/big.bin"].data) + 4 + 10 + 8 + 5)}) {
		t.Errorf("stats %+v", st)
	}
	assertNoTemps(t, parent)
}

// assertNoTemps fails if a temporary is left anywhere under dir.
func assertNoTemps(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tempPrefix) {
			t.Errorf("temporary left: %s", p)
		}
		return nil
	})
}

// entry is one member of a crafted tar.
type entry struct {
	typ  byte
	name string
	link string
	data string
	mode int64
}

func file(name, data string) entry     { return entry{typ: tar.TypeReg, name: name, data: data} }
func dir(name string) entry            { return entry{typ: tar.TypeDir, name: name} }
func symlink(name, link string) entry  { return entry{typ: tar.TypeSymlink, name: name, link: link} }
func hardlink(name, link string) entry { return entry{typ: tar.TypeLink, name: name, link: link} }

// craft writes entries as a tar stream, as an attacker would.
func craft(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Typeflag: e.typ, Name: e.name, Linkname: e.link, Size: int64(len(e.data)), Mode: e.mode, ModTime: time.Unix(1e9, 0), Format: tar.FormatPAX}
		if h.Mode == 0 {
			h.Mode = 0o644
			if e.typ == tar.TypeDir {
				h.Mode = 0o755 // a user who is not root can go in
			}
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// listing is every path under dir, with what each file holds.
func listing(t testing.TB, dir string) []string {
	t.Helper()
	var l []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		s := rel
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			s += "=" + string(b)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			s += "->" + l
		}
		l = append(l, s)
		return nil
	})
	return l
}

func TestRefused(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside") // what an escape would reach
	for _, c := range []struct {
		name    string
		entries []entry
		want    error
		force   bool
	}{
		{"dotdot", []entry{dir("top/"), file("../x", "evil")}, ErrUnsafePath, false},
		{"absolute", []entry{dir("top/"), file(filepath.Join(outside, "x"), "evil")}, ErrUnsafePath, false},
		{"top-dotdot", []entry{dir("top/"), file("top/../../x", "evil")}, ErrUnsafePath, false},
		{"dot", []entry{dir("top/"), file("top/./x", "evil")}, ErrUnsafePath, false},
		{"empty component", []entry{dir("top/"), file("top//x", "evil")}, ErrUnsafePath, false},
		{"other top", []entry{dir("top/"), file("other/x", "evil")}, ErrUnsafePath, false},
		{"bare dotdot", []entry{dir("top/"), dir("top/..")}, ErrUnsafePath, false},
		{"through absolute symlink", []entry{dir("top/"), symlink("top/l", outside), file("top/l/x", "evil")}, ErrUnsafePath, true},
		{"through /tmp symlink", []entry{dir("top/"), symlink("top/l", "/tmp"), file("top/l/ogive-extract-test-escape", "evil")}, ErrUnsafePath, true},
		{"through dotdot symlink", []entry{dir("top/"), symlink("top/l", ".."), file("top/l/outside/x", "evil")}, ErrUnsafePath, true},
		{"dir through symlink", []entry{dir("top/"), symlink("top/l", ".."), dir("top/l/outside/d/")}, ErrUnsafePath, true},
		{"symlink through symlink", []entry{dir("top/"), symlink("top/l", ".."), symlink("top/l/outside/s", "/")}, ErrUnsafePath, true},
		{"hard link through symlink", []entry{dir("top/"), file("top/f", "x"), symlink("top/l", ".."), hardlink("top/l/outside/h", "top/f")}, ErrUnsafePath, true},
		{"symlink then dir", []entry{dir("top/"), symlink("top/l", ".."), dir("top/l/")}, ErrUnsafePath, true},
		{"hard link to /etc/passwd", []entry{dir("top/"), hardlink("top/h", "/etc/passwd")}, ErrUnsafePath, false},
		{"hard link to dotdot", []entry{dir("top/"), hardlink("top/h", "../x")}, ErrUnsafePath, false},
		{"hard link to top/dotdot", []entry{dir("top/"), hardlink("top/h", "top/../outside/x")}, ErrUnsafePath, false},
		{"hard link to a later file", []entry{dir("top/"), hardlink("top/h", "top/f"), file("top/f", "x")}, ErrUnsafePath, false},
		{"hard link to a directory", []entry{dir("top/"), dir("top/d/"), hardlink("top/h", "top/d")}, ErrUnsafePath, false},
		{"hard link to a symlink", []entry{dir("top/"), symlink("top/s", "/etc/passwd"), hardlink("top/h", "top/s")}, ErrUnsafePath, false},
		{"hard link to itself", []entry{dir("top/"), hardlink("top/h", "top/h")}, ErrUnsafePath, false},
		{"file over a directory", []entry{dir("top/"), dir("top/d/"), file("top/d", "x")}, ErrUnsafePath, true},
		{"file over the top", []entry{dir("top/"), file("top", "x")}, ErrUnsafePath, true},
		{"duplicate file", []entry{dir("top/"), file("top/f", "one"), file("top/f", "two")}, ErrUnsafePath, true},
		{"duplicate dir", []entry{dir("top/"), dir("top/d/"), dir("top/d/")}, ErrUnsafePath, true},
		{"file then symlink", []entry{dir("top/"), file("top/f", "one"), symlink("top/f", "/")}, ErrUnsafePath, true},
		{"char device", []entry{dir("top/"), {typ: tar.TypeChar, name: "top/null"}}, ErrUnsafePath, false},
		{"fifo", []entry{dir("top/"), {typ: tar.TypeFifo, name: "top/fifo"}}, ErrUnsafePath, false},
		{"too long", []entry{dir("top/"), file("top/"+strings.Repeat("a/", 2048)+"x", "deep")}, ErrUnsafePath, false},
		{"through a file", []entry{dir("top/"), file("top/f", "one"), file("top/f/x", "two")}, ErrUnsafePath, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			if err := os.RemoveAll(outside); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			before := listing(t, base)
			_, err := extract(t, parent, "dest", "top", Options{Force: c.force}, bytes.NewReader(craft(t, c.entries...)))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			named := false
			for _, e := range c.entries[1:] {
				named = named || strings.Contains(err.Error(), strconv.Quote(e.name)) || len(e.name) > 64 && strings.Contains(err.Error(), e.name[:64])
			}
			if !named {
				t.Errorf("error does not name the entry: %v", err)
			}
			if after := listing(t, base); !slices.Equal(before, after) {
				t.Errorf("outside changed: %q, was %q", after, before)
			}
			if l := listing(t, parent); len(l) == 0 || l[0] != "." || len(l) > 1 && !strings.HasPrefix(l[1], "dest") {
				t.Errorf("parent holds %q", l)
			}
			if _, err := os.Lstat("/tmp/ogive-extract-test-escape"); err == nil {
				t.Error("written into /tmp")
			}
			assertNoTemps(t, parent)
		})
	}
}

// TestExisting: a name taken on disk is never replaced without Force; with
// it, a file or a link is, never what a link points to, never a directory.
func TestExisting(t *testing.T) {
	for _, force := range []bool{false, true} {
		for _, c := range []struct {
			name string
			prep func(t *testing.T, dest, outside string)
			e    entry
		}{
			{"file", func(t *testing.T, dest, outside string) {
				os.WriteFile(filepath.Join(dest, "f"), []byte("old"), 0o644)
			}, file("top/f", "new")},
			{"symlink out", func(t *testing.T, dest, outside string) {
				os.Symlink(filepath.Join(outside, "target"), filepath.Join(dest, "f"))
			}, file("top/f", "new")},
			{"dangling symlink out", func(t *testing.T, dest, outside string) {
				os.Symlink(filepath.Join(outside, "none"), filepath.Join(dest, "f"))
			}, file("top/f", "new")},
			{"symlink over symlink", func(t *testing.T, dest, outside string) {
				os.Symlink(filepath.Join(outside, "target"), filepath.Join(dest, "f"))
			}, symlink("top/f", "elsewhere")},
			{"hard link over symlink", func(t *testing.T, dest, outside string) {
				os.Symlink(filepath.Join(outside, "target"), filepath.Join(dest, "f"))
			}, hardlink("top/f", "top/g")},
		} {
			t.Run(c.name+map[bool]string{true: " force"}[force], func(t *testing.T) {
				base := t.TempDir()
				outside := filepath.Join(base, "outside")
				os.Mkdir(outside, 0o755)
				os.WriteFile(filepath.Join(outside, "target"), []byte("precious"), 0o644)
				dest := filepath.Join(base, "dest")
				os.Mkdir(dest, 0o755)
				c.prep(t, dest, outside)
				beforeOut := listing(t, outside)
				before := listing(t, dest)
				entries := []entry{dir("top/"), file("top/g", "new"), c.e}
				_, err := extract(t, base, "dest", "top", Options{Force: force}, bytes.NewReader(craft(t, entries...)))
				if got := listing(t, outside); !slices.Equal(got, beforeOut) {
					t.Errorf("outside changed: %q", got)
				}
				if !force {
					if !errors.Is(err, ErrExists) {
						t.Fatalf("got %v, want ErrExists", err)
					}
					if got := listing(t, dest); !slices.Equal(got, before) {
						t.Errorf("destination changed: %q, was %q", got, before)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				fi, err := os.Lstat(filepath.Join(dest, "f"))
				if err != nil {
					t.Fatal(err)
				}
				if c.e.typ == tar.TypeSymlink {
					if l, _ := os.Readlink(filepath.Join(dest, "f")); l != "elsewhere" {
						t.Errorf("link %q", l)
					}
				} else if !fi.Mode().IsRegular() {
					t.Errorf("f is %v", fi.Mode())
				} else if b, _ := os.ReadFile(filepath.Join(dest, "f")); string(b) != "new" {
					t.Errorf("f holds %q", b)
				}
				assertNoTemps(t, base)
			})
		}
	}
}

// TestDirectoryInTheWay: a directory on disk is never replaced by a file,
// not even with Force, and what it holds is kept.
func TestDirectoryInTheWay(t *testing.T) {
	for _, force := range []bool{false, true} {
		base := t.TempDir()
		dest := filepath.Join(base, "dest")
		os.MkdirAll(filepath.Join(dest, "d"), 0o755)
		os.WriteFile(filepath.Join(dest, "d", "keep"), []byte("keep"), 0o644)
		for _, e := range []entry{file("top/d", "x"), symlink("top/d", "/"), hardlink("top/d", "top/f")} {
			_, err := extract(t, base, "dest", "top", Options{Force: force}, bytes.NewReader(craft(t, dir("top/"), file("top/f", "f"), e)))
			if !errors.Is(err, ErrExists) {
				t.Errorf("force %v, %s: got %v, want ErrExists", force, e.name, err)
			}
			if b, err := os.ReadFile(filepath.Join(dest, "d", "keep")); err != nil || string(b) != "keep" {
				t.Errorf("directory's content lost: %q %v", b, err)
			}
			os.Remove(filepath.Join(dest, "f"))
		}
	}
}

// TestDestination: the destination itself is made, entered when it is a
// directory, and otherwise left alone without Force; a symlink there is
// never followed.
func TestDestination(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	os.Mkdir(outside, 0o755)
	stream := craft(t, dir("top/"), file("top/f", "new"))
	os.Symlink(outside, filepath.Join(base, "link"))
	if _, err := extract(t, base, "link", "top", Options{}, bytes.NewReader(stream)); !errors.Is(err, ErrExists) {
		t.Errorf("symlink destination: %v", err)
	}
	if _, err := extract(t, base, "link", "top", Options{Force: true}, bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	if l := listing(t, outside); len(l) != 1 {
		t.Errorf("written through the destination link: %q", l)
	}
	if b, _ := os.ReadFile(filepath.Join(base, "link", "f")); string(b) != "new" {
		t.Errorf("got %q", b)
	}
	// Into an existing directory, whose mode is left alone.
	os.Mkdir(filepath.Join(base, "existing"), 0o711)
	if _, err := extract(t, base, "existing", "top", Options{}, bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(base, "existing")); fi.Mode().Perm() != 0o711 {
		t.Errorf("existing directory's mode changed to %v", fi.Mode())
	}
	// A directory of someone else's, as in a shared /tmp.
	if os.Geteuid() == 0 {
		theirs := filepath.Join(base, "theirs")
		os.Mkdir(theirs, 0o777)
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		for _, force := range []bool{false, true} {
			if _, err := extract(t, base, "theirs", "top", Options{Force: force}, bytes.NewReader(stream)); !errors.Is(err, ErrUnsafePath) {
				t.Errorf("another user's directory: %v", err)
			}
		}
		if l := listing(t, theirs); len(l) != 1 {
			t.Errorf("written into another user's directory: %q", l)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b"} {
		if _, err := New(base, bad, "top", Options{}); err == nil {
			t.Errorf("destination %q accepted", bad)
		}
		if _, err := New(base, "x", bad, Options{}); err == nil {
			t.Errorf("top %q accepted", bad)
		}
	}
}

// TestDirectoryModes: directories are 0700 while the extraction runs and
// get their mode (less the umask) and time at Finish.
func TestDirectoryModes(t *testing.T) {
	base := t.TempDir()
	x, err := New(base, "dest", "top", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	r := bytes.NewReader(craft(t, entry{typ: tar.TypeDir, name: "top/", mode: 0o777}, entry{typ: tar.TypeDir, name: "top/ro/", mode: 0o555}, file("top/ro/f", "x")))
	if err := x.Stream(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"dest", "dest/ro"} {
		if fi, _ := os.Stat(filepath.Join(base, d)); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s is %v while extracting", d, fi.Mode())
		}
	}
	if err := x.Finish(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(base, "dest", "ro"), 0o700) })
	for d, want := range map[string]fs.FileMode{"dest": 0o755, "dest/ro": 0o555} {
		fi, _ := os.Stat(filepath.Join(base, d))
		if fi.Mode().Perm() != want {
			t.Errorf("%s is %v, want %v", d, fi.Mode().Perm(), want)
		}
		if !fi.ModTime().Equal(time.Unix(1e9, 0)) {
			t.Errorf("%s: time %v", d, fi.ModTime())
		}
	}
}

// TestNoDirectoryEntries: a stream of files alone (as a caller of Entry
// that fetches only some ranges may give) makes their directories with the
// usual mode.
func TestNoDirectoryEntries(t *testing.T) {
	base := t.TempDir()
	if _, err := extract(t, base, "dest", "top", Options{}, bytes.NewReader(craft(t, file("top/a/b/f", "x")))); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"dest", "dest/a", "dest/a/b"} {
		if fi, _ := os.Stat(filepath.Join(base, d)); fi.Mode().Perm() != 0o755 {
			t.Errorf("%s is %v", d, fi.Mode())
		}
	}
}

func TestExpect(t *testing.T) {
	good := sha256.Sum256([]byte("good"))
	expect := func(p string) ([32]byte, bool) { return good, p == "top/a" || p == "top/b" }
	base := t.TempDir()
	st, err := extract(t, base, "dest", "top", Options{Expect: expect}, bytes.NewReader(craft(t, dir("top/"), file("top/a", "good"), file("top/b", "evil"), file("top/c", "unknown"))))
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "top/b") {
		t.Fatalf("got %v, want ErrMismatch naming top/b", err)
	}
	if _, err := os.Lstat(filepath.Join(base, "dest", "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the mismatching file got its name: %v", err)
	}
	if st.Files != 0 {
		t.Errorf("stats %+v", st)
	}
	assertNoTemps(t, base)
	// The good file before it waited in the batch and was removed with it.
	if l := listing(t, filepath.Join(base, "dest")); len(l) != 1 {
		t.Errorf("left %q", l)
	}
}

// cancelReader cancels its context once it has given `after` bytes.
type cancelReader struct {
	r      io.Reader
	after  int
	cancel func()
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.after -= n; c.after <= 0 {
		c.cancel()
	}
	return n, err
}

func TestCancel(t *testing.T) {
	big := strings.Repeat("x", 8<<20)
	stream := craft(t, dir("top/"), file("top/a", "small"), file("top/b", big), file("top/c", "after"))
	for _, at := range []int{100, 3000, 4 << 20} {
		base := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		x, err := New(base, "dest", "top", Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = x.Stream(ctx, &cancelReader{r: bytes.NewReader(stream), after: at, cancel: cancel})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled at %d: got %v", at, err)
		}
		if err := x.Finish(); !errors.Is(err, context.Canceled) {
			t.Errorf("Finish after a failure: %v", err)
		}
		x.Abort()
		assertNoTemps(t, base)
		if l := listing(t, filepath.Join(base, "dest")); len(l) != 1 {
			t.Errorf("cancelled at %d: left %q", at, l)
		}
	}
}

func TestInclude(t *testing.T) {
	src := makeTree(t)
	base := t.TempDir()
	var notices []string
	include := func(rel string) bool {
		return strings.HasPrefix(rel, "a/b/c/") || rel == "empty" || rel == "z-hard.bin"
	}
	st, err := extract(t, base, "dest", "photos", Options{Include: include, Notice: func(s string) { notices = append(notices, s) }}, walkStream(t, src))
	if err != nil {
		t.Fatal(err)
	}
	got := listing(t, filepath.Join(base, "dest"))
	want := []string{".", "a", "a/b", "a/b/c", "a/b/c/one.txt=one\n", "a/b/c/two.sh=#!/bin/sh\n", "empty"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// a/b was made for what it holds; it still gets its own mode.
	if fi, _ := os.Stat(filepath.Join(base, "dest", "a", "b")); fi.Mode().Perm() != 0o700 {
		t.Errorf("a/b is %v", fi.Mode())
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "z-hard.bin") {
		t.Errorf("notices %q", notices)
	}
	if st.Files != 2 || st.Dirs != 5 {
		t.Errorf("stats %+v", st)
	}
}

// TestBatches: more files than a batch holds all get their names, and
// nothing is left behind.
func TestBatches(t *testing.T) {
	var entries []entry
	entries = append(entries, dir("top/"))
	for i := range batchFiles*2 + 3 {
		entries = append(entries, file("top/f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"-"+strconv.Itoa(i), strconv.Itoa(i)))
	}
	base := t.TempDir()
	st, err := extract(t, base, "dest", "top", Options{}, bytes.NewReader(craft(t, entries...)))
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != batchFiles*2+3 {
		t.Errorf("stats %+v", st)
	}
	if n := len(listing(t, filepath.Join(base, "dest"))); n != batchFiles*2+4 {
		t.Errorf("%d entries", n)
	}
	assertNoTemps(t, base)
}

// endless gives bytes forever, and cancels its context after `after` of
// them.
type endless struct {
	read, after int
	cancel      func()
}

func (e *endless) Read(p []byte) (int, error) {
	e.read += len(p)
	if e.read >= e.after {
		e.cancel()
	}
	return len(p), nil
}

// TestCancelWithinFile: a cancelled extraction stops in the middle of a
// file's content, not at its end.
func TestCancelWithinFile(t *testing.T) {
	base := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	x, err := New(base, "dest", "top", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	x.ctx = ctx
	r := &endless{after: 1 << 20, cancel: cancel}
	err = x.Entry(&tar.Header{Typeflag: tar.TypeReg, Name: "top/huge", Size: 1 << 40}, r)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "top/huge") {
		t.Fatalf("got %v", err)
	}
	if r.read > 4<<20 {
		t.Errorf("read %d bytes after the cancellation", r.read)
	}
	assertNoTemps(t, base)
}

// TestNoReplaceAtCommit: a name taken after a file was written, before the
// batch commits it, is still not replaced without Force.
func TestNoReplaceAtCommit(t *testing.T) {
	base := t.TempDir()
	x, err := New(base, "dest", "top", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	if err := x.Entry(&tar.Header{Typeflag: tar.TypeReg, Name: "top/f", Size: 3}, strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "dest", "f"), []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := x.Finish(); !errors.Is(err, ErrExists) {
		t.Fatalf("got %v, want ErrExists", err)
	}
	x.Abort()
	if b, _ := os.ReadFile(filepath.Join(base, "dest", "f")); string(b) != "theirs" {
		t.Errorf("replaced: %q", b)
	}
	assertNoTemps(t, base)
}

// TestDirectoryModesDeepestFirst: a directory without search permission
// gets it last, after everything in it got its own mode.
func TestDirectoryModesDeepestFirst(t *testing.T) {
	base := t.TempDir()
	var notices []string
	_, err := extract(t, base, "dest", "top", Options{Notice: func(s string) { notices = append(notices, s) }}, bytes.NewReader(craft(t,
		dir("top/"), entry{typ: tar.TypeDir, name: "top/nox/", mode: 0o600}, entry{typ: tar.TypeDir, name: "top/nox/sub/", mode: 0o750}, file("top/nox/sub/f", "x"))))
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) > 0 {
		t.Errorf("notices %q", notices)
	}
	nox := filepath.Join(base, "dest", "nox")
	if fi, _ := os.Stat(nox); fi.Mode().Perm() != 0o600 {
		t.Errorf("nox is %v", fi.Mode())
	}
	os.Chmod(nox, 0o700)
	if fi, _ := os.Stat(filepath.Join(nox, "sub")); fi.Mode().Perm() != 0o750 {
		t.Errorf("nox/sub is %v", fi.Mode())
	}
}

// TestMadeDirsOrder: Finish handles every directory before the one that
// holds it (for a user who is not root, a parent without search
// permission would otherwise keep its children from their modes).
func TestMadeDirsOrder(t *testing.T) {
	x := &Extractor{dirs: map[string]*dirState{}}
	for _, d := range []string{"", "a", "a/b", "a/b/c", "d", "a/e", "f/g/h/i"} {
		x.dirs[d] = &dirState{made: true}
	}
	x.dirs["a/kept"] = &dirState{ok: true}
	got := x.madeDirs()
	if len(got) != 7 {
		t.Fatalf("got %q", got)
	}
	for i, d := range got {
		for _, later := range got[i+1:] {
			if strings.HasPrefix(later, d+"/") || d == "" && later != "" {
				t.Errorf("%q comes before %q, which it holds: %q", d, later, got)
			}
		}
	}
}

// TestSymlinkOnDisk: an existing symbolic link on the way to an entry is
// never gone through, even with Force, even when it points inside the
// destination.
func TestSymlinkOnDisk(t *testing.T) {
	for _, target := range []string{"../outside", "inside"} {
		for _, force := range []bool{false, true} {
			base := t.TempDir()
			os.Mkdir(filepath.Join(base, "outside"), 0o755)
			os.MkdirAll(filepath.Join(base, "dest", "inside"), 0o755)
			os.Symlink(target, filepath.Join(base, "dest", "l"))
			for _, e := range []entry{file("top/l/x", "x"), dir("top/l/"), dir("top/l/d/"), symlink("top/l/s", "/")} {
				_, err := extract(t, base, "dest", "top", Options{Force: force}, bytes.NewReader(craft(t, dir("top/"), e)))
				if !errors.Is(err, ErrUnsafePath) {
					t.Errorf("%s, force %v, %s: got %v, want ErrUnsafePath", target, force, e.name, err)
				}
			}
			if l := listing(t, filepath.Join(base, "outside")); len(l) != 1 {
				t.Errorf("written outside: %q", l)
			}
			if l := listing(t, filepath.Join(base, "dest", "inside")); len(l) != 1 {
				t.Errorf("written through the link: %q", l)
			}
		}
	}
}
