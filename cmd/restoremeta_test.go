//go:build linux

package cmd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ogiveUnderUmask runs the built ogive with the rig's environment under umask, as a
// user's shell would.
func (r *rig) ogiveUnderUmask(t *testing.T, umask string, args ...string) (string, int) {
	t.Helper()
	c := exec.Command("/bin/sh", append([]string{"-c", "umask " + umask + " && exec \"$0\" \"$@\"", buildOgive(t)}, args...)...)
	c.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range r.env {
		c.Env = append(c.Env, k+"="+v)
	}
	c.Dir = r.dir
	out, err := c.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// TestGetMasksModeWithUmask: a user whose umask is 077 gets an archive of a 0666 file
// into a directory others can enter (like /tmp): the file comes back 0600, as tar
// would restore it, not readable and writable by every local user. Under umask 022
// the same archive comes back 0644.
func TestGetMasksModeWithUmask(t *testing.T) {
	r := newRig(t, rigOptions{})
	p := r.write("notes.txt", []byte("private notes\n"))
	if err := os.Chmod(p, 0o666); err != nil { // written by a program under umask 0
		t.Fatal(err)
	}
	id := r.put(p)[0]
	r.restoreAll(id)

	for _, c := range []struct {
		umask string
		want  os.FileMode
	}{{"077", 0o600}, {"022", 0o644}} {
		shared := r.mkdir("shared" + c.umask)
		if err := os.Chmod(shared, 0o1777); err != nil {
			t.Fatal(err)
		}
		if out, code := r.ogiveUnderUmask(t, c.umask, "get", "--password-file", r.pwFile, id, shared); code != 0 {
			t.Fatalf("get: exit %d: %s", code, out)
		}
		st, err := os.Stat(filepath.Join(shared, "notes.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != c.want {
			t.Errorf("a 0666 archive restored under umask %s is %v, want %v", c.umask, st.Mode(), c.want)
		}
	}
}

// TestPutGetYearOneMTime: a file whose modification time is 0001-01-01T00:00:00Z (the
// zero time.Time; another local user can give a file of theirs that time on tmpfs) is
// archived like any other, and get gives it back that time.
func TestPutGetYearOneMTime(t *testing.T) {
	r := newRig(t, rigOptions{})
	dir, err := os.MkdirTemp("/dev/shm", "ogive-test-")
	if err != nil {
		t.Skip("no tmpfs at /dev/shm:", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "shared.log")
	if err := os.WriteFile(p, []byte("log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	zero := time.Time{}
	if err := unix.UtimesNano(p, []unix.Timespec{{Sec: zero.Unix()}, {Sec: zero.Unix()}}); err != nil {
		t.Skip("cannot set a year-1 time:", err)
	}
	if st, err := os.Stat(p); err != nil || !st.ModTime().IsZero() {
		t.Skip("the file system clamps times before 1901")
	}
	res := r.ogive("", "put", "--password-file", r.pwFile, p)
	if res.code != 0 {
		t.Fatalf("put of a file with a year-1 time fails: %s", res)
	}
	id := strings.TrimSpace(res.stdout)
	r.restoreAll(id)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	if res := r.ogive("", "get", "--password-file", r.pwFile, id, out); res.code != 0 {
		t.Fatalf("get: %s", res)
	}
	st, err := os.Stat(filepath.Join(out, "shared.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !st.ModTime().IsZero() {
		t.Errorf("the file comes back with time %v, want 0001-01-01T00:00:00Z", st.ModTime().UTC())
	}
}
