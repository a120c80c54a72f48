package cmd_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/cmd"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// ogiveOffline runs one command line in process with env as the whole
// environment and no S3: a command that tries to connect fails the test.
func ogiveOffline(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	f := &cmd.Factory{
		In:       strings.NewReader(stdin),
		Out:      &out,
		Err:      &errb,
		Getenv:   func(k string) string { return env[k] },
		KDF:      testKDF,
		Terminal: noTerminal{},
		NewStore: func(context.Context, *profile.Profile) (object.Store, error) {
			t.Errorf("%s connected to S3", args)
			return nil, errors.New("no S3 in this test")
		},
	}
	began := time.Now()
	code := cmd.Main(context.Background(), f, args...)
	return result{stdout: out.String(), stderr: errb.String(), code: code, took: time.Since(began)}
}

// TestLoosePasswordFile refuses a password file that group or others may
// read or write, from the flag or the environment, with one line naming
// the file and a hint to paste, before anything else is read or written.
func TestLoosePasswordFile(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "my pw")
	if err := os.WriteFile(pw, []byte("correct-horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pw, 0o640); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(dir, "profile")
	want := "ogive: password file " + pw + " is accessible to other users (mode 0640)\n" +
		"hint: the password file must be private to you: chmod 600 '" + pw + "'\n"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flag", map[string]string{"HOME": dir}, []string{"list", "-p", prof, "--password-file", pw}},
		{"env", map[string]string{"HOME": dir, "OGIVE_PASSWORD_FILE": pw}, []string{"list", "-p", prof}},
		{"init", map[string]string{"HOME": dir}, []string{"init", "-p", prof, "--password-file", pw, "--no-aws-keys", "--bucket", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ogiveOffline(t, tc.env, "", tc.args...)
			if res.code != 1 || res.stdout != "" || res.stderr != want {
				t.Errorf("%s\nwant stderr: %s", res, want)
			}
			if _, err := os.Lstat(prof); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a profile was written: %v", err)
			}
		})
	}
}
