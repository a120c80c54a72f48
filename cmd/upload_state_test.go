package cmd_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	fp "github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
)

// stateFiles lists every file under the rig's state directory.
func stateFiles(t *testing.T, r *rig) []string {
	t.Helper()
	var files []string
	if _, err := os.Stat(r.env["XDG_STATE_HOME"]); err != nil {
		return nil
	}
	walkFiles(t, r.env["XDG_STATE_HOME"], func(path string, _ []byte) { files = append(files, path) })
	return files
}

// bucketState counts the objects and unfinished uploads in the rig's bucket.
func bucketState(t *testing.T, r *rig) (objects, uploads int) {
	t.Helper()
	s := r.directStore()
	ctx := context.Background()
	if err := s.List(ctx, func(object.Info) error { objects++; return nil }); err != nil {
		t.Fatal(err)
	}
	ups, err := s.ListUploads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return objects, len(ups)
}

// TestConcurrentPutsOfOneFile runs a put of a file in the real binary, its
// first part slowed down, and meanwhile a second put of the same file and an
// "uploads --abort": both refuse at once, naming the first one's pid. The
// first completes, and nothing is left: no unfinished upload, no record, no
// lock file.
func TestConcurrentPutsOfOneFile(t *testing.T) {
	r := newRig(t, rigOptions{})
	bin := buildOgive(t)
	path := r.write("nightly.tar", randomBytes(t, 17<<20)) // two parts
	// Part 1 (16 MiB) crawls at 2 MiB/s: eight seconds for the others to try.
	firstPart := func(req *http.Request) bool { return isUploadPart(req) && req.URL.Query().Get("partNumber") == "1" }
	r.proxy.SetRules(fp.Rule{Fault: fp.Throttle, Match: firstPart, Limit: 1})
	throttled := r.proxy.Injected(fp.Throttle)
	first := r.start(t, bin, nil, "put", "--password-file", r.pwFile, path)
	waitFor(t, "the first put to send a part", func() bool { return r.proxy.Injected(fp.Throttle) > throttled })

	pid := strconv.Itoa(first.cmd.Process.Pid)
	want := "another ogive (pid " + pid + ") is uploading " + path
	second := r.ogive("", "put", "--password-file", r.pwFile, path)
	if second.code != 1 || !strings.Contains(second.stderr, "ogive: "+want+"\n") || second.stdout != "" {
		t.Fatalf("second put: %s", second)
	}
	if !strings.Contains(second.stderr, "hint: wait until it is done") {
		t.Errorf("no hint: %s", second.stderr)
	}
	if second.took > 10*time.Second {
		t.Errorf("the second put took %v to refuse", second.took)
	}
	abort := r.ogive("", "uploads", "--abort", "--password-file", r.pwFile)
	if abort.code != 1 || !strings.Contains(abort.stderr, "not aborting the upload of nightly.tar") ||
		!strings.Contains(abort.stderr, want) {
		t.Fatalf("uploads --abort during the put: %s", abort)
	}
	if _, uploads := bucketState(t, r); uploads != 1 {
		t.Fatalf("%d unfinished uploads while the first put runs, want its own", uploads)
	}

	select {
	case <-first.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the first put did not finish: %s", first.stderr.String())
	}
	if code := first.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("first put: exit %d: %s", code, first.stderr.String())
	}
	ids := strings.Fields(first.stdout.String())
	if len(ids) != 1 {
		t.Fatalf("first put printed %q", first.stdout.String())
	}
	if res := r.ogive("", "uploads", "--password-file", r.pwFile); res.code != 0 || res.stdout != "" ||
		!strings.Contains(res.stderr, "No unfinished uploads.") {
		t.Errorf("uploads afterwards: %s", res)
	}
	if objects, uploads := bucketState(t, r); objects != 1 || uploads != 0 {
		t.Errorf("%d objects and %d unfinished uploads, want 1 and 0", objects, uploads)
	}
	if files := stateFiles(t, r); len(files) != 0 {
		t.Errorf("left in the state directory: %v", files)
	}
}

// TestPutNeedsAStateDirectory: with neither HOME nor XDG_STATE_HOME, a put of
// a file fails at once with a clear message and uploads nothing; stdin, which
// never resumes, still goes.
func TestPutNeedsAStateDirectory(t *testing.T) {
	r := newRig(t, rigOptions{})
	path := r.write("a.bin", randomBytes(t, 1000))
	env := r.env
	r.env = map[string]string{"OGIVE_PROFILE": env["OGIVE_PROFILE"]}
	defer func() { r.env = env }()

	res := r.ogive("", "put", "--password-file", r.pwFile, path)
	if res.code != 1 || !strings.HasPrefix(res.stderr, "ogive: no directory for upload state: set HOME or XDG_STATE_HOME\n") {
		t.Fatalf("put without HOME: %s", res)
	}
	if objects, uploads := bucketState(t, r); objects != 0 || uploads != 0 {
		t.Fatalf("%d objects and %d uploads after the refused put", objects, uploads)
	}
	if _, err := os.Stat(filepath.Join(os.TempDir(), "ogive-state")); err == nil {
		t.Errorf("%s exists: a fallback was used", filepath.Join(os.TempDir(), "ogive-state"))
	}
	res = r.ogive("piped data", "put", "--password-file", r.pwFile, "--name", "p.txt", "-")
	if res.code != 0 {
		t.Fatalf("put of stdin without HOME: %s", res)
	}
	// Relative values are ignored: they would depend on the working directory.
	r.env["HOME"] = "home"
	r.env["XDG_STATE_HOME"] = "state"
	if res := r.ogive("", "put", "--password-file", r.pwFile, path); res.code != 1 || !strings.Contains(res.stderr, "no directory for upload state") {
		t.Fatalf("put with relative HOME and XDG_STATE_HOME: %s", res)
	}
}

// TestUnsafeStateDirectoryIsRefused: a state directory (or its ogive parent)
// that group or others may write, or that another user owns, is refused with
// a message naming it and a hint, before anything is uploaded.
func TestUnsafeStateDirectoryIsRefused(t *testing.T) {
	r := newRig(t, rigOptions{})
	path := r.write("a.bin", randomBytes(t, 1000))
	ogiveDir := filepath.Join(r.env["XDG_STATE_HOME"], "ogive")
	uploads := filepath.Join(ogiveDir, "uploads")
	if err := os.MkdirAll(uploads, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		mode      os.FileMode
		owner     int
		msg, hint string
	}{
		{"uploads 0777", uploads, 0o777, -1, "its mode 0777 lets group or others write to it", "hint: make it private: chmod 700 " + uploads},
		{"ogive 0775", ogiveDir, 0o775, -1, "its mode 0775 lets group or others write to it", "hint: make it private: chmod 700 " + ogiveDir},
		{"uploads of uid 65534", uploads, 0o700, 65534, "it belongs to uid 65534, not to you (uid " + strconv.Itoa(os.Geteuid()) + ")",
			"hint: if it is yours, chown -R " + strconv.Itoa(os.Geteuid()) + " " + uploads},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Chmod(tc.dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.owner >= 0 {
				if err := os.Lchown(tc.dir, tc.owner, tc.owner); err != nil {
					t.Skipf("cannot chown (not root?): %v", err)
				}
			}
			defer func() {
				os.Chmod(tc.dir, 0o700)
				os.Lchown(tc.dir, os.Geteuid(), os.Getegid())
			}()
			res := r.ogive("", "put", "--password-file", r.pwFile, path)
			want := "ogive: refusing the upload state directory " + tc.dir + ": " + tc.msg + "\n"
			if res.code != 1 || !strings.HasPrefix(res.stderr, want) || !strings.Contains(res.stderr, tc.hint) {
				t.Fatalf("put: %s\nwant %q and %q", res, want, tc.hint)
			}
			if objects, uploads := bucketState(t, r); objects != 0 || uploads != 0 {
				t.Fatalf("%d objects and %d uploads after the refused put", objects, uploads)
			}
		})
	}
	if res := r.ogive("", "put", "--password-file", r.pwFile, path); res.code != 0 {
		t.Fatalf("put once the directory is private again: %s", res)
	}
}
