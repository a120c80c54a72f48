package cmd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// countLists counts the LIST requests that reach the proxy from now on,
// injecting nothing.
func (r *rig) countLists() func() int {
	var mu sync.Mutex
	n := 0
	r.proxy.SetRules(faultproxy.Rule{Match: func(req *http.Request) bool {
		if isList(req) {
			mu.Lock()
			n++
			mu.Unlock()
		}
		return false
	}})
	return func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// A shortened ID works wherever an ID does, costs one small listing, and a
// whole ID costs none.
func TestIDPrefixResolved(t *testing.T) {
	r := newRig(t, rigOptions{})
	ids := r.put(r.write("one.txt", []byte("one\n")), r.write("two.txt", []byte("two\n")))

	lists := r.countLists()
	res := r.ogive("", "head", "--json", "--password-file", r.pwFile, ids[0])
	if res.code != 2 || lists() != 0 {
		t.Fatalf("head with the whole ID: %d LIST requests, %s", lists(), res)
	}

	lists = r.countLists()
	res = r.ogive("", "head", "--json", "--password-file", r.pwFile, ids[0][:12])
	if res.code != 2 || lists() != 1 {
		t.Fatalf("head with a prefix: %d LIST requests, %s", lists(), res)
	}
	var rec struct{ ID, Name string }
	if err := json.Unmarshal([]byte(res.stdout), &rec); err != nil || rec.ID != ids[0] || rec.Name != "one.txt" {
		t.Errorf("head --json names %q %q (%v), want the whole ID %s", rec.ID, rec.Name, err, ids[0])
	}
	if !strings.Contains(res.stderr, "1 LIST request") || !strings.Contains(res.stderr, ids[0][:12]+" is "+ids[0]+" (one.txt)") {
		t.Errorf("no note of the resolution and its cost:\n%s", res.stderr)
	}

	res = r.ogive("", "head", "--quiet", "--password-file", r.pwFile, ids[0][:12])
	if res.code != 2 || res.stdout != "DEEPS\n" || res.stderr != "" {
		t.Errorf("head --quiet with a prefix: %s", res)
	}

	// Two prefixes, a small listing each; restore acts on the whole IDs.
	lists = r.countLists()
	res = r.ogive("", "restore", "--password-file", r.pwFile, ids[0][:7], ids[1][:20])
	if res.code != 0 || lists() != 2 {
		t.Fatalf("restore with two prefixes: %d LIST requests, %s", lists(), res)
	}
	for _, id := range ids {
		if !strings.Contains(res.stdout, id+": Restoration request sent.") {
			t.Errorf("restore did not name %s in full:\n%s", id, res.stdout)
		}
	}

	r.restoreAll(ids...)
	out := r.mkdir("out")
	res = r.ogive("", "get", "--password-file", r.pwFile, ids[1][:12], out)
	if res.code != 0 {
		t.Fatalf("get with a prefix: %s", res)
	}
	if b, err := os.ReadFile(filepath.Join(out, "two.txt")); err != nil || string(b) != "two\n" {
		t.Errorf("get wrote %q, %v", b, err)
	}
	res = r.ogive("", "verify", "--password-file", r.pwFile, ids[1][:12], filepath.Join(r.dir, "two.txt"))
	if res.code != 0 || !strings.Contains(res.stdout, "matches "+ids[1]) {
		t.Errorf("verify with a prefix: %s", res)
	}
	res = r.ogive("", "rm", "--force", "--password-file", r.pwFile, ids[1][:12])
	if res.code != 0 || !strings.Contains(res.stderr, "Deleted two.txt ("+ids[1]+")") {
		t.Errorf("rm with a prefix: %s", res)
	}

	// A prefix of no archive, and a whole ID of none.
	res = r.ogive("", "head", "--password-file", r.pwFile, "AzzzzzzzzzzZ")
	if res.code != 1 || !strings.Contains(res.stderr, "no archive of this profile has a storage ID beginning with AzzzzzzzzzzZ") || !strings.Contains(res.stderr, "hint: this is not a storage ID of this profile") {
		t.Errorf("unknown prefix: %s", res)
	}
	// A whole ID of another master key keeps its own message.
	k, err := crypt.DeriveKeys(make([]byte, crypt.MasterKeySize), crypt.Salt{})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := crypt.SealName(k, "theirs.txt", crypt.MaxIDLen)
	k.Destroy()
	if err != nil {
		t.Fatal(err)
	}
	res = r.ogive("", "head", "--password-file", r.pwFile, theirs)
	if res.code != 1 || !strings.Contains(res.stderr, "does not authenticate") {
		t.Errorf("another key's ID: %s", res)
	}
}

// A prefix that several archives begin with fails, listing them.
func TestIDPrefixAmbiguous(t *testing.T) {
	r := newRig(t, rigOptions{})
	p, err := profile.Open(r.profile, memguard.NewBufferFromBytes([]byte(rigPassword)))
	if err != nil {
		t.Fatal(err)
	}
	master, err := p.MasterKey.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Destroy()
	s := r.directStore()
	var ids []string
	var salt crypt.Salt
	for i := range 7 {
		salt[15] = byte(i)
		k, err := crypt.DeriveKeys(master.Bytes(), salt)
		if err != nil {
			t.Fatal(err)
		}
		id, err := crypt.SealName(k, "file"+string(rune('a'+i))+".txt", crypt.MaxIDLen)
		k.Destroy()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put(context.Background(), id, []byte("not a stream"), object.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	res := r.ogive("", "head", "--password-file", r.pwFile, ids[0][:12])
	if res.code != 1 {
		t.Fatalf("ambiguous prefix: %s", res)
	}
	if !strings.Contains(res.stderr, "storage ID "+ids[0][:12]+" is ambiguous: 7 archives") ||
		!strings.Contains(res.stderr, "  and 2 more\n") || !strings.Contains(res.stderr, "hint: ") {
		t.Errorf("ambiguous prefix:\n%s", res.stderr)
	}
	shown := regexp.MustCompile(`(?m)^  \d{4}-\d\d-\d\dT\d\d:\d\dZ  (\S+)  file[a-g]\.txt$`).FindAllStringSubmatch(res.stderr, -1)
	if len(shown) != 5 {
		t.Errorf("%d candidates shown with date, whole ID and name, want 5:\n%s", len(shown), res.stderr)
	}
}

// Storage IDs, the destination and stdout are checked before the password
// is asked for: none is given here, so reaching the prompt fails otherwise.
func TestIDAndDestinationCheckedBeforePassword(t *testing.T) {
	r := newRig(t, rigOptions{})
	const id = "AgXyZ1abcdefghij"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "AgXy!Z1abcdef", "."}, `storage ID "AgXy!Z1abcdef": not a storage ID: '!' at position 5`},
		{[]string{"get", "Ag12", "."}, `storage ID "Ag12": not a storage ID: 4 characters; give at least 6`},
		{[]string{"head", "AgXy Z1abcdef"}, `storage ID "AgXy Z1abcdef": not a storage ID`},
		{[]string{"restore", id, "AgXy/Z1"}, `storage ID "AgXy/Z1"`},
		{[]string{"rm", "..", id}, `storage ID "..": not a storage ID`},
		{[]string{"verify", "ID", r.pwFile}, `storage ID "ID": not a storage ID`},
		{[]string{"get", id, "restored"}, "ogive: directory restored does not exist\nhint: create it first (mkdir restored), or to save the file as restored, run: ogive get " + id + " . -o restored\n"},
		{[]string{"get", id, "sub/restored"}, "run: ogive get " + id + " sub/ -o restored\n"},
		{[]string{"get", id, r.pwFile}, "ogive: destination " + r.pwFile + " is not a directory\nhint: give the directory to write into; to replace " + r.pwFile + " with the archive, run: ogive get " + id + " " + r.dir + "/ -o pw --force\n"},
	} {
		res := r.ogive("", c.args...)
		if res.code != 1 || !strings.Contains(res.stderr, c.want) || strings.Contains(res.stderr, "password") {
			t.Errorf("%q: want %q before any password:\n%s", c.args, c.want, res)
		}
	}
}

// list --status unknown selects what the table shows as ?????, which the
// shell would expand unquoted.
func TestListStatusUnknown(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.put(r.write("one.txt", []byte("one\n")))
	res := r.ogive("", "list", "--password-file", r.pwFile, "--status", "unknown")
	if res.code != 0 || strings.Contains(res.stdout, "one.txt") {
		t.Errorf("list --status unknown: %s", res)
	}
	res = r.ogive("", "list", "--password-file", r.pwFile, "--status", "Unknown,DEEPS")
	if res.code != 0 || !strings.Contains(res.stdout, "one.txt") {
		t.Errorf("list --status Unknown,DEEPS: %s", res)
	}
	res = r.ogive("", "list", "--password-file", r.pwFile, "--status", "lost")
	if res.code != 1 || !strings.Contains(res.stderr, "use DEEPS, RECOV, READY or unknown") {
		t.Errorf("list --status lost: %s", res)
	}
	res = r.ogive("", "list", "--help")
	if !strings.Contains(res.stdout, "READY or unknown (?????)") {
		t.Errorf("help does not show unknown:\n%s", res.stdout)
	}
}

// Piped, list prints whole IDs and names, oldest first, and the seed's awk
// reads status and ID as $4 and $5; the date carries the time of day.
func TestListPipedSortedAwk(t *testing.T) {
	r := newRig(t, rigOptions{})
	long := strings.Repeat("long name ", 12) + ".txt"
	ids := r.put(r.write("b.txt", []byte("b")), r.write(long, []byte("l")), r.write("a.txt", []byte("a")))
	// Upload dates out of the order of the puts and of the names; the server
	// dates an object by its file's modification time.
	dates := []time.Time{
		time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC),
		time.Date(2019, 5, 5, 23, 59, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 9, 4, 0, 0, time.UTC),
	}
	for i, id := range ids {
		if err := os.Chtimes(r.objectPath(id), dates[i], dates[i]); err != nil {
			t.Fatal(err)
		}
	}
	res := r.ogive("", "list", "--password-file", r.pwFile)
	if res.code != 0 {
		t.Fatal(res)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "SIZE ") || !strings.HasPrefix(lines[1], "----") {
		t.Fatalf("list:\n%s", res.stdout)
	}
	want := []struct{ date, id, name string }{
		{"2019-05-05T23:59Z", ids[1], long},
		{"2026-03-01T09:04Z", ids[2], "a.txt"},
		{"2026-03-01T09:05Z", ids[0], "b.txt"},
	}
	for i, w := range want {
		f := strings.Fields(lines[i+2]) // as awk splits them
		if len(f) < 6 || f[2] != w.date || f[3] != "DEEPS" || f[4] != w.id || !strings.HasSuffix(lines[i+2], " "+w.name) {
			t.Errorf("row %d = %q, want %s DEEPS %s %s", i+1, lines[i+2], w.date, w.id, w.name)
		}
	}
}
