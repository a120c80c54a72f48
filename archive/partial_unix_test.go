//go:build unix

package archive

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPlantedPartialIsSetAside plants a file under the temporary name of a
// download, with a record that claims its ranges: a symbolic link to the
// victim's other file, another user's file (mode 0600 or 0666), this
// user's file with mode 0666, a second link to the victim's file, a named
// pipe. None is resumed, written or read: it is set aside untouched, and the
// final file is a new private file holding the plaintext.
func TestPlantedPartialIsSetAside(t *testing.T) {
	requireRoot(t)
	d := newTestDownload(t)
	const planted = "planted bytes, never in the archive"
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, partial, victim string)
	}{
		{"symlink-to-victim", func(t *testing.T, partial, victim string) {
			must(t, os.Symlink(victim, partial))
		}},
		{"another-user's-0666", func(t *testing.T, partial, _ string) {
			plantFile(t, partial, 0o666, otherUID)
		}},
		{"another-user's-0600", func(t *testing.T, partial, _ string) {
			plantFile(t, partial, 0o600, otherUID)
		}},
		{"own-0666", func(t *testing.T, partial, _ string) {
			plantFile(t, partial, 0o666, os.Geteuid())
		}},
		{"empty-0666-of-another-user", func(t *testing.T, partial, _ string) {
			plantFile(t, partial, 0o666, otherUID)
			must(t, os.Truncate(partial, 0))
		}},
		{"hard-link-to-victim", func(t *testing.T, partial, victim string) {
			must(t, os.Link(victim, partial))
		}},
		{"named-pipe", func(t *testing.T, partial, _ string) {
			must(t, unix.Mkfifo(partial, 0o600))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			victim := writeVictim(t, dir)
			final := filepath.Join(dir, "out.bin")
			partial := PartialPath(final)
			tc.plant(t, partial, victim)
			before, _ := os.Lstat(partial)
			// The record claims the whole planted file as range 0, with a
			// CRC anyone could compute, as records were proved before.
			var b []byte
			if before.Mode().IsRegular() {
				b, _ = os.ReadFile(partial)
			}
			oldRecord(t, d, final, map[string]uint32{"0": crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))})

			done := make(chan struct{})
			var tg *Target
			var err error
			go func() { defer close(done); tg, _, err = d.get(t, final, false, -1) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("get hangs on the planted file")
			}
			if err != nil {
				t.Fatal(err)
			}
			d.checkFinal(t, final)
			checkVictim(t, victim)
			s := tg.Suspect()
			if s == nil || s.Path != partial || s.MovedTo == "" || s.Problem == "" {
				t.Fatalf("suspect %+v, want the planted file set aside", s)
			}
			after, err := os.Lstat(s.MovedTo)
			if err != nil || !os.SameFile(before, after) || after.Mode() != before.Mode() || after.Size() != before.Size() {
				t.Errorf("set aside %v (%v), want the planted file untouched %v", after, err, before)
			}
			if after.Mode().IsRegular() {
				if got, _ := os.ReadFile(s.MovedTo); tc.name != "hard-link-to-victim" && !strings.HasPrefix(planted, string(got)) {
					t.Errorf("the planted file now holds %q", got)
				}
			}
			if got := entries(t, dir); len(got) != 3 {
				t.Errorf("left %q, want the victim's file, the download and the file set aside", got)
			}
		})
	}
}

// TestRecordIsNeverWrittenThrough: the record and its temporary file are
// replaced, never written through, whatever sits at their names, and a
// record that is a link to a pipe, another user's, or larger than a record
// of the download can be, is ignored without reading it.
func TestRecordIsNeverWrittenThrough(t *testing.T) {
	requireRoot(t)
	d := newTestDownload(t)
	for _, tc := range []struct {
		name string
		// plant runs after an interrupted download left a genuine record
		plant      func(t *testing.T, record, victim string)
		wantResume bool
	}{
		{"record-symlink-to-victim", func(t *testing.T, record, victim string) {
			must(t, os.Remove(record))
			must(t, os.Symlink(victim, record))
		}, false},
		{"record-symlink-to-pipe", func(t *testing.T, record, _ string) {
			must(t, os.Remove(record))
			must(t, unix.Mkfifo(record+".fifo", 0o600))
			must(t, os.Symlink(record+".fifo", record))
		}, false},
		{"record-temp-symlink-to-victim", func(t *testing.T, record, victim string) {
			must(t, os.Symlink(victim, strings.TrimSuffix(record, recordSuffix)+recordTmpSuffix))
		}, true},
		{"record-of-another-user", func(t *testing.T, record, _ string) {
			must(t, os.Lchown(record, otherUID, otherUID))
		}, false},
		{"record-padded-past-its-bound", func(t *testing.T, record, _ string) {
			f, err := os.OpenFile(record, os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = f.Write(bytes.Repeat([]byte{' '}, recordFixedMax+testChunks*recordEntryMax))
			must(t, err)
			must(t, f.Close())
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			victim := writeVictim(t, dir)
			final := filepath.Join(dir, "out.bin")
			d.interrupted(t, final)
			tc.plant(t, PartialPath(final)+recordSuffix, victim)

			done := make(chan struct{})
			var tg *Target
			var err error
			go func() { defer close(done); tg, _, err = d.get(t, final, false, -1) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				os.WriteFile(PartialPath(final)+recordSuffix+".fifo", nil, 0) // unblock a reader
				t.Fatal("get hangs on the record")
			}
			if err != nil {
				t.Fatal(err)
			}
			if resumed := tg.Resumed() > 0; resumed != tc.wantResume {
				t.Errorf("resumed %d ranges; want a resume: %v", tg.Resumed(), tc.wantResume)
			}
			d.checkFinal(t, final)
			checkVictim(t, victim)
		})
	}
}

// TestFinalNameSymlink: a symbolic link at the final name is never written
// through: it is refused, or with force replaced by the file itself. Devices
// other than block devices, pipes and sockets are refused too.
func TestFinalNameSymlink(t *testing.T) {
	requireRoot(t)
	d := newTestDownload(t)
	dir := t.TempDir()
	victim := writeVictim(t, dir)
	null := filepath.Join(dir, "null")
	must(t, mknodChar(unix.Mknod, null, unix.Mkdev(1, 3))) // as /dev/null on Linux
	fifo := filepath.Join(dir, "fifo")
	must(t, unix.Mkfifo(fifo, 0o600))

	for _, target := range []string{victim, null, fifo, filepath.Join(dir, "nowhere")} {
		final := filepath.Join(dir, "link-to-"+filepath.Base(target))
		must(t, os.Symlink(target, final))
		if _, _, err := d.get(t, final, false, -1); !errors.Is(err, ErrSymlink) {
			t.Errorf("get to a link to %s: %v, want ErrSymlink", filepath.Base(target), err)
		}
		if fi, err := os.Lstat(final); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link to %s was changed", filepath.Base(target))
		}
	}
	checkVictim(t, victim)
	if got := entries(t, dir); len(got) != 7 {
		t.Errorf("refused downloads left %q", got)
	}

	final := filepath.Join(dir, "link-to-victim.txt")
	if _, _, err := d.get(t, final, true, -1); err != nil {
		t.Fatalf("get --force to a link: %v", err)
	}
	d.checkFinal(t, final)
	checkVictim(t, victim)

	for _, special := range []string{null, fifo} {
		for _, force := range []bool{false, true} {
			if _, _, err := d.get(t, special, force, -1); !errors.Is(err, ErrSpecialFile) {
				t.Errorf("get to %s (force %v): %v, want ErrSpecialFile", filepath.Base(special), force, err)
			}
			if fi, err := os.Lstat(special); err != nil || fi.Mode().IsRegular() {
				t.Errorf("%s was replaced", filepath.Base(special))
			}
		}
	}
}

// TestStickyDirectory: in a directory like /tmp, another user's file under
// the temporary name can be neither used nor moved, and one under the
// record's name (or its temporary name) cannot be replaced. The download
// still completes: into a one-off temporary file, or without a record, so
// that a later run will not resume it. The planted file is untouched and
// nothing is left behind. The download runs as uid 65534 in a child process,
// since root may move anyone's file.
func TestStickyDirectory(t *testing.T) {
	if os.Getenv("OGIVE_TEST_STICKY_CHILD") != "" {
		stickyChild(t)
		return
	}
	requireRoot(t)
	root, bin := childBinary(t)
	for _, planted := range []string{"", recordSuffix, recordTmpSuffix} {
		t.Run("planted"+planted, func(t *testing.T) {
			shared := filepath.Join(root, "shared"+planted)
			must(t, os.Mkdir(shared, 0o755))
			must(t, os.Chmod(shared, os.ModeSticky|0o777))
			final := filepath.Join(shared, "out.bin")
			plantedPath := PartialPath(final) + planted
			must(t, os.WriteFile(plantedPath, []byte("planted by root"), 0o666))
			must(t, os.Chmod(plantedPath, 0o666))

			c := exec.Command(bin, "-test.run", "^TestStickyDirectory$", "-test.v")
			c.Env = append(os.Environ(), "OGIVE_TEST_STICKY_CHILD="+final, "OGIVE_TEST_STICKY_PLANTED="+plantedPath)
			c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: otherUID, Gid: otherUID}}
			out, err := c.CombinedOutput()
			if err != nil {
				t.Fatalf("the download as uid %d: %v\n%s", otherUID, err, out)
			}
			if !strings.Contains(string(out), "not resumable: ") {
				t.Errorf("the child did not report a download without resume:\n%s", out)
			}
			if b, err := os.ReadFile(plantedPath); err != nil || string(b) != "planted by root" {
				t.Errorf("the planted file holds %q (%v)", b, err)
			}
			if got := entries(t, shared); len(got) != 2 {
				t.Errorf("left %q, want the planted file and the download", got)
			}
			fi, err := os.Lstat(final)
			if err != nil || fi.Sys().(*syscall.Stat_t).Uid != otherUID || fi.Mode().Perm() != 0o600 {
				t.Errorf("the download: %v (%v), want a private file of uid %d", fi, err, otherUID)
			}
		})
	}
}

// mknodChar makes the character device dev at path, with the type of device number
// the system's mknod takes.
func mknodChar[D int | uint64](mknod func(string, uint32, D) error, path string, dev uint64) error {
	return mknod(path, unix.S_IFCHR|0o666, D(dev))
}

// stickyChild is TestStickyDirectory's download, as the other user.
func stickyChild(t *testing.T) {
	final := os.Getenv("OGIVE_TEST_STICKY_CHILD")
	planted := os.Getenv("OGIVE_TEST_STICKY_PLANTED")
	d := newTestDownload(t)
	tg, _, err := d.get(t, final, false, -1)
	if err != nil {
		t.Fatal(err)
	}
	d.checkFinal(t, final)
	want := planted // the file that could not be used: the record, for its temporary file
	if strings.HasSuffix(planted, recordTmpSuffix) {
		want = strings.TrimSuffix(planted, recordTmpSuffix) + recordSuffix
	}
	s := tg.Suspect()
	if s == nil || s.Path != want || s.MovedTo != "" || s.Err == nil || tg.record != nil {
		t.Fatalf("suspect %+v, want the planted file left alone and a download without a record", s)
	}
	if planted == PartialPath(final) && !strings.HasPrefix(filepath.Base(s.Using), hashedPrefix) {
		t.Fatalf("downloading into %s, want a one-off file", s.Using)
	}
	fmt.Printf("not resumable: %s, %s (%v), into %s\n", s.Path, s.Problem, s.Err, s.Using)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test plays another user with chown: run it as root, as CI does")
	}
}

// plantFile puts "another user's" file at path.
func plantFile(t *testing.T, path string, mode os.FileMode, uid int) {
	t.Helper()
	must(t, os.WriteFile(path, []byte("planted bytes, never in the archive"), 0o600))
	must(t, os.Lchown(path, uid, uid))
	must(t, os.Chmod(path, mode))
}
