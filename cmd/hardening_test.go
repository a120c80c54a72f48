package cmd_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/awnumar/memguard"

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
	if want := "verified: " + escaped(src) + " matches " + id + " (" + shown + ", 6 B, 1 part)\n"; res.code != 0 || res.stdout != want {
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

// escaped is how the tests expect cmd to print the names and paths they make.
func escaped(s string) string {
	return strings.NewReplacer("\\", `\\`, "\x1b", `\x1b`, "\r", `\x0d`, "\n", `\x0a`, "\u202e", `\u202e`).Replace(s)
}

// TestErrorsEscaped checks that an error message carrying a file name, here
// from put, which words its own errors, reaches stderr as one line with
// nothing a terminal acts on.
func TestErrorsEscaped(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "d\x1b]0;owned\x07\nhint: forged")
	if err := os.Symlink(dir, bad); err != nil {
		t.Fatal(err)
	}
	res := ogiveOffline(t, map[string]string{"HOME": dir}, "", "put", bad)
	if res.code != 1 || strings.ContainsAny(res.stderr, "\x1b\x07") || !oneError.MatchString(res.stderr) ||
		!strings.HasPrefix(res.stderr, "ogive: "+dir+`/d\x1b]0;owned\x07\x0ahint: forged is a symbolic link to a directory`) {
		t.Errorf("%s", res)
	}
}

// TestPlainHTTPWarning checks that init and every later command warn once,
// even with --quiet, about an http:// endpoint that is not loopback, and
// stay quiet for loopback and https. The store reaches the rig's server
// whatever the endpoint says, so no request leaves the machine.
func TestPlainHTTPWarning(t *testing.T) {
	r := newRig(t, rigOptions{})
	redirect := func(ctx context.Context, p *profile.Profile) (object.Store, error) {
		local := *p
		local.Endpoint, local.PathStyle = r.proxy.URL, true
		return newTestStore(ctx, &local)
	}
	run := func(args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		f := &cmd.Factory{
			In: strings.NewReader(r.srv.AccessKey + "\n" + r.srv.SecretKey + "\n"), Out: &out, Err: &errb,
			Getenv: func(k string) string { return r.env[k] }, KDF: testKDF, Terminal: noTerminal{}, NewStore: redirect,
		}
		code := cmd.Main(context.Background(), f, args...)
		return result{stdout: out.String(), stderr: errb.String(), code: code}
	}
	for i, tc := range []struct {
		endpoint, warnHost string // warnHost "" means no warning
	}{
		{"http://s3.example.com", "s3.example.com"},
		{"HTTP://s3.example.com:9000/", "s3.example.com:9000"},
		{"http://10.1.2.3:9000", "10.1.2.3:9000"},
		{"http://[2001:db8::1]:9000", "[2001:db8::1]:9000"},
		{"http://localhost.example.com", "localhost.example.com"},
		{"http://127.0.0.1:9000", ""},
		{"http://127.9.8.7", ""},
		{"http://localhost:7070", ""},
		{"http://LocalHost", ""},
		{"http://[::1]:9000", ""},
		{"https://s3.example.com", ""},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			prof := filepath.Join(r.dir, "http"+strconv.Itoa(i)+".profile")
			want := ""
			if tc.warnHost != "" {
				want = "warning: endpoint " + tc.warnHost + " is plain http: anyone on the network path can read your access key ID " +
					"and the storage IDs and sizes, and alter or drop requests and responses; SigV4 covers neither responses " +
					"nor uploaded bytes, so damage may show only at restore, but archives stay encrypted and authenticated\n"
			}
			for _, args := range [][]string{
				{"init", "--bucket", r.srv.Bucket, "--region", r.srv.Region, "--endpoint", tc.endpoint, "--prefix", r.prefix},
				{"list", "--quiet"},
			} {
				res := run(append(args, "-p", prof, "--password-file", r.pwFile)...)
				if res.code != 0 {
					t.Fatalf("%s: %s", args, res)
				}
				if got := strings.Count(res.stderr, "plain http"); want == "" && got != 0 || want != "" && (got != 1 || !strings.Contains(res.stderr, want)) {
					t.Errorf("%s: %s\nwant the warning: %q", args, res, want)
				}
			}
		})
	}
}

// TestNoHome runs without HOME (and no --profile or OGIVE_PROFILE) in a
// directory that holds a .ogive: every command that needs the profile
// fails at once with one line and a hint, and ./.ogive is neither read nor
// created. The commands run twice: with the test process's own HOME at a
// valid profile, which os.UserHomeDir would find, and with it empty. Help still shows
// $HOME/.ogive, and a profile named with -p or OGIVE_PROFILE still opens.
func TestNoHome(t *testing.T) {
	home := t.TempDir()
	pw := filepath.Join(home, "pw")
	if err := os.WriteFile(pw, []byte("correct-horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(home, ".ogive")
	p, err := profile.New()
	if err != nil {
		t.Fatal(err)
	}
	p.Bucket = "b"
	if err := profile.Create(prof, p, memguard.NewBufferFromBytes([]byte("correct-horse")), testKDF); err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	data, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cwd, ".ogive"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)

	noHome := map[string]string{"OGIVE_PASSWORD_FILE": pw}
	want := "ogive: no profile file: HOME is not set\n" +
		"hint: set HOME, or give the profile with --profile or OGIVE_PROFILE\n"
	for _, procHome := range []string{home, ""} {
		t.Setenv("HOME", procHome)
		for _, args := range [][]string{
			{"list"},
			{"put", pw},
			{"head", "AgXyZ1abcdef"},
			{"get", "AgXyZ1abcdef", cwd},
			{"restore", "AgXyZ1abcdef"},
			{"rm", "AgXyZ1abcdef"},
			{"uploads"},
			{"verify", "AgXyZ1abcdef", pw},
			{"profile", "show"},
			{"profile", "export", "--paper"},
			{"init", "--no-aws-keys", "--bucket", "b"},
			{"init", "--recover", "--sheet", pw},
		} {
			res := ogiveOffline(t, noHome, "", args...)
			if res.code != 1 || res.stdout != "" || res.stderr != want {
				t.Errorf("process HOME %q, %s: %s\nwant stderr: %s", procHome, args, res, want)
			}
		}
	}
	if names := entries(t, cwd); len(names) != 1 || names[0] != ".ogive" {
		t.Errorf("the current directory holds %q", names)
	}

	res := ogiveOffline(t, noHome, "", "--help")
	if res.code != 0 || !strings.Contains(res.stdout, `profile file (env OGIVE_PROFILE) (default "$HOME/.ogive")`) {
		t.Errorf("--help: %s", res)
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
	}{
		{noHome, []string{"profile", "show", "-p", prof}},
		{map[string]string{"OGIVE_PASSWORD_FILE": pw, "OGIVE_PROFILE": prof}, []string{"profile", "show"}},
	} {
		res := ogiveOffline(t, tc.env, "", tc.args...)
		if res.code != 0 || !strings.Contains(res.stdout, "profile:       "+prof+"\n") {
			t.Errorf("%s: %s", tc.args, res)
		}
	}
}
