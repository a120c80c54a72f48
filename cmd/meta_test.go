package cmd_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
)

// idVersion is the first byte of a storage ID.
func idVersion(t *testing.T, id string) byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) == 0 {
		t.Fatalf("storage ID %q: %v", id, err)
	}
	return raw[0]
}

// TestGetRestoresModeAndTime is issue 14's row "the restored file": a file put with mode
// 0640 and its own modification time comes back with both, to the nanosecond, through a
// single PUT and through a multipart upload; setuid is recorded but not applied; a mode
// of 0000 comes back as 0000 with every byte; --force gives the replacing file the
// archive's mode; standard input, which has no mode, gives a version 2 ID and a 0600 file.
func TestGetRestoresModeAndTime(t *testing.T) {
	r := newRig(t, rigOptions{})
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 123456789, time.UTC)
	files := []struct {
		name      string
		size      int
		mode      os.FileMode // as chmod sets it
		want      os.FileMode // as get restores it
		mtime     time.Time
		wantBytes bool
	}{
		{name: "report.txt", size: 1000, mode: 0o640, want: 0o640, mtime: mtime},
		{name: "big.bin", size: 17 << 20, mode: 0o640, want: 0o640, mtime: mtime.Add(time.Hour)}, // multipart
		{name: "run.sh", size: 10, mode: 0o755 | os.ModeSetuid | os.ModeSetgid | os.ModeSticky, want: 0o755, mtime: time.Unix(-86400, 7).UTC()},
		{name: "locked", size: 100, mode: 0, want: 0, mtime: mtime},
	}
	var paths []string
	data := map[string][]byte{}
	for _, f := range files {
		data[f.name] = randomBytes(t, f.size)
		p := r.write(f.name, data[f.name])
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, time.Now(), f.mtime); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	ids := r.put(paths...)
	res := r.ogive("from stdin\n", "put", "--password-file", r.pwFile, "--name", "piped.txt", "-")
	if res.code != 0 {
		t.Fatalf("put -: %s", res)
	}
	piped := strings.TrimSpace(res.stdout)
	for i, id := range ids {
		if v := idVersion(t, id); v != crypt.VersionMeta {
			t.Errorf("%s: storage ID of version %#x, want %#x", files[i].name, v, crypt.VersionMeta)
		}
	}
	if v := idVersion(t, piped); v != crypt.Version {
		t.Errorf("stdin: storage ID of version %#x, want %#x", v, crypt.Version)
	}
	r.restoreAll(append(ids, piped)...)

	out := r.mkdir("out")
	for i, f := range files {
		if res := r.ogive("", "get", "--password-file", r.pwFile, ids[i], out); res.code != 0 {
			t.Fatalf("get %s: %s", f.name, res)
		}
		p := filepath.Join(out, f.name)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != f.want {
			t.Errorf("%s: mode %v, want %v", f.name, st.Mode(), f.want)
		}
		if !st.ModTime().Equal(f.mtime) {
			t.Errorf("%s: modification time %v, want %v", f.name, st.ModTime().UTC(), f.mtime)
		}
		if got, err := os.ReadFile(p); err != nil || string(got) != string(data[f.name]) {
			t.Errorf("%s: content differs (%v)", f.name, err)
		}
	}

	// --force over an existing private file: the new file has the archive's mode.
	over := r.mkdir("over")
	existing := filepath.Join(over, "report.txt")
	if err := os.WriteFile(existing, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := r.ogive("", "get", "--password-file", r.pwFile, "--force", ids[0], over); res.code != 0 {
		t.Fatalf("get --force: %s", res)
	}
	if st, err := os.Stat(existing); err != nil || st.Mode() != 0o640 || !st.ModTime().Equal(mtime) {
		t.Errorf("get --force: %v, %v; want mode 0640 and time %v", st.Mode(), err, mtime)
	}

	// Standard input recorded nothing: the file stays private, with the time of the get.
	before := time.Now().Add(-time.Second)
	if res := r.ogive("", "get", "--password-file", r.pwFile, piped, out); res.code != 0 {
		t.Fatalf("get piped: %s", res)
	}
	if st, err := os.Stat(filepath.Join(out, "piped.txt")); err != nil || st.Mode() != 0o600 || st.ModTime().Before(before) {
		t.Errorf("piped.txt: %v, %v, %v; want 0600 and a time of now", st.Mode(), st.ModTime(), err)
	}

	// list --json shows the recorded metadata only where there is some.
	res = r.ogive("", "list", "--password-file", r.pwFile, "--json")
	if res.code != 0 {
		t.Fatalf("list --json: %s", res)
	}
	for _, want := range []string{`"mode":"0640"`, `"mtime":"2001-02-03T04:05:06.123456789Z"`, `"mode":"7755"`} {
		if !strings.Contains(strings.ReplaceAll(res.stdout, " ", ""), want) {
			t.Errorf("list --json lacks %s:\n%s", want, res.stdout)
		}
	}
}

// TestMetaTamper is a bucket writer's attack on the metadata: without the master key,
// an object renamed to its ID with the version byte changed, a bit of the sealed block
// flipped, or the block cut out is not an archive of this profile. get refuses it and
// writes nothing, and list does not show it.
func TestMetaTamper(t *testing.T) {
	r := newRig(t, rigOptions{})
	p := r.write("secret.txt", []byte("only for me\n"))
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	id := r.put(p)[0]
	r.restoreAll(id)
	raw, _ := base64.RawURLEncoding.DecodeString(id)
	enc := base64.RawURLEncoding.EncodeToString
	relabelled := append([]byte{crypt.Version}, raw[1:]...)
	flipped := append([]byte(nil), raw...)
	flipped[17+1] ^= 0x04 // mode 0600 → 0200 in the clear, if it were not sealed
	cut := append(append([]byte(nil), raw[:17]...), raw[17+15:]...)
	out := r.mkdir("out")
	current := id
	for what, bad := range map[string]string{"relabelled as version 2": enc(relabelled),
		"mode bit flipped": enc(flipped), "block cut out": enc(cut)} {
		if err := os.Rename(r.objectPath(current), r.objectPath(bad)); err != nil {
			t.Fatal(err)
		}
		current = bad
		res := r.ogive("", "get", "--password-file", r.pwFile, bad, out)
		if res.code == 0 || !strings.Contains(res.stderr, "not an ogive object of this profile") {
			t.Errorf("%s: get: %s", what, res)
		}
		if e := entries(t, out); len(e) != 0 {
			t.Errorf("%s: get left %v", what, e)
		}
		if res := r.ogive("", "list", "--password-file", r.pwFile); res.code != 0 || strings.Contains(res.stdout, "secret.txt") {
			t.Errorf("%s: list: %s", what, res)
		}
	}
}
