package cmd_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ogive-project/ogive/cmd"
	"github.com/ogive-project/ogive/internal/s3local"
	"github.com/ogive-project/ogive/profile"
)

// testKDF keeps Argon2id cheap in tests. It is the factory's KDF hook, the
// one place where tests lower the work factor.
var testKDF = profile.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func TestMain(m *testing.M) {
	testscript.Main(cleanupAfter{m}, map[string]func(){
		"ogive": func() {
			f := cmd.SystemFactory()
			f.KDF = testKDF
			os.Exit(cmd.Main(context.Background(), f))
		},
	})
}

// cleanupAfter removes the binary buildOgive made once the tests have run.
type cleanupAfter struct{ m *testing.M }

func (c cleanupAfter) Run() int {
	code := c.m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	return code
}

// TestScripts drives the CLI as a user types it, against the real local Deep
// Archive server (versitygw behind ogive's Deep Archive layer). Each script
// gets its own key prefix in the shared bucket.
func TestScripts(t *testing.T) {
	srv, err := s3local.Start(context.Background(), s3local.Options{
		Dir:    t.TempDir(),
		Bucket: "ogive-test",
		Tiers:  map[string]time.Duration{"Bulk": 4 * time.Second, "Standard": time.Second},
		Day:    30 * time.Second,
	})
	if err != nil {
		t.Fatalf("start the local Deep Archive server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })

	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("S3_ENDPOINT", srv.Endpoint)
			e.Setenv("S3_BUCKET", srv.Bucket)
			e.Setenv("S3_REGION", srv.Region)
			e.Setenv("S3_ACCESS_KEY", srv.AccessKey)
			e.Setenv("S3_SECRET_KEY", srv.SecretKey)
			e.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
			e.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
			e.Setenv("S3_PREFIX", filepath.Base(e.WorkDir)+"/")
			return privateFiles(e.WorkDir)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"setenv-stdout": setenvStdout,
			"loopdev":       loopdev,
		},
		Condition:           condition,
		RequireExplicitExec: true,
	})
}

// privateFiles makes the files a script starts with private to their owner,
// as a careful user's umask 077 would: testscript writes them 0666 less the
// umask, and ogive refuses a password file that others may read.
func privateFiles(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		return os.Chmod(path, 0o600)
	})
}

// condition answers [loopdev]: whether loop block devices can be made here
// (root and losetup). Outside CI a machine without them skips those scripts
// with a message; in CI their absence is an error, so block devices are never
// silently untested there.
func condition(cond string) (bool, error) {
	if cond != "loopdev" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	_, err := exec.LookPath("losetup")
	ok := err == nil && os.Geteuid() == 0
	if !ok && os.Getenv("CI") != "" {
		return false, errors.New("CI must test block devices: it needs root and losetup")
	}
	return ok, nil
}

// setenvStdout sets an environment variable to the last command's stdout,
// trimmed: "exec ogive put f" then "setenv-stdout ID" keeps the storage ID.
func setenvStdout(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: setenv-stdout NAME")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile("stdout")))
}

// loopdev attaches a file as a loop block device for the rest of the script:
// "loopdev DEV disk.img" sets $DEV to /dev/loopN and $DEV_NAME to loopN.
// Scripts guard it with [loopdev].
func loopdev(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: loopdev NAME FILE")
	}
	out, err := exec.Command("losetup", "--find", "--show", ts.MkAbs(args[1])).CombinedOutput()
	if err != nil {
		ts.Fatalf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	ts.Defer(func() { exec.Command("losetup", "--detach", dev).Run() })
	ts.Setenv(args[0], dev)
	ts.Setenv(args[0]+"_NAME", filepath.Base(dev))
}
