package cmd_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/ogive-project/ogive/object"
)

// TestBadInput runs each mistake a user can make, and each broken
// environment, and checks the documented exit code, a one-line error that
// names the problem, the hint where one helps, and that nothing was lost or
// half-written: the profile, the destination and the bucket are as before.
func TestBadInput(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	srv := r.srv
	data := []byte("the data to keep\n")
	src := r.write("data.txt", data)
	ids := r.put(src)
	r.restoreAll(ids[0])
	id := ids[0]

	// Another profile, with its own master key, on the same bucket.
	other := filepath.Join(r.dir, "other.profile")
	if res := r.ogive(srv.AccessKey+"\n"+srv.SecretKey+"\n", "init", "-p", other, "--password-file", r.pwFile,
		"--bucket", srv.Bucket, "--region", srv.Region, "--endpoint", r.proxy.URL, "--prefix", r.prefix); res.code != 0 {
		t.Fatalf("init other: %s", res)
	}
	res := r.ogive("", "put", "-p", other, "--password-file", r.pwFile, src)
	if res.code != 0 {
		t.Fatalf("put with other: %s", res)
	}
	otherID := strings.TrimSpace(res.stdout)

	// An archive of this profile whose object is gone.
	gone := r.put(r.write("gone.txt", []byte("deleted behind ogive's back\n")))[0]
	if err := r.directStore().Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}

	// Profiles that are broken, or point at what does not work.
	good, err := os.ReadFile(r.profile)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x20
	badProfiles := map[string][]byte{
		"corrupt":   flipped,
		"truncated": good[:len(good)/2],
		"empty":     {},
		"foreign":   []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"),
		"random":    randomBytes(t, 300),
	}
	for name, body := range badProfiles {
		r.write(name+".profile", body)
	}
	r.write("loose.profile", good)
	if err := os.Chmod(filepath.Join(r.dir, "loose.profile"), 0o644); err != nil {
		t.Fatal(err)
	}
	initProfile := func(name, bucket, endpoint, keyID, secret string) {
		res := r.ogive(keyID+"\n"+secret+"\n", "init", "-p", filepath.Join(r.dir, name), "--password-file", r.pwFile,
			"--bucket", bucket, "--region", srv.Region, "--endpoint", endpoint, "--prefix", r.prefix, "--no-check")
		if res.code != 0 {
			t.Fatalf("init %s: %s", name, res)
		}
	}
	initProfile("nobucket.profile", "no-such-bucket", r.proxy.URL, srv.AccessKey, srv.SecretKey)
	initProfile("badkey.profile", srv.Bucket, r.proxy.URL, srv.AccessKey, "not-the-secret-key-0123456789")
	initProfile("unknownkey.profile", srv.Bucket, r.proxy.URL, "AKIANOSUCHKEY0000000", srv.SecretKey)
	initProfile("down.profile", srv.Bucket, "http://127.0.0.1:1", srv.AccessKey, srv.SecretKey)

	wrongPw := r.write("wrong.pw", []byte("not-the-password\n"))
	emptyPw := r.write("empty.pw", []byte("\n"))
	notDir := r.write("a-file", []byte("I am a file\n"))
	fifo := filepath.Join(r.dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	existing := r.mkdir("existing")
	linkToDir := filepath.Join(r.dir, "link-to-existing")
	if err := os.Symlink(existing, linkToDir); err != nil {
		t.Fatal(err)
	}
	r.write("existing/data.txt", []byte("do not lose me\n"))
	immutable := r.mkdir("immutable")
	if out, err := exec.Command("chattr", "+i", immutable).CombinedOutput(); err != nil {
		t.Fatalf("chattr +i (root on ext4 or tmpfs): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", immutable).Run() })
	p := func(name string) string { return filepath.Join(r.dir, name) }

	type tc struct {
		name string
		args []string
		code int
		msg  string // must be in the error line
		hint string // must be in the hint line; "" means no hint is required
	}
	get := func(extra ...string) []string {
		return append([]string{"get", "--password-file", r.pwFile}, extra...)
	}
	cases := []tc{
		{"password/wrong", []string{"list", "--password-file", wrongPw}, 1, "wrong password", "password does not open this profile"},
		{"password/empty", []string{"list", "--password-file", emptyPw}, 1, "empty password", "password"},
		{"profile/corrupt", []string{"list", "-p", p("corrupt.profile"), "--password-file", r.pwFile}, 1, "profile is corrupt", "backup"},
		{"profile/truncated", []string{"list", "-p", p("truncated.profile"), "--password-file", r.pwFile}, 1, "profile is corrupt", "backup"},
		{"profile/empty", []string{"list", "-p", p("empty.profile"), "--password-file", r.pwFile}, 1, "profile is corrupt", "backup"},
		{"profile/foreign", []string{"list", "-p", p("foreign.profile"), "--password-file", r.pwFile}, 1, "not an ogive profile", "backup"},
		{"profile/random", []string{"list", "-p", p("random.profile"), "--password-file", r.pwFile}, 1, "profile is corrupt", "backup"},
		{"profile/permissions", []string{"list", "-p", p("loose.profile"), "--password-file", r.pwFile}, 1, "mode 0644", "chmod 600"},
		{"profile/missing", []string{"list", "-p", p("missing.profile"), "--password-file", r.pwFile}, 1, "profile does not exist", "ogive init"},
		{"profile/is-a-directory", []string{"list", "-p", existing, "--password-file", r.pwFile}, 1, "not a regular file", ""},
		{"id/unknown", get(gone, existing), 1, "object not found", "ogive list"},
		{"id/unknown-head", []string{"head", "--password-file", r.pwFile, gone}, 1, "object not found", "ogive list"},
		{"id/unknown-restore", []string{"restore", "--password-file", r.pwFile, gone}, 1, "object not found", "ogive list"},
		{"id/malformed", get("not-a-storage-id!", existing), 1, "not-a-storage-id!", "not a storage ID of this profile"},
		{"id/too-long", get(strings.Repeat("A", 2000), existing), 1, "storage ID", "not a storage ID of this profile"},
		{"id/other-profile", get(otherID, existing), 1, otherID, "not a storage ID of this profile"},
		{"id/other-profile-restore", []string{"restore", "--password-file", r.pwFile, otherID}, 1, otherID, "not a storage ID of this profile"},
		{"destination/missing", get(id, p("no-such-dir")), 1, "no-such-dir does not exist", "-o no-such-dir"},
		{"destination/under-a-file", get(id, notDir+"/sub"), 1, "not a directory", ""},
		{"destination/is-a-file", get(id, notDir), 1, "is not a directory", ""},
		{"destination/not-writable", get(id, immutable), 1, "operation not permitted", ""},
		{"destination/exists", get(id, existing), 1, "already exists", "--force"},
		{"source/missing", []string{"put", "--password-file", r.pwFile, p("no-such-file")}, 1, "no such file", ""},
		{"source/link-to-directory", []string{"put", "--password-file", r.pwFile, linkToDir}, 1, "is a symbolic link to a directory, which put does not follow: give the directory itself", ""},
		{"source/fifo", []string{"put", "--password-file", r.pwFile, fifo}, 1, "not a regular file", ""},
		{"bucket/missing", []string{"list", "-p", p("nobucket.profile"), "--password-file", r.pwFile}, 1, "bucket does not exist", "bucket name"},
		{"credentials/wrong-secret", []string{"list", "-p", p("badkey.profile"), "--password-file", r.pwFile}, 1, "credentials rejected", "AWS access key"},
		{"credentials/unknown-key", []string{"list", "-p", p("unknownkey.profile"), "--password-file", r.pwFile}, 1, "credentials rejected", "AWS access key"},
		{"endpoint/down", []string{"list", "-p", p("down.profile"), "--password-file", r.pwFile}, 1, "connection refused", "endpoint"},
		{"endpoint/down-put", []string{"put", "-p", p("down.profile"), "--password-file", r.pwFile, src}, 1, "connection refused", "endpoint"},
	}
	// Root reads any file whatever its mode; a write-only sysctl file stays
	// unreadable even to root, so it stands for an unreadable source.
	if st, err := os.Stat("/proc/sys/vm/compact_memory"); err == nil && st.Mode().Perm()&0o444 == 0 {
		cases = append(cases, tc{"source/unreadable", []string{"put", "--password-file", r.pwFile, "/proc/sys/vm/compact_memory"}, 1, "permission denied", ""})
	}

	fingerprint := func() string {
		h := sha256.New()
		walkFiles(t, r.dir, func(path string, data []byte) {
			h.Write([]byte(path))
			h.Write(data)
		})
		n := 0
		if err := r.directStore().List(ctx, func(object.Info) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		h.Write([]byte{byte(n)})
		return string(h.Sum(nil))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := fingerprint()
			res := r.ogive("", c.args...)
			t.Logf("%s", res)
			if res.code != c.code {
				t.Errorf("exit %d, want %d", res.code, c.code)
			}
			if !oneError.MatchString(res.stderr) || strings.Count(res.stderr, "ogive: ") != 1 {
				t.Errorf("stderr is not one error line and an optional hint: %q", res.stderr)
			}
			if !strings.Contains(res.stderr, c.msg) {
				t.Errorf("the error does not say %q: %q", c.msg, res.stderr)
			}
			if c.hint != "" && !regexp.MustCompile(`\nhint: [^\n]*`+regexp.QuoteMeta(c.hint)).MatchString("\n"+res.stderr) {
				t.Errorf("no hint mentioning %q: %q", c.hint, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout: %q", res.stdout)
			}
			if fingerprint() != before {
				t.Errorf("the work directory or the bucket changed")
			}
		})
	}

	t.Run("disk-full", func(t *testing.T) { diskFull(t, r, id, data) })
}

// diskFull runs the real binary with RLIMIT_FSIZE below the file's size, so
// that writing the download fails with EFBIG, as on a full disk. Go
// ignores SIGXFSZ, so the write returns an error instead of killing ogive.
func diskFull(t *testing.T, r *rig, id string, data []byte) {
	bin := buildOgive(t)
	big := randomBytes(t, 3<<20)
	bigID := r.put(r.write("big.bin", big))[0]
	r.restoreAll(bigID)
	out := r.mkdir("full")
	// ulimit -f counts 512-byte blocks (POSIX) in dash and bash alike: 1 MiB.
	cmd := exec.Command("sh", "-c", `ulimit -f 2048 && exec "$0" "$@"`, bin, "get", "--password-file", r.pwFile, bigID, out)
	cmd.Env = append(os.Environ(), "OGIVE_PROFILE="+r.profile, "HOME="+r.dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	t.Logf("exit %d (%v): %s", code, err, stderr.String())
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !oneError.MatchString(stderr.String()) || !strings.Contains(stderr.String(), "file too large") ||
		!strings.Contains(stderr.String(), "hint: the disk has no room") {
		t.Errorf("stderr does not say the file could not be written: %q", stderr.String())
	}
	// Nothing under the final name; what authenticated stays hidden beside
	// it, for the next run to resume.
	for _, name := range entries(t, out) {
		if !strings.HasPrefix(name, ".big.bin.ogive-partial") {
			t.Errorf("a full disk left %q", name)
		}
	}
	if !strings.Contains(stderr.String(), "the same command resumes it") {
		t.Errorf("stderr does not say the download can resume: %q", stderr.String())
	}
	// The same download fits without the limit, and resumes.
	if res := r.ogive("", "get", "--password-file", r.pwFile, bigID, out); res.code != 0 {
		t.Fatalf("get without the limit: %s", res)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "big.bin")); !bytes.Equal(got, big) {
		t.Error("the download differs from what was put")
	}
}
