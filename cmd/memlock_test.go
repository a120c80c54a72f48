//go:build linux

package cmd_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ogive-project/ogive/harden"
	"github.com/ogive-project/ogive/internal/testuser"
)

// TestMemoryLockLimit runs the binary with a limit on locked memory below
// what memguard needs. Without the check in main, "ogive init" hangs there
// for good (memguard deadlocks on its own mutex, and even SIGTERM does not
// end it); with it, ogive exits 1 at once with one line and a hint. Help,
// --version and completion still work under that limit, and at the limit of
// exactly what ogive needs, or at the test's own, the check passes.
func TestMemoryLockLimit(t *testing.T) {
	bin, dir := nobodyCopy(t, buildOgive(t))
	need := harden.LockNeed() >> 10
	initArgs := []string{"init", "--bucket", "b", "--region", "us-east-1", "--endpoint", "http://127.0.0.1:1"}

	t.Run("below", func(t *testing.T) {
		code, stdout, stderr := runLimited(t, bin, dir, "-l 8", initArgs...)
		want := regexp.MustCompile(fmt.Sprintf(`^ogive: cannot lock %d KiB of memory for keys \(ulimit -l is 8 KiB\)\nhint: ask an administrator to raise it to \d+ KiB: memlock in /etc/security/limits.conf, LimitMEMLOCK= for a systemd service, or ulimit -l \d+ as root\n$`, need))
		if code != 1 || stdout != "" || !want.MatchString(stderr) || !oneError.MatchString(stderr) {
			t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, the lock error", code, stdout, stderr)
		}
	})
	for _, args := range [][]string{{"--version"}, {"--help"}, {"help", "put"}, {"put", "--help"}, {"completion", "bash"}} {
		t.Run("below/"+strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runLimited(t, bin, dir, "-l 8", args...)
			if code != 0 || !strings.Contains(stdout, "ogive") || stderr != "" {
				t.Errorf("exit %d, stdout %.100q, stderr %q; want 0 and its output", code, stdout, stderr)
			}
		})
	}
	// "-S -l 8" lowers only the soft limit: ogive raises it again.
	for _, limit := range []string{fmt.Sprintf("-l %d", need), "-S -l 8", ""} {
		t.Run("ulimit "+limit, func(t *testing.T) {
			// The password file is missing: init fails there, past the check.
			code, _, stderr := runLimited(t, bin, dir, limit, initArgs...)
			if code != 1 || !strings.Contains(stderr, "ogive: password file: ") {
				t.Errorf("exit %d, stderr %q; want 1 and the missing password file", code, stderr)
			}
		})
	}
}

// runLimited runs bin with args in the shell, after "ulimit limit" when
// limit is not "", as nobody when the test runs as root (which no limit on
// locked memory holds). A process that does not end within a minute is
// killed, and the test fails rather than hangs.
func runLimited(t *testing.T, bin, dir, limit string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script := `exec "$0" "$@"`
	if limit != "" {
		script = "ulimit " + limit + " && " + script
	}
	c := exec.CommandContext(ctx, "sh", append([]string{"-c", script, bin}, args...)...)
	c.Dir = dir
	c.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"OGIVE_PROFILE=" + filepath.Join(dir, "profile"),
		"OGIVE_PASSWORD_FILE=" + filepath.Join(dir, "missing-password"),
	}
	if os.Geteuid() == 0 {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var out, errOut strings.Builder
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	if ctx.Err() != nil {
		t.Fatalf("ogive %s under ulimit %s did not end within a minute: killed; stderr %q", strings.Join(args, " "), limit, errOut.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return c.ProcessState.ExitCode(), out.String(), errOut.String()
}

// nobodyCopy copies bin into a new directory that nobody can reach and
// write, when the test runs as root, and returns the copy and the
// directory; else bin itself and a new directory.
func nobodyCopy(t *testing.T, bin string) (string, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return bin, t.TempDir()
	}
	dir := testuser.ReachableDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return testuser.CopyExecutable(t, bin, dir, "ogive"), dir
}
