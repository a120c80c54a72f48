package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedteam17BuildEnvGoEnvFile shows that two settings that change the
// binary reach the release build from the builder's machine: GOFIPS140
// (not pinned: Go 1.24+ builds the frozen FIPS 140-3 crypto module and
// another default GODEBUG into the binary) and whatever "go env -w" wrote
// in the builder's go env file (GOENV): buildEnv pins GOEXPERIMENT to "",
// but the go command reads an empty variable as unset and takes the file's
// value. It asks the go command, run with buildEnv's environment, what it
// builds with. (A release built under GOENV with GOEXPERIMENT=nogreenteagc,
// or with GOFIPS140=v1.0.0, gives another SHA256SUMS: see the report.)
func TestRedteam17BuildEnvGoEnvFile(t *testing.T) {
	dir := t.TempDir()
	goenv := filepath.Join(dir, "env")
	if err := os.WriteFile(goenv, []byte("GOEXPERIMENT=nogreenteagc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := append(os.Environ(), "GOENV="+goenv, "GOFIPS140=v1.0.0")
	c := exec.Command("go", "env", "GOEXPERIMENT", "GOFIPS140")
	c.Env = buildEnv(base, "linux", "amd64", "local")
	out, err := c.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(out))
	// go env prints an empty line for the default GOEXPERIMENT.
	if len(got) != 1 || got[0] != "off" {
		t.Errorf("the release build sees GOEXPERIMENT, GOFIPS140 = %q; want the defaults (\"\", \"off\")", out)
	}
}

// TestRedteam17DirtyCheckUntrackedHidden shows that the check for a clean
// tree trusts the builder's git configuration: with status.showUntrackedFiles
// set to no (a common setting in large checkouts, global or per
// repository), "git status --porcelain" lists no untracked file, so an
// untracked .go file in package main, compiled into the binary, passes as a
// clean tree, and the archives name a commit they were not built from.
func TestRedteam17DirtyCheckUntrackedHidden(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		c := exec.Command("git", append([]string{"-c", "user.name=r", "-c", "user.email=r@x", "-c", "commit.gpgsign=false"}, args...)...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/x\n\ngo 1.26.8\n")
	write("main.go", "package main\n\nfunc main() {}\n")
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "one")
	git("config", "status.showUntrackedFiles", "no")
	write("extra.go", "package main\n\nfunc init() { println(\"not in the commit\") }\n")
	t.Chdir(dir)
	if _, err := describe(false); err == nil {
		t.Error("describe(false) = nil: an untracked extra.go, built into the binary, passed as a clean tree")
	}
}
