//go:build unix

package tree_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ogive-project/ogive/tree"
)

// TestRedteam16WalkFollowsSwappedDirectory: another local user owns sub/,
// a directory of the tree being put (a shared project in /tmp, a group
// directory). While the walk is busy with the entries before it (here
// a/, 4,000 files), they replace sub/ with a symbolic link to a directory
// of the victim's outside the tree. filepath.WalkDir decided to descend
// into sub/ from the type its parent's listing gave, and then lists
// sub/ by name, following the link: the walk records sub as a symbolic
// link and, below it, the victim's files from outside the tree (their
// inodes, sizes, and later their contents). The stream then holds entries
// below a symbolic link (the put fails only at its end, when the index is
// built, after uploading them); when the swap lands just after sub/ was
// looked at, they are archived as sub/'s own. A walk that opens each
// directory it lists (O_NOFOLLOW, openat from its parent, or an os.Root)
// never leaves the tree.
func TestRedteam16WalkFollowsSwappedDirectory(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "victim-private")
	os.MkdirAll(outside, 0o700)
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("not in the tree\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var secret syscall.Stat_t
	if err := syscall.Stat(filepath.Join(outside, "secret.txt"), &secret); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, "shared")
	for i := range 4000 {
		p := filepath.Join(root, "a", fmt.Sprintf("f%05d", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sub := filepath.Join(root, "sub")
	os.MkdirAll(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "mine.txt"), []byte("theirs\n"), 0o644)

	// How long the walk takes undisturbed: the swap goes in its middle.
	start := time.Now()
	if _, err := tree.Walk(root); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)

	for attempt := range 20 {
		done := make(chan struct{})
		var tr *tree.Tree
		var err error
		go func() {
			defer close(done)
			tr, err = tree.Walk(root)
		}()
		time.Sleep(full * time.Duration(2+attempt%6) / 10)
		// The other user's swap: sub/ away, a link in its place.
		os.Rename(sub, sub+".away")
		os.Symlink(outside, sub)
		<-done
		os.Remove(sub)
		os.Rename(sub+".away", sub)
		if err != nil {
			continue
		}
		for _, e := range tr.Entries {
			if e.Inode == secret.Ino && e.Dev == uint64(secret.Dev) || strings.HasSuffix(e.Path, "/secret.txt") {
				t.Fatalf("attempt %d: the walk of %s recorded %s (the victim's %s, outside the tree, inode %d)",
					attempt, root, e.Path, filepath.Join(outside, "secret.txt"), e.Inode)
			}
		}
	}
	t.Logf("no swap landed in the window in 20 attempts (walk of %v)", full)
}
