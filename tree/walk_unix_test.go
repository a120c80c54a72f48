//go:build unix

package tree

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// withHook sets beforeDescend for the test.
func withHook(t *testing.T, hook func(rel string)) {
	t.Helper()
	beforeDescend = hook
	t.Cleanup(func() { beforeDescend = nil })
}

// withMaxOpen lowers maxOpenDirs for the test.
func withMaxOpen(t *testing.T, n int) {
	t.Helper()
	old := maxOpenDirs
	maxOpenDirs = n
	t.Cleanup(func() { maxOpenDirs = old })
}

// outsideDir is a directory outside the tree with a file the walk must
// never record.
func outsideDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "victim")
	if err := os.MkdirAll(filepath.Join(dir, "c"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c", "one.txt"), []byte("private\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWalkRefusesSwappedDirectory: between the stat that found a/b to be a
// directory and its opening, another user swaps it for a symbolic link to a
// directory outside the tree, or for another directory. The walk fails with
// ErrChanged naming it, and never lists what the swap put there.
func TestWalkRefusesSwappedDirectory(t *testing.T) {
	for _, swap := range []struct {
		name string
		do   func(t *testing.T, p, outside string)
	}{
		{"symlink out of the tree", func(t *testing.T, p, outside string) {
			must(t, os.Rename(p, p+".away"))
			must(t, os.Symlink(outside, p))
		}},
		{"symlink to a directory of the tree", func(t *testing.T, p, outside string) {
			must(t, os.Rename(p, p+".away"))
			must(t, os.Symlink(".", p))
		}},
		{"another directory", func(t *testing.T, p, outside string) {
			must(t, os.Rename(p, p+".away"))
			must(t, os.Rename(outside, p))
		}},
	} {
		t.Run(swap.name, func(t *testing.T) {
			root := makeTree(t)
			outside := outsideDir(t)
			withHook(t, func(rel string) {
				if rel == "a/b" {
					swap.do(t, filepath.Join(root, "a", "b"), outside)
				}
			})
			var seen []string
			err := walk(root, func(f *found) error { seen = append(seen, f.rel); return nil })
			if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), filepath.Join("a", "b")) {
				t.Errorf("walk: %v, want ErrChanged naming a/b", err)
			}
			for _, rel := range seen {
				if strings.HasPrefix(rel, "a/b/") {
					t.Errorf("the walk listed %s, below the swapped a/b", rel)
				}
			}
		})
	}
}

// TestWalkReopensCheckedWhenDeep: with few descriptors allowed, a directory
// let go while its subdirectories are walked is opened again from the root;
// if another user swapped it for a link meanwhile, the walk fails rather
// than follow it.
func TestWalkReopensCheckedWhenDeep(t *testing.T) {
	withMaxOpen(t, 1)
	root := makeTree(t)
	outside := outsideDir(t)
	// What a/ holds after b/, under the same names: what a walk led there
	// would record.
	must(t, os.WriteFile(filepath.Join(outside, "big.bin"), []byte("private\n"), 0o600))
	must(t, os.Symlink("c/one.txt", filepath.Join(outside, "link")))
	var private syscall.Stat_t
	must(t, syscall.Stat(filepath.Join(outside, "big.bin"), &private))
	withHook(t, func(rel string) {
		if rel == "a/b/c" {
			// a/b is open by descriptor and read already, but a, let
			// go, must be opened again for big.bin and link.
			must(t, os.Rename(filepath.Join(root, "a"), filepath.Join(root, "a.away")))
			must(t, os.Symlink(outside, filepath.Join(root, "a")))
		}
	})
	err := walk(root, func(f *found) error {
		if f.ino == private.Ino && f.dev == uint64(private.Dev) {
			t.Errorf("the walk recorded %s: the file outside the tree", f.rel)
		}
		return nil
	})
	if !errors.Is(err, ErrChanged) || !strings.HasSuffix(strings.SplitN(err.Error(), ":", 2)[0], "/a") {
		t.Errorf("walk: %v, want ErrChanged naming a", err)
	}
}

// TestWalkOrderIsWalkDirs: the walk gives names in filepath.WalkDir's order
// (the stream's order, which the index's parser enforces), with as many or
// as few descriptors as it may keep, and keeps only a bounded number open
// however deep the tree.
func TestWalkOrderIsWalkDirs(t *testing.T) {
	root := makeTree(t)
	for _, name := range []string{"a-b", "a.txt", "A", "a0", "B/x", "b/y", "é/z", "~", " sp", "a/b/c/d e/f"} {
		p := filepath.Join(root, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, nil, 0o644))
	}
	deep := root
	for i := range 60 {
		deep = filepath.Join(deep, fmt.Sprintf("d%d", i%3))
		must(t, os.MkdirAll(deep, 0o755))
		// A file after each subdirectory: its parent must be opened again.
		must(t, os.WriteFile(filepath.Join(deep, "..", "z"), nil, 0o644))
	}
	var want []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			rel = ""
		}
		want = append(want, filepath.ToSlash(rel))
		return nil
	})
	must(t, err)
	ref, err := Walk(root)
	must(t, err)
	refStream := stream(t, ref)
	for _, limit := range []int{1, 2, 5, 256} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			withMaxOpen(t, limit)
			base := openFDs(t)
			most := 0
			withHook(t, func(string) { most = max(most, openFDs(t)-base) })
			var got []string
			must(t, walk(root, func(f *found) error { got = append(got, f.rel); return nil }))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("order\n%q\nwant filepath.WalkDir's\n%q", got, want)
			}
			// One per level kept, the root, the one being opened and
			// those of a reopening.
			if bound := min(limit, 61) + 4; most > bound {
				t.Errorf("%d descriptors open at once with a limit of %d", most, limit)
			}
			tr, err := Walk(root)
			must(t, err)
			if tr.Digest() != ref.Digest() || !bytes.Equal(stream(t, tr), refStream) {
				t.Error("another tree or stream than with the default limit")
			}
		})
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	names, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(names)
}

// TestContentNeverFollowsALink: after the walk, a directory above a file,
// or the root itself, is moved and a symbolic link to it put in its place,
// pointing out of the tree or staying in it. The file is still the one the
// walk found (same inode), but reading it would go through a link another
// user controls: the stream and HashFiles refuse it, by openat2 (Linux) and
// by the descriptor chain alike.
func TestContentNeverFollowsALink(t *testing.T) {
	for _, swap := range []struct {
		name string
		dir  string // what is moved, under the root
		away func(t *testing.T, root string) (to, link string)
	}{
		{"a directory, out of the tree", "a/b", func(t *testing.T, root string) (string, string) {
			away := filepath.Join(t.TempDir(), "away")
			return away, away
		}},
		{"a directory, within the tree", "a/b", func(t *testing.T, root string) (string, string) {
			return filepath.Join(root, "b.moved"), "../b.moved"
		}},
		{"the root", "", func(t *testing.T, root string) (string, string) {
			away := filepath.Join(t.TempDir(), "away")
			return away, away
		}},
	} {
		for _, openat2 := range openat2Modes {
			t.Run(fmt.Sprintf("%s/openat2=%v", swap.name, openat2), func(t *testing.T) {
				setOpenat2(t, openat2)
				root := makeTree(t)
				tr, err := Walk(root)
				must(t, err)
				p := filepath.Join(root, filepath.FromSlash(swap.dir))
				away, link := swap.away(t, root)
				must(t, os.Rename(p, away))
				must(t, os.Symlink(link, p))
				if _, err := os.Stat(filepath.Join(root, "a", "b", "c", "one.txt")); err != nil {
					t.Fatalf("the link does not lead to the file: %v", err)
				}
				if _, err := io.ReadAll(io.NewSectionReader(tr, 0, tr.Size())); !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "one.txt") {
					t.Errorf("stream: %v, want ErrChanged naming one.txt", err)
				}
				if _, err := tr.HashFiles(t.Context(), nil); !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "one.txt") {
					t.Errorf("HashFiles: %v, want ErrChanged naming one.txt", err)
				}
				// Put back, the tree reads again.
				must(t, os.Remove(p))
				must(t, os.Rename(away, p))
				if _, err := tr.HashFiles(t.Context(), nil); err != nil {
					t.Errorf("HashFiles once put back: %v", err)
				}
			})
		}
	}
}

// TestContentFIFOSwappedIn: a FIFO put in place of a file after the walk
// fails the read at once; opening it for reading must not wait for a
// writer.
func TestContentFIFOSwappedIn(t *testing.T) {
	root := makeTree(t)
	tr, err := Walk(root)
	must(t, err)
	p := filepath.Join(root, "secret.txt")
	must(t, os.Remove(p))
	must(t, syscall.Mkfifo(p, 0o600))
	done := make(chan error, 1)
	go func() { _, err := tr.HashFiles(t.Context(), nil); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "secret.txt") {
			t.Errorf("HashFiles: %v, want ErrChanged naming secret.txt", err)
		}
	case <-time.After(time.Minute):
		// Unblock the open so the test ends.
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("HashFiles hangs opening a FIFO")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLongPaths: a tree whose paths are longer than the kernel takes in one
// call (PATH_MAX, 4096 bytes) is walked and read, one directory at a time.
func TestLongPaths(t *testing.T) {
	root := filepath.Join(t.TempDir(), "long")
	must(t, os.Mkdir(root, 0o755))
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(t, err)
	name := strings.Repeat("d", 200)
	for range 30 { // 6,000 bytes of path
		must(t, unix.Mkdirat(fd, name, 0o755))
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		must(t, err)
		fd = next
	}
	ffd, err := unix.Openat(fd, "deep.txt", unix.O_WRONLY|unix.O_CREAT, 0o644)
	unix.Close(fd)
	must(t, err)
	f := os.NewFile(uintptr(ffd), "deep.txt")
	_, err = f.WriteString("far down\n")
	must(t, errors.Join(err, f.Close()))
	tr, err := Walk(root)
	must(t, err)
	last := tr.Entries[len(tr.Entries)-1]
	if len(last.Path) < 6000 || !strings.HasSuffix(last.Path, "/deep.txt") || last.Size != 9 {
		t.Fatalf("last entry %.40s... (%d bytes), size %d", last.Path, len(last.Path), last.Size)
	}
	sums, err := tr.HashFiles(t.Context(), nil)
	must(t, err)
	if sums[len(sums)-1] != sha256.Sum256([]byte("far down\n")) {
		t.Error("deep.txt's sum differs")
	}
}
