//go:build unix

package cmd_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/ptytest"
)

// With AWS keys in the environment, init at a terminal asks the same
// prompts in the same order, offering the environment's keys as defaults
// (the key ID's last 4 characters, never the secret); keys typed there win.
func TestTerminalInitKeyPromptsWithEnvironmentKeys(t *testing.T) {
	r := newRig(t, rigOptions{})
	prof := filepath.Join(r.dir, "typed.profile")
	const envSecret = "environment-secret-never-shown"
	tm := r.terminal(t, 24, 80, ptytest.Options{
		Args: []string{"init", "--prefix", "typed/"},
		Env: []string{"HOME=" + r.dir, "OGIVE_PROFILE=" + prof, "XDG_STATE_HOME=" + filepath.Join(r.dir, "state"),
			"AWS_ACCESS_KEY_ID=AKIAENVIRONMENTWXYZ", "AWS_SECRET_ACCESS_KEY=" + envSecret},
	})
	const wait = 20 * time.Second
	for _, step := range []struct{ prompt, answer string }{
		{"Enter password: ", rigPassword},
		{"Confirm password: ", rigPassword},
		{"Enter AWS Key ID (default from AWS_ACCESS_KEY_ID, …WXYZ): ", r.srv.AccessKey},
		{"Enter AWS Key Secret (default from AWS_SECRET_ACCESS_KEY): ", r.srv.SecretKey},
		{"Enter AWS S3 bucket name: ", r.srv.Bucket},
		{"Enter AWS S3 Region (default is eu-west-1): ", r.srv.Region},
		{"Enter AWS S3 endpoint (default is https://s3." + r.srv.Region + ".amazonaws.com): ", r.srv.Endpoint},
	} {
		tm.WaitFor(step.prompt, wait)
		tm.Type(step.answer + "\r")
	}
	if code := tm.Wait(wait); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	raw := tm.Raw()
	for _, secret := range []string{envSecret, r.srv.SecretKey, r.srv.AccessKey, rigPassword} {
		if strings.Contains(raw, secret) {
			t.Errorf("the terminal shows %q", secret)
		}
	}
	for _, want := range []string{"Bucket " + r.srv.Bucket + " is reachable.", "Profile successfully created"} {
		if !strings.Contains(raw, want) {
			t.Errorf("no %q on the terminal:\n%s", want, tm.ScreenText())
		}
	}
	if strings.Contains(raw, "Using the AWS keys from") {
		t.Errorf("the environment's keys were used, not the typed ones:\n%s", tm.ScreenText())
	}
}
