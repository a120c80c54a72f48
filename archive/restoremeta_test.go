//go:build linux

package archive

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// withUmask runs f with the process's umask set to m. Tests that use it must not run
// in parallel: the umask is the process's.
func withUmask(t *testing.T, m int, f func()) {
	t.Helper()
	old := unix.Umask(m)
	defer unix.Umask(old)
	f()
}

// TestCommitMasksModeWithUmask: the archive's permission bits are applied less the
// umask, as tar restores them for a user who is not root: a 0666 archive fetched with
// umask 077 comes back 0600, not readable and writable by every local user.
func TestCommitMasksModeWithUmask(t *testing.T) {
	requireLiveUmask(t)
	d := newTestDownload(t)
	for _, c := range []struct {
		umask int
		mode  uint16
		want  os.FileMode
	}{{0o077, 0o666, 0o600}, {0o022, 0o777, 0o755}, {0o027, 0o4750, 0o750}, {0, 0o666, 0o666}} {
		final := filepath.Join(t.TempDir(), "out.bin")
		tg := d.downloaded(t, final, false)
		tg.SetMeta(crypt.Meta{HasMode: true, Mode: c.mode})
		withUmask(t, c.umask, func() { must(t, tg.Commit()) })
		st, err := os.Stat(final)
		must(t, err)
		if st.Mode() != c.want {
			t.Errorf("mode %#o under umask %#o: the file is %v, want %v", c.mode, c.umask, st.Mode(), c.want)
		}
	}
}

// TestProcessUmaskReadsWithoutSetting: the umask read from /proc is the one set now,
// not the one at start.
func TestProcessUmaskReadsWithoutSetting(t *testing.T) {
	requireLiveUmask(t)
	withUmask(t, 0o027, func() {
		if got := processUmask(); got != 0o027 {
			t.Errorf("processUmask = %#o, want 027", got)
		}
	})
}

// TestCommitKeepsFile0600UntilChecked: Commit applies the archive's mode only after
// it has checked that the final name holds the file and no other name does. With an
// archived mode others may read and write (0666), fs.protected_hardlinks would no
// longer stop another local user from hard-linking the temporary file: watching a
// shared sticky directory with inotify, they see the chmod (IN_ATTRIB) and link it
// before the one-link check, and every get of such an archive into /tmp fails.
func TestCommitKeepsFile0600UntilChecked(t *testing.T) {
	if os.Getenv("OGIVE_TEST_LINKER_DIR") != "" {
		attribLinker(os.Getenv("OGIVE_TEST_LINKER_DIR"))
		return
	}
	requireRoot(t)
	requireLiveUmask(t)
	if b, err := os.ReadFile("/proc/sys/fs/protected_hardlinks"); err != nil || string(b) != "1\n" {
		t.Skip("fs.protected_hardlinks is not 1")
	}
	root, bin := childBinary(t)
	shared := filepath.Join(root, "shared")
	must(t, os.Mkdir(shared, 0o777))
	must(t, os.Chmod(shared, 0o1777)) // like /tmp
	c := exec.Command(bin, "-test.run", "^TestCommitKeepsFile0600UntilChecked$")
	c.Env = append(os.Environ(), "OGIVE_TEST_LINKER_DIR="+shared)
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: otherUID, Gid: otherUID}}
	must(t, c.Start())
	defer func() {
		os.WriteFile(filepath.Join(shared, "stop"), nil, 0o644)
		c.Wait()
	}()
	time.Sleep(300 * time.Millisecond) // the watch is in place

	d := newTestDownload(t)
	final := filepath.Join(shared, "out.bin")
	const runs = 10
	failed := 0
	withUmask(t, 0, func() {
		for i := range runs {
			tg := d.downloaded(t, final, false)
			tg.SetMeta(crypt.Meta{HasMode: true, Mode: 0o666})
			err := tg.Commit()
			if errors.Is(err, ErrTempReplaced) {
				failed++
			} else if err != nil {
				t.Fatalf("run %d: %v", i, err)
			} else if st, err := os.Stat(final); err != nil || st.Mode() != 0o666 {
				t.Fatalf("run %d: the file is %v, %v; want 0666 (umask 0)", i, st.Mode(), err)
			}
			os.Remove(final)
			entries, _ := os.ReadDir(shared)
			for _, e := range entries {
				if e.Name() != "stop" {
					os.Remove(filepath.Join(shared, e.Name()))
				}
			}
		}
	})
	if failed > 0 {
		t.Errorf("%d of %d gets of a 0666 archive into a sticky directory failed: another user hard-linked the temporary file once it was chmodded", failed, runs)
	}
}

// attribLinker, as another user, links every file that changes attributes in dir to
// a name of its own.
func attribLinker(dir string) {
	fd, err := unix.InotifyInit1(0)
	if err != nil {
		return
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_ATTRIB|unix.IN_CREATE); err != nil {
		return
	}
	buf := make([]byte, 64<<10)
	n := 0
	for {
		if _, err := os.Stat(filepath.Join(dir, "stop")); err == nil {
			return
		}
		k, err := unix.Read(fd, buf)
		if err != nil {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= k; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_ATTRIB != 0 && name != "" && name != "stop" {
				n++
				_ = os.Link(filepath.Join(dir, name), filepath.Join(dir, fmt.Sprintf("grab-%d", n)))
			}
		}
	}
}

// TestCommitKeepsFileWhenTimeCannotBeSet: a download whose every byte authenticated
// is kept under its final name when its modification time cannot be set (a file
// system that refuses it); Commit reports it as a *MetaError, and the mode is still
// applied.
func TestCommitKeepsFileWhenTimeCannotBeSet(t *testing.T) {
	d := newTestDownload(t)
	final := filepath.Join(t.TempDir(), "out.bin")
	tg := d.downloaded(t, final, false)
	applyMTime = func(f *os.File, _ time.Time) error {
		return fmt.Errorf("set the modification time of %s: %w", f.Name(), unix.EPERM)
	}
	t.Cleanup(func() { applyMTime = setMTime })
	tg.SetMeta(crypt.Meta{HasMode: true, Mode: 0o640, HasMTime: true, MTime: time.Unix(1e9, 0)})
	var err error
	withUmask(t, 0o022, func() { err = tg.Commit() })
	var me *MetaError
	if !errors.As(err, &me) {
		t.Fatalf("Commit = %v, want a *MetaError", err)
	}
	st, serr := os.Stat(final)
	if serr != nil {
		t.Fatalf("the download was not kept: %v (Commit: %v)", serr, err)
	}
	if st.Mode() != 0o640 || st.Size() != int64(len(d.plain)) {
		t.Errorf("the file kept is %v, %d bytes; want 0640, %d bytes", st.Mode(), st.Size(), len(d.plain))
	}
	if _, err := os.Stat(PartialPath(final)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary name is still there: %v", err)
	}
}

// TestResumeUploadInterruptedBeforeUpgrade: an upload interrupted under the previous
// ogive has a record naming a version 2 ID, which records no mode or time. The same
// file, untouched, resumes under that ID after the upgrade (one salt, one plaintext:
// still safe) rather than starting again from byte zero, and the notice says that its
// mode and time are not recorded.
func TestResumeUploadInterruptedBeforeUpgrade(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	var notices []string
	put := func(s object.Store, withMeta bool) (PutResult, error) {
		src := r.source()
		if withMeta {
			fi, err := src.R.(*os.File).Stat()
			must(t, err)
			src.Meta = FileMeta(fi)
		}
		return PutResumable(t.Context(), s, lend(r.master), src, ResumableOptions{
			PutOptions: PutOptions{Concurrency: 1, StorageClass: "STANDARD"}, States: r.states, Bucket: "b",
			Notice: func(s string) { notices = append(notices, s) }})
	}
	broken := &failingStore{Store: mem, failParts: map[int32]bool{2: true, 3: true}}
	if _, err := put(broken, false); err == nil {
		t.Fatal("interrupted put succeeded")
	}
	rec, err := r.record()
	must(t, err)
	if _, meta, k, err := crypt.OpenIDMeta(r.master, rec.ID); err != nil || !meta.Empty() {
		t.Fatalf("the interrupted upload's ID records %+v, %v; want a version 2 ID", meta, err)
	} else {
		k.Destroy()
	}
	notices = nil
	res, err := put(mem, true)
	must(t, err)
	if res.ResumedFrom == 0 || res.ID != rec.ID {
		t.Fatalf("the upload interrupted before the upgrade started again from zero (ID %s, was %s; notices %q)", res.ID, rec.ID, notices)
	}
	if said := strings.Join(notices, "\n"); !strings.Contains(said, "mode and modification time are not recorded") {
		t.Errorf("the notices do not say the mode and time are not recorded: %q", said)
	}
}

// requireLiveUmask skips a test that changes the umask while it runs, where the
// package reads the umask only once, at start (not Linux, or ogive_portable).
func requireLiveUmask(t *testing.T) {
	t.Helper()
	if !liveUmask {
		t.Skip("the umask is read once, at start, on this system")
	}
}
