package cmd_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ogive-project/ogive/cmd"
	"github.com/ogive-project/ogive/profile"
)

// TestSecretsStayHidden runs every command, and several failures, with a
// known password and AWS secret, then searches everything ogive printed and
// every file it wrote, the bucket's data included, for them and for the
// master key in any usual encoding. It also checks that the files it wrote
// are private to their owner.
func TestSecretsStayHidden(t *testing.T) {
	const awsSecret = "SECRETcanary-aws-5b4a3f2e1d0c9b8a7f6e"
	const newPassword = "PWcanary-new-password-0c1d2e"
	const wrongPassword = "PWcanary-wrong-password-9f8e"
	const wrongSecret = "SECRETcanary-wrong-aws-2b3c4d"
	r := newRig(t, rigOptions{secretKey: awsSecret})
	srv := r.srv

	var printed bytes.Buffer
	run := func(stdin string, wantCode int, args ...string) result {
		t.Helper()
		res := r.ogive(stdin, args...)
		printed.WriteString(res.stdout)
		printed.WriteString(res.stderr)
		if res.code != wantCode {
			t.Fatalf("ogive %s: exit %d, want %d: %s", strings.Join(args, " "), res.code, wantCode, res)
		}
		return res
	}
	pw := []string{"--password-file", r.pwFile}
	with := func(args ...string) []string { return append(args, pw...) }

	data := r.write("data.txt", []byte("ordinary data\n"))
	id := strings.TrimSpace(run("", 0, with("put", data)...).stdout)
	run("streamed data\n", 0, with("put", "--name", "stream.txt", "-")...)
	run("", 0, with("list")...)
	run("", 0, with("restore", id)...)
	r.restoreAll(id)
	run("", 0, with("head", id)...)
	run("", 0, with("get", id, r.mkdir("out"))...)
	run("", 0, with("get", id, "-")...)
	run("", 0, "--help")
	run("", 0, "--version")

	// Failures that involve the secrets themselves.
	wrong := r.write("wrong.pw", []byte(wrongPassword+"\n"))
	run("", 1, "list", "--password-file", wrong)
	run(srv.AccessKey+"\n"+wrongSecret+"\n", 0, with("init", "-p", filepath.Join(r.dir, "wrongkey.profile"),
		"--bucket", srv.Bucket, "--region", srv.Region, "--endpoint", r.proxy.URL, "--prefix", r.prefix, "--no-check")...)
	run("", 1, with("list", "-p", filepath.Join(r.dir, "wrongkey.profile"))...)
	run("", 1, "init", "--password-file", r.pwFile, "--bucket", srv.Bucket) // exists already

	// A new password, keys unchanged: reinit keeps the old file as .bak.
	run(rigPassword+"\n"+newPassword+"\n"+newPassword+"\n\n\n", 0, "init", "--reinit")
	run(newPassword+"\n", 0, "list")

	// The master key, in the encodings a careless log line would use.
	pwBuf := memguard.NewBufferFromBytes([]byte(newPassword))
	p, err := profile.Open(r.profile, pwBuf)
	if err != nil {
		t.Fatal(err)
	}
	master, err := p.MasterKey.Open()
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Clone(master.Bytes())
	master.Destroy()

	canaries := map[string][]byte{
		"password":          []byte(rigPassword),
		"new password":      []byte(newPassword),
		"wrong password":    []byte(wrongPassword),
		"AWS secret":        []byte(awsSecret),
		"wrong AWS secret":  []byte(wrongSecret),
		"master key":        key,
		"master key hex":    []byte(hex.EncodeToString(key)),
		"master key base64": []byte(base64.StdEncoding.EncodeToString(key)),
		"master key b64url": []byte(base64.RawURLEncoding.EncodeToString(key)),
	}
	search := func(where string, b []byte) {
		for name, c := range canaries {
			if bytes.Contains(b, c) {
				t.Errorf("%s holds the %s", where, name)
			}
		}
	}
	search("ogive's output", printed.Bytes())

	// Files ogive wrote: the profile and its backup, downloads, resume
	// state, and the bucket itself. The password files and the inputs are
	// the test's own.
	ours := map[string]bool{r.pwFile: true, wrong: true}
	walkFiles(t, r.dir, func(path string, b []byte) {
		if ours[path] {
			return
		}
		search(path, b)
	})
	walkFiles(t, filepath.Join(r.srvDir, "data"), func(path string, b []byte) { search(path, b) })

	for _, f := range []string{r.profile, r.profile + ".bak", filepath.Join(r.dir, "wrongkey.profile")} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", f, st.Mode().Perm())
		}
	}
	if state := r.env["XDG_STATE_HOME"]; dirExists(state) {
		walkFiles(t, state, func(path string, _ []byte) {
			if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
				t.Errorf("state file %s has mode %04o", path, st.Mode().Perm())
			}
		})
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// TestNoSecretOnTheCommandLine walks the command tree: no flag takes a
// password or an AWS secret as its value, so none can end up in argv,
// shell history or ps. Secrets come from files, commands, stdin, the
// terminal or the environment.
func TestNoSecretOnTheCommandLine(t *testing.T) {
	allowed := map[string]bool{"password-file": true, "password-command": true, "no-aws-keys": true}
	root := cmd.NewRootCmd(&cmd.Factory{Getenv: func(string) string { return "" }})
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			n++
			name := strings.ToLower(f.Name)
			for _, word := range []string{"password", "passwd", "secret", "key", "token", "credential"} {
				if strings.Contains(name, word) && !allowed[f.Name] {
					t.Errorf("%s --%s looks like it takes a secret on the command line", c.CommandPath(), f.Name)
				}
			}
		}
		c.Flags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 10 {
		t.Fatalf("walked only %d flags", n)
	}
}
