package archive

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const exchangedText = "never archived\n"

// TestCommitFinalNameExchangedAfterLink: another local user who can write the
// download directory (not sticky) watches it with inotify and, as soon as
// Commit links the plaintext to the final name (or, with force, to its fresh
// name), exchanges that name with a 0666 file of their own. Someone who can
// write a directory can always leave their file under any name in it; what
// get must never do is report success when the final name does not hold the
// plaintext at its last check, or leave the plaintext behind under a name
// that user chose. After a refused Commit, no name in the directory holds the
// plaintext, and the user's file that --force was to replace is gone only if
// the final name holds the plaintext.
func TestCommitFinalNameExchangedAfterLink(t *testing.T) {
	if os.Getenv("OGIVE_EXCHANGE_DIR") != "" {
		exchanger(os.Getenv("OGIVE_EXCHANGE_DIR"))
		return
	}
	requireRoot(t)
	root, bin := childBinary(t)
	shared := filepath.Join(root, "shared")
	must(t, os.Mkdir(shared, 0o777))
	must(t, os.Chmod(shared, 0o777)) // writable by others, not sticky
	c := exec.Command(bin, "-test.run", "^TestCommitFinalNameExchangedAfterLink$")
	c.Env = append(os.Environ(), "OGIVE_EXCHANGE_DIR="+shared)
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: otherUID, Gid: otherUID}}
	c.Stderr = os.Stderr
	must(t, c.Start())
	defer func() {
		os.WriteFile(filepath.Join(shared, "stop"), nil, 0o644)
		c.Process.Kill()
		c.Wait()
	}()
	time.Sleep(300 * time.Millisecond) // the watcher sets up inotify

	d := newTestDownload(t)
	final := filepath.Join(shared, "out.bin")
	refused := 0
	for i := range 60 {
		force := i%2 == 1
		if force {
			must(t, os.WriteFile(final+".new", []byte("the user's old file\n"), 0o600))
			must(t, os.Rename(final+".new", final)) // no IN_CREATE of out.bin
		}
		err := d.downloaded(t, final, force).Commit()
		got, _ := os.ReadFile(final)
		if err != nil && !errors.Is(err, ErrTempReplaced) {
			t.Fatalf("iteration %d: %v", i, err)
		}
		if err != nil {
			refused++
			ents, _ := os.ReadDir(shared)
			for _, e := range ents {
				if b, _ := os.ReadFile(filepath.Join(shared, e.Name())); len(b) > 0 && bytes.Equal(b, d.plain) {
					t.Fatalf("iteration %d: refused (%v), but %s holds the plaintext", i, err, e.Name())
				}
			}
		} else if !bytes.Equal(got, d.plain) && string(got) != exchangedText {
			t.Fatalf("iteration %d: Commit succeeded and %s holds %q", i, final, got)
		}
		ents, _ := os.ReadDir(shared)
		for _, e := range ents {
			if e.Name() != "stop" {
				os.Remove(filepath.Join(shared, e.Name()))
			}
		}
	}
	if refused == 0 {
		t.Fatal("the exchanger never struck: the test proved nothing")
	}
}

// exchanger is the other user: on every file created under the final name or
// a fresh name, it exchanges that name with its own 0666 file.
func exchanger(dir string) {
	fd, err := unix.InotifyInit1(0)
	if err != nil {
		panic(err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE); err != nil {
		panic(err)
	}
	evil := filepath.Join(dir, "evil")
	partial := filepath.Base(PartialPath(filepath.Join(dir, "out.bin")))
	buf := make([]byte, 64<<10)
	for {
		if _, err := os.Lstat(evil); errors.Is(err, os.ErrNotExist) {
			os.WriteFile(evil, []byte(exchangedText), 0o666)
			os.Chmod(evil, 0o666)
		}
		n, err := unix.Read(fd, buf)
		if err != nil {
			return
		}
		for off := 0; off < n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)], "\x00"))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if name == "stop" {
				return
			}
			if name == "out.bin" || strings.HasPrefix(name, hashedPrefix) && name != partial {
				unix.Renameat2(unix.AT_FDCWD, filepath.Join(dir, name), unix.AT_FDCWD, evil, unix.RENAME_EXCHANGE)
			}
		}
	}
}
