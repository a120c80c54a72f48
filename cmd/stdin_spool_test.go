package cmd_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	fp "github.com/ogive-project/ogive/internal/faultproxy"
)

// openSpoolFiles returns the permission bits of the files this process (the
// in-process ogive) holds open in the upload state directory and that have
// no name there: the spool files of a put of stdin.
func openSpoolFiles(t *testing.T, r *rig) []os.FileMode {
	t.Helper()
	dir := filepath.Join(r.env["XDG_STATE_HOME"], "ogive", "uploads") + "/"
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	var modes []os.FileMode
	for _, fd := range fds {
		link := "/proc/self/fd/" + fd.Name()
		target, err := os.Readlink(link)
		// The lock of the storage ID is a named file there too.
		if err != nil || !strings.HasPrefix(target, dir) || !strings.HasSuffix(target, " (deleted)") {
			continue
		}
		if st, err := os.Stat(link); err == nil && st.Mode().IsRegular() {
			modes = append(modes, st.Mode().Perm())
		}
	}
	return modes
}

// getStdout downloads a STANDARD archive to stdout.
func (r *rig) getStdout(t *testing.T, id string) []byte {
	t.Helper()
	r.proxy.SetRules()
	res := r.ogive("", "get", "--password-file", r.pwFile, id, "-")
	if res.code != 0 {
		t.Fatalf("get %s: %s", id, res)
	}
	return []byte(res.stdout)
}

// TestStdinPutSpooled: "echo data | ogive put --name x -" stores the data
// with one request; a stream of several parts is stored whole, its second
// part sent from a spool file that only the user can read, and sent again
// from it after the connection is reset mid-body; afterwards no spool file
// is open and the state directory is empty.
func TestStdinPutSpooled(t *testing.T) {
	r := newRig(t, rigOptions{})
	res := r.ogive("data\n", "put", "--password-file", r.pwFile, "--storage-class", "STANDARD", "--name", "x", "-")
	if res.code != 0 {
		t.Fatalf("echo data | ogive put --name x -: %s", res)
	}
	if got := r.getStdout(t, strings.TrimSpace(res.stdout)); string(got) != "data\n" {
		t.Fatalf("got %q back", got)
	}

	data := randomBytes(t, 17<<20+12345) // a part of 16 MiB in memory, one spooled
	var mu sync.Mutex
	var seen []os.FileMode
	secondPart := func(req *http.Request) bool {
		if !isUploadPart(req) || req.URL.Query().Get("partNumber") != "2" {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, openSpoolFiles(t, r)...)
		return true
	}
	r.proxy.SetRules(fp.Rule{Fault: fp.ResetRequest, Match: secondPart, Limit: 1})
	res = r.ogive(string(data), "put", "--password-file", r.pwFile, "--storage-class", "STANDARD", "--name", "big.bin", "-")
	if res.code != 0 {
		t.Fatalf("put of stdin with part 2 reset: %s", res)
	}
	if n := r.proxy.Injected(fp.ResetRequest); n != 1 {
		t.Fatalf("%d resets, want 1", n)
	}
	mu.Lock()
	if len(seen) < 2 {
		t.Errorf("spool files open as part 2 was sent twice: %v, want one each time", seen)
	}
	for _, m := range seen {
		if m&0o077 != 0 {
			t.Errorf("a spool file had mode %v", m)
		}
	}
	mu.Unlock()
	if got := r.getStdout(t, strings.TrimSpace(res.stdout)); !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes back, not the %d put", len(got), len(data))
	}
	if open := openSpoolFiles(t, r); len(open) != 0 {
		t.Errorf("spool files still open: %v", open)
	}
	if files := stateFiles(t, r); len(files) != 0 {
		t.Errorf("left in the state directory: %v", files)
	}
	if objects, uploads := bucketState(t, r); objects != 2 || uploads != 0 {
		t.Errorf("%d objects and %d unfinished uploads, want 2 and 0", objects, uploads)
	}
}

// TestStdinPutInterruptedLeavesNoSpool interrupts a put of stdin (as Ctrl-C
// does: main cancels the context) while its spooled second part is in
// flight: it ends interrupted, with no spool file open, nothing in the state
// directory and its upload aborted.
func TestStdinPutInterruptedLeavesNoSpool(t *testing.T) {
	r := newRig(t, rigOptions{})
	secondPart := func(req *http.Request) bool { return isUploadPart(req) && req.URL.Query().Get("partNumber") == "2" }
	r.proxy.SetRules(fp.Rule{Fault: fp.Throttle, Match: secondPart, Limit: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- r.ogiveCtx(ctx, string(randomBytes(t, 40<<20)), "put", "--password-file", r.pwFile, "--name", "big.bin", "-")
	}()
	waitFor(t, "part 2 to be sent", func() bool { return r.proxy.Injected(fp.Throttle) > 0 })
	if len(openSpoolFiles(t, r)) == 0 {
		t.Error("no spool file open while part 2 is sent")
	}
	cancel()
	res := <-done
	if res.code != 130 {
		t.Fatalf("interrupted put of stdin: %s", res)
	}
	r.proxy.SetRules()
	if open := openSpoolFiles(t, r); len(open) != 0 {
		t.Errorf("spool files still open: %v", open)
	}
	if files := stateFiles(t, r); len(files) != 0 {
		t.Errorf("left in the state directory: %v", files)
	}
	if objects, uploads := bucketState(t, r); objects != 0 || uploads != 0 {
		t.Errorf("%d objects and %d unfinished uploads, want none", objects, uploads)
	}
}

// TestExpectedSize: --expected-size takes bytes or units of 1024; a bad
// value is a usage error, and a size S3 cannot hold, or the flag without
// stdin, fails with one line before any request; a stream longer than
// declared fails and leaves nothing in the bucket; one as declared is
// stored.
func TestExpectedSize(t *testing.T) {
	r := newRig(t, rigOptions{})
	file := r.write("f.txt", []byte("file"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--expected-size", "-1", "-"}, `ogive: --expected-size "-1": give a size in bytes, or with a unit of 1024 bytes: 500G, 2T, 1.5T` + "\nhint: run 'ogive --help' for usage\n"},
		{[]string{"--expected-size", "abc", "-"}, `ogive: --expected-size "abc": give a size`},
		{[]string{"--expected-size", "5X", "-"}, `ogive: --expected-size "5X": give a size`},
		{[]string{"--expected-size", "1.5", "-"}, `ogive: --expected-size "1.5": give a size`},
		{[]string{"--expected-size", "99999999999P", "-"}, `ogive: --expected-size "99999999999P": too large a number` + "\nhint: run 'ogive --help' for usage\n"},
		{[]string{"--expected-size", "49T", "-"}, "ogive: --expected-size 49T: too large for S3: 53,876,069,761,024 bytes, and the largest archive S3 can hold is 53,660,876,799,999 bytes (48.8 TiB: 10,000 parts of at most 5 GiB)\n"},
		{[]string{"--expected-size", "53660876865535", "-"}, "ogive: --expected-size 53660876865535: too large for S3: 53,660,876,865,535 bytes"},
		{[]string{"--expected-size", "1G", file}, `ogive: --expected-size is the size of stdin ("-"), which is not among the files to put`},
	} {
		res := r.ogive("data", append([]string{"put", "--password-file", r.pwFile, "--name", "x"}, c.args...)...)
		if res.code != 1 || !strings.HasPrefix(res.stderr, c.want) || !oneError.MatchString(res.stderr) || strings.Count(res.stderr, "\n") > 2 {
			t.Errorf("put %v: %s\nwant stderr beginning %q", c.args, res, c.want)
		}
	}
	if objects, uploads := bucketState(t, r); objects != 0 || uploads != 0 {
		t.Fatalf("%d objects and %d uploads after refused puts", objects, uploads)
	}

	// Declared 16 MiB, given 40: refused as the second part is read.
	res := r.ogive(string(randomBytes(t, 40<<20)), "put", "--password-file", r.pwFile, "--name", "x", "--expected-size", "16M", "-")
	if res.code != 1 || !strings.Contains(res.stderr, "the stream is longer than its expected size: more than 16,777,216 bytes") || !oneError.MatchString(res.stderr) {
		t.Errorf("a stream longer than declared: %s", res)
	}
	if objects, uploads := bucketState(t, r); objects != 0 || uploads != 0 {
		t.Errorf("%d objects and %d uploads after a stream longer than declared", objects, uploads)
	}
	if files := stateFiles(t, r); len(files) != 0 {
		t.Errorf("left in the state directory: %v", files)
	}

	// Declared exactly, in units.
	data := randomBytes(t, 20<<20)
	res = r.ogive(string(data), "put", "--password-file", r.pwFile, "--storage-class", "STANDARD", "--name", "x", "--expected-size", "20MiB", "-")
	if res.code != 0 {
		t.Fatalf("a stream as declared: %s", res)
	}
	if got := r.getStdout(t, strings.TrimSpace(res.stdout)); !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes back, not the %d put", len(got), len(data))
	}
}
