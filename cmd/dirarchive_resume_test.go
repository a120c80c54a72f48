package cmd_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/cmd"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/internal/s3local"
	"github.com/ogive-project/ogive/tree"
)

// TestDirArchiveResumeAfterSIGKILL: a put of a directory killed with
// SIGKILL half-way is followed by a run that sends only the rest (the half
// left and the part the kill cut short), and the archive extracts to the same tree.
func TestDirArchiveResumeAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	srv, err := s3local.Start(context.Background(), s3local.Options{
		Dir: t.TempDir(), Bucket: "ogive-dir-resume",
		Tiers: map[string]time.Duration{"Bulk": time.Second, "Standard": time.Second}, Day: time.Hour,
	})
	if err != nil {
		t.Fatalf("start the local Deep Archive server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	m := startMeter(t, srv.Endpoint, 64<<20)
	env := map[string]string{"HOME": dir, "OGIVE_PROFILE": filepath.Join(dir, "profile"),
		"XDG_STATE_HOME": filepath.Join(dir, "state"), "OGIVE_PASSWORD_FILE": filepath.Join(dir, "pw"),
		"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}
	if err := os.WriteFile(env["OGIVE_PASSWORD_FILE"], []byte("correct-horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result {
		var out, errb bytes.Buffer
		f := &cmd.Factory{In: strings.NewReader(""), Out: &out, Err: &errb,
			Getenv: func(k string) string { return env[k] }, KDF: testKDF, Terminal: noTerminal{},
			NewStore: defaultStore}
		code := cmd.Main(context.Background(), f, args...)
		return result{stdout: out.String(), stderr: errb.String(), code: code}
	}
	if res := run("init", "--bucket", srv.Bucket, "--region", srv.Region, "--endpoint", m.url); res.code != 0 {
		t.Fatalf("init: %s", res)
	}
	root := filepath.Join(dir, "music")
	for i := range 24 {
		p := filepath.Join(root, "album"+string(rune('a'+i%4)), "track"+string(rune('a'+i))+".flac")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, randomBytes(t, 5<<20+i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := tree.Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	cipher := crypt.EncryptedSize(tr.Size())

	bin := buildOgive(t)
	c := exec.Command(bin, "put", "--concurrency", "1", root)
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	c.Env = append(c.Env, "PATH="+os.Getenv("PATH"))
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for m.sent.Load() < cipher/2 {
		if time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatalf("put never got half-way: %s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Process.Signal(syscall.SIGKILL)
	c.Wait()

	before := m.sent.Load()
	res := run("put", "--concurrency", "2", root)
	if res.code != 0 {
		t.Fatalf("second put: %s", res)
	}
	resent := m.sent.Load() - before
	t.Logf("the second put sent %d of %d bytes (%.0f%%)", resent, cipher, 100*float64(resent)/float64(cipher))
	// Half was sent, but for the one part (of 16 MiB) the kill cut short.
	if limit := cipher/2 + archive.PartSize(cipher); resent > limit {
		t.Errorf("the second put sent %d of %d bytes, more than the half left and one part (%d)", resent, cipher, limit)
	}
	if !strings.Contains(res.stderr, "resuming:") {
		t.Errorf("the second put did not say it resumed: %s", res.stderr)
	}
	id := strings.TrimSpace(res.stdout)
	if res := run("restore", "--tier", "Standard", id); res.code != 0 {
		t.Fatalf("restore: %s", res)
	}
	if res := run("head", "--wait", "--timeout", "1m", id); res.code != 0 {
		t.Fatalf("head --wait: %s", res)
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o700)
	if res := run("get", id, out); res.code != 0 {
		t.Fatalf("get: %s", res)
	}
	if d, err := exec.Command("diff", "-r", root, filepath.Join(out, "music")).CombinedOutput(); err != nil {
		t.Errorf("the resumed archive extracts to another tree: %s", d)
	}
}
