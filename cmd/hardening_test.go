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

// TestNamesEscaped archives a file whose name clears the screen, returns
// the cursor and starts a forged row, and checks the bytes each command
// prints: the name shows escaped on one line of the table, the seed's awk
// pipeline still reads status and ID, errors and notices are escaped too,
// and --json keeps the exact name.
func TestNamesEscaped(t *testing.T) {
	r := newRig(t, rigOptions{})
	name := "a\x1b[2J\x1b[Hb\rc\n1 B  2019-Jan-01 DEEPS FORGED evil\u202e\\x.txt"
	shown := `a\x1b[2J\x1b[Hb\x0dc\x0a1 B  2019-Jan-01 DEEPS FORGED evil\u202e\\x.txt`
	src := r.write(name, []byte("hello\n"))
	id := r.put(src)[0]
	// human runs a command whose output is for people, and checks that
	// nothing in it acts on a terminal.
	human := func(args ...string) result {
		t.Helper()
		res := r.ogive("", append(args, "--password-file", r.pwFile)...)
		for _, out := range []string{res.stdout, res.stderr} {
			if strings.ContainsAny(out, "\x1b\r\u202e") {
				t.Errorf("%s printed raw control characters: %q", args, out)
			}
		}
		return res
	}

	res := human("list")
	if res.code != 0 {
		t.Fatalf("list: %s", res)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("list printed %d lines, want the header, the rule and one row:\n%s", len(lines), res.stdout)
	}
	if !strings.HasSuffix(lines[2], " "+id+" "+shown) {
		t.Errorf("row %q does not end with the ID and %q", lines[2], shown)
	}
	// awk 'NR>2 && $4 == "DEEPS" {print $5}', as the README's seed does.
	if f := strings.Fields(lines[2]); len(f) < 5 || f[3] != "DEEPS" || f[4] != id {
		t.Errorf("awk reads status and ID from row %q as %q", lines[2], f)
	}

	res = r.ogive("", "list", "--json", "--password-file", r.pwFile)
	if res.code != 0 || !strings.Contains(res.stdout, `"name":"a\u001b[2J\u001b[Hb\rc\n1 B  2019-Jan-01 DEEPS FORGED evil`+"\u202e"+`\\x.txt"`) {
		t.Errorf("list --json does not keep the exact name: %s", res)
	}

	// An error that names the archive: it is archived and nobody asked
	// for a restore, so waiting would never end.
	res = human("head", "--wait", id)
	if res.code != 2 || !strings.Contains(res.stderr, "ogive: "+shown+" ("+id+") is archived") {
		t.Errorf("head --wait: %s", res)
	}

	res = human("verify", id, src)
	if want := "verified: " + printable(src) + " matches " + id + " (" + shown + ", 6 B, 1 part)\n"; res.code != 0 || res.stdout != want {
		t.Errorf("verify: %s\nwant stdout: %s", res, want)
	}

	if res = human("restore", "--all"); res.code != 0 {
		t.Errorf("restore --all: %s", res)
	}
	res = human("restore", "--all") // in progress, or done: skipped either way
	if res.code != 0 || !strings.Contains(res.stderr, "Skipping "+shown+" ("+id+"): ") {
		t.Errorf("restore --all again: %s", res)
	}

	res = human("rm", "--force", id)
	if res.code != 0 || !strings.Contains(res.stderr, shown+" ("+id+") is 0 days old") ||
		!strings.Contains(res.stderr, "\nDeleted "+shown+" ("+id+")\n") {
		t.Errorf("rm: %s", res)
	}
}

// printable is the escape the tests expect, for paths they make.
func printable(s string) string {
	return strings.NewReplacer("\\", `\\`, "\x1b", `\x1b`, "\r", `\x0d`, "\n", `\x0a`, "\u202e", `\u202e`).Replace(s)
}

// TestErrorsEscaped checks that an error message carrying a file name, here
// from put, which words its own errors, reaches stderr as one line with
// nothing a terminal acts on.
func TestErrorsEscaped(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "d\x1b]0;owned\x07\nhint: forged")
	if err := os.Mkdir(bad, 0o700); err != nil {
		t.Fatal(err)
	}
	res := ogiveOffline(t, map[string]string{"HOME": dir}, "", "put", bad)
	if res.code != 1 || strings.ContainsAny(res.stderr, "\x1b\x07") || !oneError.MatchString(res.stderr) ||
		!strings.HasPrefix(res.stderr, "ogive: "+dir+`/d\x1b]0;owned\x07\x0ahint: forged is a directory`) {
		t.Errorf("%s", res)
	}
}
