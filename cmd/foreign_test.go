package cmd_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/object"
)

// init with a new key, on a bucket that holds archives of a lost profile,
// says so and points to init --recover; with the prefix forgotten, it names
// the prefix they sit under. Nothing stops init: the bucket may be shared.
func TestInitWarnsOfArchivesItCannotRead(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.put(r.write("a.txt", []byte("a\n")), r.write("b.txt", []byte("b\n")))
	if err := r.directStore().Put(t.Context(), "notes.txt", []byte("another tool's\n"), object.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	keys := r.srv.AccessKey + "\n" + r.srv.SecretKey + "\n"
	init := func(name string, extra ...string) result {
		t.Helper()
		args := append([]string{"init", "-p", filepath.Join(r.dir, name), "--password-file", r.pwFile,
			"--bucket", r.srv.Bucket, "--region", r.srv.Region, "--endpoint", r.proxy.URL}, extra...)
		res := r.ogive(keys, args...)
		if res.code != 0 {
			t.Fatalf("init %s: %s", name, res)
		}
		return res
	}

	// Same prefix: the lost profile's two archives, and another object.
	res := init("same.profile", "--prefix", r.prefix)
	for _, want := range []string{
		"warning: bucket ogive-reliability under prefix rel/ holds 2 ogive archives that this new master key cannot read\n",
		"hint: if they are yours, this new profile will never read them: move it aside, then rebuild your old one with 'ogive init --recover'",
		"note: bucket ogive-reliability under prefix rel/ holds 1 other object, not ogive archives\n",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("init on the same prefix: no %q in\n%s", want, res.stderr)
		}
	}

	// The prefix forgotten: the archives are found under it.
	res = init("noprefix.profile")
	want := "warning: ogive archives sit under other prefixes in bucket ogive-reliability: rel/ (2)\n" +
		"hint: a profile reads only its own prefix: if they are yours, give that prefix with --prefix (to 'ogive init --recover' as well)\n"
	if !strings.Contains(res.stderr, want) {
		t.Errorf("init without the prefix: no %q in\n%s", want, res.stderr)
	}

	// An empty prefix of its own: nothing to say.
	res = init("fresh.profile", "--prefix", "fresh/")
	if strings.Contains(res.stderr, "cannot read") || strings.Contains(res.stderr, "prefixes") || strings.Contains(res.stderr, "note:") {
		t.Errorf("init on an empty prefix:\n%s", res.stderr)
	}
}
