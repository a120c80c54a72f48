//go:build unix

package cmd_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// makeDirTree builds the tree of issue 16's "Done when": nested
// directories, 2,000 small files, a 30 MiB file, an empty directory, a
// relative symlink, a hard link, a Unicode name, and a 0600 file with an
// old mtime.
func makeDirTree(t *testing.T, r *rig) string {
	t.Helper()
	root := filepath.Join(r.dir, "photos")
	mk := func(rel string, data []byte, mode os.FileMode) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	for i := range 2000 {
		mk(fmt.Sprintf("d%02d/sub/f%04d.txt", i%20, i), []byte(fmt.Sprintf("file %d\n%s", i, strings.Repeat("x", i%300))), 0o644)
	}
	mk("a/b/c/one.txt", []byte("one\n"), 0o644)
	mk("a/b/c/two.txt", []byte("two\n"), 0o644)
	mk("a/b/other.txt", []byte("other\n"), 0o644)
	mk("big.bin", randomBytes(t, 30<<20), 0o644)
	mk("été/ñandú.txt", []byte("unicode\n"), 0o644)
	mk("secret.txt", []byte("mine\n"), 0o600)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "secret.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b/c/one.txt", filepath.Join(root, "a", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "a", "b", "c", "two.txt"), filepath.Join(root, "hard.txt")); err != nil {
		t.Fatal(err)
	}
	return root
}

// sameTree compares two trees: kinds, contents, link targets, link
// counts, permission bits (the original's less the umask) and mtimes.
func sameTree(t *testing.T, want, got string, umask os.FileMode) {
	t.Helper()
	n := 0
	filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		n++
		rel, _ := filepath.Rel(want, p)
		q := filepath.Join(got, rel)
		wi, _ := os.Lstat(p)
		gi, err := os.Lstat(q)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if wi.Mode().Type() != gi.Mode().Type() {
			t.Errorf("%s: type %v, want %v", rel, gi.Mode().Type(), wi.Mode().Type())
			return nil
		}
		switch {
		case wi.Mode().IsRegular():
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(q)
			if !bytes.Equal(a, b) {
				t.Errorf("%s: content differs", rel)
			}
			if wl, gl := wi.Sys().(*syscall.Stat_t).Nlink, gi.Sys().(*syscall.Stat_t).Nlink; wl != gl {
				t.Errorf("%s: %d links, want %d", rel, gl, wl)
			}
		case wi.Mode()&fs.ModeSymlink != 0:
			a, _ := os.Readlink(p)
			b, _ := os.Readlink(q)
			if a != b {
				t.Errorf("%s: links to %q, want %q", rel, b, a)
			}
			return nil
		}
		if w, g := wi.Mode().Perm()&^umask, gi.Mode().Perm(); w != g {
			t.Errorf("%s: mode %v, want %v", rel, g, w)
		}
		if !wi.ModTime().Equal(gi.ModTime()) {
			t.Errorf("%s: mtime %v, want %v", rel, gi.ModTime(), wi.ModTime())
		}
		return nil
	})
	if n < 2000 {
		t.Fatalf("compared only %d entries", n)
	}
}

// TestDirArchive is issue 16's "Done when" against the local Deep Archive
// server: ls while DEEPS, verify (and a changed file named), get after a
// restore recreating the tree exactly, --include, get ID - read by tar,
// list showing the archive once, and rm removing the index too.
func TestDirArchive(t *testing.T) {
	r := newRig(t, rigOptions{})
	root := makeDirTree(t, r)
	id := r.put(root)[0]

	// list shows the archive once, never its index.
	res := r.ogive("", "list", "--password-file", r.pwFile)
	if res.code != 0 || strings.Count(res.stdout, "photos.tar") != 1 || strings.Count(res.stdout, "\n") != 3 {
		t.Fatalf("list: %s", res)
	}
	if _, err := r.directStore().Head(context.Background(), dirarchive.IndexKey(id)); err != nil {
		t.Fatalf("no index beside the archive: %v", err)
	}

	// ls while DEEPS.
	res = r.ogive("", "ls", "--password-file", r.pwFile, id)
	if res.code != 0 {
		t.Fatalf("ls: %s", res)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	// 2,000 files, 20 d* and 20 sub directories, photos, a, a/b, a/b/c,
	// 3 files there, big.bin, été, its file, secret.txt, empty, the link,
	// the hard link.
	if len(lines) != 2000+40+4+3+7 {
		t.Errorf("ls printed %d lines", len(lines))
	}
	for _, want := range []string{
		"-rw------- ", " 2001-02-03 04:05 photos/secret.txt",
		"lrwxrwxrwx ", " photos/a/link -> b/c/one.txt",
		"hrw-r--r-- ", " photos/hard.txt link to photos/a/b/c/two.txt",
		" 31457280 ", " photos/big.bin", " photos/empty/", " photos/été/ñandú.txt",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("ls: no %q", want)
		}
	}
	res = r.ogive("", "ls", "--password-file", r.pwFile, id, "a/b/c/*")
	if got := strings.Split(strings.TrimSpace(res.stdout), "\n"); res.code != 0 || len(got) != 2 || !strings.HasSuffix(got[0], "photos/a/b/c/one.txt") {
		t.Errorf("ls a/b/c/*: %s", res)
	}
	res = r.ogive("", "ls", "--json", "--password-file", r.pwFile, id, "secret.txt")
	if res.code != 0 || !strings.Contains(res.stdout, `"mode":"0600"`) || !strings.Contains(res.stdout, `"sha256":"`) {
		t.Errorf("ls --json: %s", res)
	}

	// verify passes, then names a changed file.
	res = r.ogive("", "verify", "--password-file", r.pwFile, id, root)
	if res.code != 0 || !strings.Contains(res.stdout, "verified:") || !strings.Contains(res.stdout, "part") {
		t.Fatalf("verify: %s", res)
	}
	changed := filepath.Join(root, "d03", "sub", "f0003.txt")
	orig, _ := os.ReadFile(changed)
	st, _ := os.Stat(changed)
	os.WriteFile(changed, bytes.ToUpper(orig), 0o644)
	os.Chtimes(changed, st.ModTime(), st.ModTime())
	res = r.ogive("", "verify", "--password-file", r.pwFile, id, root)
	if res.code == 0 || !strings.Contains(res.stderr, "d03/sub/f0003.txt: content differs") {
		t.Errorf("verify of a changed file: %s", res)
	}
	os.WriteFile(changed, orig, 0o644)
	os.Chtimes(changed, st.ModTime(), st.ModTime())

	// get after a restore.
	r.restoreAll(id)
	out := r.mkdir("out")
	res = r.ogive("", "get", "--password-file", r.pwFile, id, out)
	if res.code != 0 {
		t.Fatalf("get: %s", res)
	}
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	sameTree(t, root, filepath.Join(out, "photos"), os.FileMode(umask))
	// Nothing is left beside the tree: no temporary of any file.
	if names := entries(t, out); len(names) != 1 {
		t.Errorf("get left %v", names)
	}
	if cmd := exec.Command("diff", "-r", "--no-dereference", root, filepath.Join(out, "photos")); cmd.Run() != nil {
		out, _ := exec.Command("diff", "-r", "--no-dereference", root, filepath.Join(out, "photos")).CombinedOutput()
		t.Errorf("diff -r: %s", out)
	}
	// Again: nothing is replaced without --force.
	res = r.ogive("", "get", "--password-file", r.pwFile, id, out)
	if res.code == 0 || !strings.Contains(res.stderr, "--force") {
		t.Errorf("get over an existing tree: %s", res)
	}

	// --include fetches and extracts only those files.
	inc := r.mkdir("inc")
	res = r.ogive("", "get", "--password-file", r.pwFile, "--include", "a/b/c/*", id, inc)
	if res.code != 0 {
		t.Fatalf("get --include: %s", res)
	}
	var got []string
	filepath.WalkDir(inc, func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			rel, _ := filepath.Rel(inc, p)
			got = append(got, rel)
		}
		return nil
	})
	if strings.Join(got, " ") != "photos/a/b/c/one.txt photos/a/b/c/two.txt" {
		t.Errorf("--include extracted %v", got)
	}
	if !strings.Contains(res.stderr, "Fetching 2.0 MiB of 34.0 MiB for 2 entries") {
		t.Errorf("--include does not say what it fetches: %s", res.stderr)
	}

	// get ID - is a tar that tar reads.
	res = r.ogive("", "get", "--password-file", r.pwFile, id, "-")
	if res.code != 0 {
		t.Fatalf("get -: %s", res.stderr)
	}
	tarT := exec.Command("tar", "t")
	tarT.Stdin = strings.NewReader(res.stdout)
	listed, err := tarT.Output()
	if err != nil || strings.Count(string(listed), "\n") != len(lines) || !strings.Contains(string(listed), "photos/big.bin\n") {
		t.Errorf("tar t: %v, %d lines", err, strings.Count(string(listed), "\n"))
	}

	// rm removes both objects.
	res = r.ogive("", "rm", "--force", "--yes", "--password-file", r.pwFile, id)
	if res.code != 0 {
		t.Fatalf("rm: %s", res)
	}
	for _, key := range []string{id, dirarchive.IndexKey(id)} {
		if _, err := r.directStore().Head(context.Background(), key); !errors.Is(err, object.ErrNotFound) {
			t.Errorf("%s after rm: %v", key, err)
		}
	}
}

// TestDirArchiveGrowingFile: a file that grows while the put reads the tree
// fails the put, naming it, and leaves nothing in the bucket: no archive,
// no index, no unfinished upload.
func TestDirArchiveGrowingFile(t *testing.T) {
	r := newRig(t, rigOptions{})
	root := filepath.Join(r.dir, "tree")
	os.MkdirAll(root, 0o755)
	os.WriteFile(filepath.Join(root, "big.bin"), randomBytes(t, 40<<20), 0o644)
	grows := filepath.Join(root, "log.txt")
	os.WriteFile(grows, []byte("line\n"), 0o644)
	var once sync.Once
	r.proxy.SetRules(faultproxy.Rule{Match: func(req *http.Request) bool {
		if isUploadPart(req) {
			once.Do(func() {
				f, _ := os.OpenFile(grows, os.O_APPEND|os.O_WRONLY, 0)
				f.Write([]byte("another line\n"))
				f.Close()
			})
		}
		return false
	}})
	res := r.ogive("", "put", "--password-file", r.pwFile, root)
	if res.code == 0 || !strings.Contains(res.stderr, "log.txt") {
		t.Fatalf("put of a growing tree: %s", res)
	}
	s := r.directStore()
	if ups, err := s.ListUploads(context.Background()); err != nil || len(ups) != 0 {
		t.Errorf("uploads left: %v %v", ups, err)
	}
	var keys []string
	s.List(context.Background(), func(i object.Info) error { keys = append(keys, i.Key); return nil })
	if len(keys) != 0 {
		t.Errorf("objects left: %v", keys)
	}
}

// TestDirArchiveCraftedPaths: an archive made with the profile's own keys
// (so it authenticates) whose tar stream holds "../" paths is refused, and
// nothing lands outside the destination.
func TestDirArchiveCraftedPaths(t *testing.T) {
	r := newRig(t, rigOptions{})
	p, err := profile.Open(r.profile, memguard.NewBufferFromBytes([]byte(rigPassword)))
	if err != nil {
		t.Fatal(err)
	}
	enclave := p.MasterKey
	master := func(use func([]byte) error) error {
		b, err := enclave.Open()
		if err != nil {
			return err
		}
		defer b.Destroy()
		return use(b.Bytes())
	}
	for _, evil := range []string{"photos/../../evil.txt", "../evil.txt", "/tmp/evil.txt", "other/evil.txt"} {
		var stream bytes.Buffer
		tw := tar.NewWriter(&stream)
		tw.WriteHeader(&tar.Header{Name: "photos/", Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX})
		tw.WriteHeader(&tar.Header{Name: evil, Typeflag: tar.TypeReg, Mode: 0o644, Size: 5, Format: tar.FormatPAX})
		tw.Write([]byte("evil\n"))
		tw.Close()
		id, _, err := archive.Put(context.Background(), r.directStore(), master, archive.Source{
			R: bytes.NewReader(stream.Bytes()), Name: "photos.tar", Size: int64(stream.Len()),
			Meta: crypt.Meta{Tree: true},
		}, archive.PutOptions{StorageClass: "STANDARD"})
		if err != nil {
			t.Fatal(err)
		}
		dest := r.mkdir("dest-" + strings.NewReplacer("/", "_", ".", "_").Replace(evil))
		res := r.ogive("", "get", "--password-file", r.pwFile, id, dest)
		if res.code == 0 || !strings.Contains(res.stderr, "outside") && !strings.Contains(res.stderr, "unsafe") {
			t.Errorf("%s: get: %s", evil, res)
		}
		for _, p := range []string{filepath.Join(r.dir, "evil.txt"), "/tmp/evil.txt", filepath.Join(dest, "evil.txt")} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s: %s was written", evil, p)
			}
		}
	}
}

// TestDirArchiveIndexWithUnfinishedUpload: a put whose last step, the
// completion, keeps failing leaves the upload and its index (stored just
// before); the next run completes it under the same ID, and "uploads
// --abort" of such an upload drops the index with it.
func TestDirArchiveIndexWithUnfinishedUpload(t *testing.T) {
	r := newRig(t, rigOptions{})
	root := filepath.Join(r.dir, "tree")
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	os.WriteFile(filepath.Join(root, "big.bin"), randomBytes(t, 20<<20), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "small.txt"), []byte("small\n"), 0o644)
	failComplete := func() {
		r.proxy.SetRules(faultproxy.Rule{Fault: faultproxy.InternalError, Match: isCompleteUpload})
	}
	failComplete()
	res := r.ogive("", "put", "--password-file", r.pwFile, root)
	if res.code == 0 {
		t.Fatalf("put with completion failing: %s", res)
	}
	s := r.directStore()
	ups, err := s.ListUploads(context.Background())
	if err != nil || len(ups) != 1 {
		t.Fatalf("uploads: %v %v", ups, err)
	}
	id := ups[0].Key
	if _, err := s.Head(context.Background(), dirarchive.IndexKey(id)); err != nil {
		t.Fatalf("index before completion: %v", err)
	}
	// The same command completes it, the index already there being its own.
	r.proxy.SetRules()
	res = r.ogive("", "put", "--password-file", r.pwFile, root)
	if res.code != 0 || strings.TrimSpace(res.stdout) != id {
		t.Fatalf("second put: %s (want %s)", res, id)
	}
	res = r.ogive("", "ls", "--password-file", r.pwFile, id, "sub/*")
	if res.code != 0 || !strings.Contains(res.stdout, "tree/sub/small.txt") {
		t.Fatalf("ls: %s", res)
	}

	// Interrupted again, then aborted: the index goes with the upload.
	os.WriteFile(filepath.Join(root, "sub", "new.txt"), []byte("new\n"), 0o644)
	failComplete()
	if res := r.ogive("", "put", "--password-file", r.pwFile, root); res.code == 0 {
		t.Fatalf("third put: %s", res)
	}
	r.proxy.SetRules()
	ups, _ = s.ListUploads(context.Background())
	if len(ups) != 1 {
		t.Fatalf("uploads: %v", ups)
	}
	res = r.ogive("", "uploads", "--abort", "--yes", "--password-file", r.pwFile)
	if res.code != 0 {
		t.Fatalf("uploads --abort: %s", res)
	}
	if _, err := s.Head(context.Background(), dirarchive.IndexKey(ups[0].Key)); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("index of an aborted upload: %v", err)
	}
	if _, err := s.Head(context.Background(), dirarchive.IndexKey(id)); err != nil {
		t.Errorf("the completed archive's index went too: %v", err)
	}
}

// TestPutDirName: --name names the one directory put; with two it is
// refused before anything is sent.
func TestPutDirName(t *testing.T) {
	r := newRig(t, rigOptions{})
	a, b := r.mkdir("a"), r.mkdir("b")
	r.write("a/x.txt", []byte("x"))
	res := r.ogive("", "put", "--password-file", r.pwFile, "--name", "two.tar", a, b)
	if res.code != 1 || !strings.Contains(res.stderr, "--name names stdin") {
		t.Errorf("put --name of two directories: %s", res)
	}
	res = r.ogive("", "put", "--json", "--password-file", r.pwFile, "--name", "renamed.tar", a)
	if res.code != 0 || !strings.Contains(res.stdout, `"name":"renamed.tar"`) || !strings.Contains(res.stdout, `"entries":2`) {
		t.Errorf("put --name of a directory: %s", res)
	}
}

// TestDirArchiveMixed: a directory is put with a file in one command; ls of
// the file's archive prints its one file; verify names a missing file and
// an extra one.
func TestDirArchiveMixed(t *testing.T) {
	r := newRig(t, rigOptions{})
	dir := r.mkdir("docs")
	r.write("docs/a.txt", []byte("a\n"))
	r.write("docs/sub/b.txt", []byte("b\n"))
	file := r.write("single.txt", []byte("single\n"))
	ids := r.put(file, dir)
	res := r.ogive("", "ls", "--password-file", r.pwFile, ids[0])
	if res.code != 0 || !strings.HasPrefix(res.stdout, "-rw------- ") || !strings.Contains(res.stdout, " 7 ") ||
		!strings.HasSuffix(res.stdout, " single.txt\n") || strings.Count(res.stdout, "\n") != 1 {
		t.Errorf("ls of a single file: %s", res)
	}
	res = r.ogive("", "ls", "--password-file", r.pwFile, ids[1])
	if res.code != 0 || strings.Count(res.stdout, "\n") != 4 {
		t.Errorf("ls of the directory: %s", res)
	}
	os.Remove(filepath.Join(dir, "sub", "b.txt"))
	res = r.ogive("", "verify", "--password-file", r.pwFile, ids[1], dir)
	if res.code != 1 || !strings.Contains(res.stderr, "sub/b.txt: missing") {
		t.Errorf("verify with a file missing: %s", res)
	}
	r.write("docs/sub/b.txt", []byte("b\n"))
	r.write("docs/sub/c.txt", []byte("c\n"))
	res = r.ogive("", "verify", "--password-file", r.pwFile, ids[1], dir)
	if res.code != 1 || !strings.Contains(res.stderr, "sub/c.txt: extra") {
		t.Errorf("verify with an extra file: %s", res)
	}
	os.Remove(filepath.Join(dir, "sub", "c.txt"))
	// Back as it was but for the times: the files match the index, and
	// verify says why it could not compare the parts.
	res = r.ogive("", "verify", "--password-file", r.pwFile, ids[1], dir)
	if res.code != 0 || !strings.Contains(res.stdout, "matches the index") || !strings.Contains(res.stderr, "time differs") {
		t.Errorf("verify of a tree whose times changed: %s", res)
	}
}
