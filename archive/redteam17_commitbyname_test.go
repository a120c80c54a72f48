//go:build linux && ogive_portable

// TestRedteam17CommitLinksByName is TestCommitLinksTheFileNotItsName
// (commit_linux_test.go, which only the Linux build runs), run against the
// code macOS and FreeBSD build: linkOpen in link_unix.go links the
// temporary file by its name, not the open file. Another local user who
// can write the download directory (not sticky) exchanges the temporary
// name with a file of their own between Commit's check and the link: with
// --force, the file the user asked to replace is then replaced by the other
// user's file, and Commit fails; without, their file is left under the
// final name. link_unix.go says so in its doc comment, but README
// "Platforms" says "`get` of a file: as on Linux" for macOS and FreeBSD,
// and no --help note for get on those systems mentions it.
//
//	go test -count=1 -tags ogive_portable -run Redteam17 ./archive   (as root)

package archive

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/harden"
)

// TestRedteam17CommitLinksByName: another local user who can write the
// download directory (not sticky) exchanges the temporary name with a file
// of their own, mode 0666 (renameat2 RENAME_EXCHANGE), over and over, while
// Commit runs. When an exchange lands between a check and a link or rename
// of the name, the final name gets their file, or the plaintext keeps a
// second name that they chose. Commit links the file it holds open, and
// checks its links, so each time either the final name holds the plaintext,
// a private file of the user's with one link, or Commit fails with
// ErrTempReplaced and the final name holds what it held before: nothing,
// or with force the file it was to replace. The download runs as a user
// other than root, not dumpable (harden.Process), as ogive does: linking
// through /proc/self/fd must work there too.
func TestRedteam17CommitLinksByName(t *testing.T) {
	switch os.Getenv("OGIVE_RT17_SWAP_ROLE") {
	case "swapper":
		rt17Swapper(os.Getenv("OGIVE_RT17_SWAP_DIR"))
		return
	case "victim":
		rt17SwapVictim(t, os.Getenv("OGIVE_RT17_SWAP_DIR"))
		return
	}
	requireRoot(t)
	root, bin := childBinary(t)
	shared := filepath.Join(root, "shared")
	must(t, os.Mkdir(shared, 0o777))
	must(t, os.Chmod(shared, 0o777)) // writable by others, not sticky

	child := func(role string, uid uint32) *exec.Cmd {
		c := exec.Command(bin, "-test.run", "^TestRedteam17CommitLinksByName$", "-test.v")
		c.Env = append(os.Environ(), "OGIVE_RT17_SWAP_ROLE="+role, "OGIVE_RT17_SWAP_DIR="+shared)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		return c
	}
	sw := child("swapper", otherUID)
	must(t, sw.Start())
	defer func() {
		os.WriteFile(filepath.Join(shared, "stop"), nil, 0o644)
		sw.Wait()
	}()
	out, err := child("victim", rt17VictimUID).CombinedOutput()
	if err != nil {
		t.Fatalf("the download as uid %d: %v\n%s", rt17VictimUID, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "commits:"); i >= 0 {
			t.Log(line[i:])
		}
	}
}

// rt17SwapVictim is TestRedteam17CommitLinksByName's download, as the victim:
// it downloads and commits again and again while the swapper is at work.
func rt17SwapVictim(t *testing.T, dir string) {
	must(t, harden.Process())
	d := newTestDownload(t)
	final := filepath.Join(dir, "out.bin")
	tmp := PartialPath(final)
	goFile := filepath.Join(dir, "go")
	const before = "the file that --force replaces\n"
	clean, refused := 0, 0
	for i := 0; i < 300 && !t.Failed(); i++ {
		force := i%2 == 1
		if force {
			must(t, os.WriteFile(final, []byte(before), 0o600))
		}
		tg := d.downloaded(t, final, force)
		must(t, os.WriteFile(goFile, nil, 0o644)) // the swapper starts
		err := tg.Commit()
		must(t, os.Remove(goFile))
		time.Sleep(2 * time.Millisecond) // for its current round to end
		switch {
		case err == nil:
			d.checkFinal(t, final)
			clean++
		case errors.Is(err, ErrTempReplaced) && force:
			if b, err := os.ReadFile(final); err != nil || string(b) != before {
				t.Errorf("commit %d with force failed, and the final name holds %q (%v)", i, b, err)
			}
			refused++
		case errors.Is(err, ErrTempReplaced):
			if _, err := os.Lstat(final); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("commit %d failed but left the final name: %v", i, err)
			}
			refused++
		default:
			t.Fatalf("commit %d: %v", i, err)
		}
		for _, p := range []string{final, tmp, tmp + recordSuffix, tmp + recordTmpSuffix, filepath.Join(dir, "evil")} {
			os.Remove(p)
		}
	}
	t.Logf("commits: %d clean, %d refused as swapped", clean, refused)
	if refused == 0 && !t.Failed() {
		t.Error("no swap ever landed during a Commit: the test showed nothing")
	}
}

// swapper is the other user: while dir/go exists, it exchanges the
// download's temporary name with a file of its own, over and over.
func rt17Swapper(dir string) {
	tmp := PartialPath(filepath.Join(dir, "out.bin"))
	evil := filepath.Join(dir, "evil")
	for {
		if _, err := os.Stat(filepath.Join(dir, "stop")); err == nil {
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "go")); err != nil {
			time.Sleep(50 * time.Microsecond)
			continue
		}
		if _, err := os.Lstat(evil); errors.Is(err, os.ErrNotExist) {
			// 0666: the victim may then link it, despite protected_hardlinks.
			os.WriteFile(evil, []byte("never archived\n"), 0o666)
			os.Chmod(evil, 0o666)
		}
		for range 2000 {
			if unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, evil, unix.RENAME_EXCHANGE) != nil {
				break
			}
		}
	}
}

// rt17VictimUID runs a download that must not be root's: root may link any
// file, and follow any process's /proc links.
const rt17VictimUID = 65533
