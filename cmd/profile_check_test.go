package cmd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/cmd"
)

// askedTerminal records the prompts it is asked and answers none.
type askedTerminal struct{ asked []string }

func (a *askedTerminal) ReadPassword(prompt string) (*memguard.LockedBuffer, error) {
	a.asked = append(a.asked, prompt)
	return memguard.NewBufferFromBytes([]byte("a-password")), nil
}

func (a *askedTerminal) ReadLine(prompt string) (string, error) {
	a.asked = append(a.asked, prompt)
	return "", nil
}

// A profile that is missing, not a file or readable by others is reported
// before any password is asked for, on one line naming its path once, with
// a hint to create or recover one.
func TestProfileCheckedBeforePrompt(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared.profile")
	if err := os.WriteFile(shared, []byte("not a profile"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o644); err != nil {
		t.Fatal(err)
	}
	// The same with the password in a file: it is read first, but the
	// missing profile is named once.
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("a-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	f := &cmd.Factory{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }, Terminal: noTerminal{}}
	missing := filepath.Join(dir, "missing.profile")
	if code := cmd.Main(context.Background(), f, "list", "-p", missing, "--password-file", pwFile); code != 1 ||
		!strings.HasPrefix(errb.String(), "ogive: profile does not exist: "+missing+"\n") || strings.Count(errb.String(), missing) != 1 {
		t.Errorf("with a password file: exit %d, stderr:\n%s", code, errb.String())
	}

	for _, tc := range []struct{ name, path, msg, hint string }{
		{"missing", filepath.Join(dir, "missing.profile"), "profile does not exist: " + filepath.Join(dir, "missing.profile"),
			"hint: run 'ogive init' to create a profile, or 'ogive init --recover' to rebuild it from its recovery sheet, or choose one with --profile"},
		{"directory", dir, "profile " + dir + " is not a regular file (a directory)", ""},
		{"readable by others", shared, "open profile " + shared + ": profile is accessible to other users: mode 0644", "hint: the profile holds your master key"},
	} {
		for _, args := range [][]string{{"list"}, {"rm", "5PqBqHILQoIckevFn5EbXX1yGrgXIgAY2UvWT5ruYD"}, {"uploads"}} {
			t.Run(tc.name+" "+args[0], func(t *testing.T) {
				term := &askedTerminal{}
				var out, errb bytes.Buffer
				f := &cmd.Factory{In: strings.NewReader(""), InIsTerminal: true, Out: &out, Err: &errb,
					Getenv: func(k string) string {
						return map[string]string{"HOME": dir, "OGIVE_PROFILE": tc.path, "XDG_STATE_HOME": filepath.Join(dir, "state")}[k]
					},
					KDF: testKDF, Terminal: term}
				code := cmd.Main(context.Background(), f, args...)
				lines := strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n")
				if code != 1 || len(term.asked) != 0 || lines[0] != "ogive: "+tc.msg || strings.Count(errb.String(), tc.path) != 1 ||
					tc.hint != "" && (len(lines) != 2 || !strings.HasPrefix(lines[1], tc.hint)) {
					t.Errorf("exit %d, asked %q, stderr:\n%s", code, term.asked, errb.String())
				}
			})
		}
	}
}
