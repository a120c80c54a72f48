//go:build unix

package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestRedteam16FinishChmodThroughSwappedDir: the destination is the
// user's and already exists; in it, shared/ is a directory of another
// local user's (a team directory; New checks the owner of the destination
// only, ensureDir accepts any directory already there). The stream makes
// shared/newdir/, 0700 until Finish. Before Finish, the other user (who
// may rename in shared/) moves newdir away and puts a symbolic link
// shared/newdir -> ../mine.txt in its place: Finish's Chmod and Chtimes go
// through os.Root, which follows a link that stays in the root, and give
// the user's private mine.txt the directory's mode from the archive
// (0777 less the umask) and its time.
func TestRedteam16FinishChmodThroughSwappedDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a directory of another user's")
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	os.Mkdir(out, 0o700)
	mine := filepath.Join(out, "mine.txt")
	if err := os.WriteFile(mine, []byte("private\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(out, "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777)
	if err := os.Chown(shared, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	s := craft(t, dir("top/"), dir("top/shared/"), entry{typ: tar.TypeDir, name: "top/shared/newdir/", mode: 0o777})
	x, err := New(parent, "out", "top", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Abort()
	if err := x.Stream(context.Background(), bytes.NewReader(s)); err != nil {
		t.Fatal(err)
	}
	// The other user, in their directory.
	if err := os.Rename(filepath.Join(shared, "newdir"), filepath.Join(shared, "away")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../mine.txt", filepath.Join(shared, "newdir")); err != nil {
		t.Fatal(err)
	}
	err = x.Finish()
	fi, serr := os.Stat(mine)
	if serr != nil {
		t.Fatal(serr)
	}
	t.Logf("Finish: %v; mine.txt: %v", err, fi.Mode())
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the user's private mine.txt, outside anything the archive made, is now %v (chmod through a link swapped for a directory the extraction made)", fi.Mode().Perm())
	}
}
