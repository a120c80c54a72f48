package cmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/input"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// These tests drive the command tree in-process against the in-memory store,
// for what the script tests cannot reach: a clock moved 200 days back, an
// interrupt in the middle of a wait, a stderr that claims to be a terminal,
// and the exact key sets of the JSON shapes.

// memEnv is a profile on disk whose bucket is an object.Memory.
type memEnv struct {
	t       *testing.T
	dir     string
	profile string
	pwFile  string
	store   *object.Memory

	mu     sync.Mutex
	offset time.Duration // added to the store's clock

	// failRestore, when set, makes the store refuse to restore that key.
	failRestore string
}

// refusingStore fails Restore for one key, as S3 does when a permission or
// the service is missing.
type refusingStore struct {
	*object.Memory
	key string
}

var errRefused = errors.New("restore refused for the test")

func (s refusingStore) Restore(ctx context.Context, key string, days int32, tier object.Tier) (object.RestoreResult, error) {
	if key == s.key {
		return 0, fmt.Errorf("restore %s: %w", key, errRefused)
	}
	return s.Memory.Restore(ctx, key, days, tier)
}

func newMemEnv(t *testing.T, restoreDelay time.Duration) *memEnv {
	t.Helper()
	e := &memEnv{t: t, dir: t.TempDir()}
	e.store = object.NewMemory(e.now, func(object.Tier) time.Duration { return restoreDelay }, 0)
	e.profile = filepath.Join(e.dir, "profile")
	e.pwFile = filepath.Join(e.dir, "pw")
	if err := os.WriteFile(e.pwFile, []byte("correct-horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := profile.New()
	if err != nil {
		t.Fatal(err)
	}
	p.Bucket, p.Region = "memory", "us-east-1"
	pw := memguard.NewBufferFromBytes([]byte("correct-horse"))
	defer pw.Destroy()
	if err := profile.Create(e.profile, p, pw, profile.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *memEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Now().Add(e.offset)
}

// shiftClock makes the store believe it is d later (or earlier) than it is.
func (e *memEnv) shiftClock(d time.Duration) {
	e.mu.Lock()
	e.offset = d
	e.mu.Unlock()
}

type memResult struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

func (e *memEnv) run(ctx context.Context, terminal bool, args ...string) memResult {
	e.t.Helper()
	var out, errb bytes.Buffer
	f := &Factory{
		In:            strings.NewReader(""),
		Out:           &out,
		Err:           &errb,
		ErrIsTerminal: terminal,
		Getenv:        e.getenv,
		KDF:           profile.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1},
		Terminal:      refusingTerminal{},
		NewStore: func(context.Context, *profile.Profile) (object.Store, error) {
			if e.failRestore != "" {
				return refusingStore{e.store, e.failRestore}, nil
			}
			return e.store, nil
		},
	}
	began := time.Now()
	code := Main(ctx, f, append([]string{"--profile", e.profile, "--password-file", e.pwFile}, args...)...)
	return memResult{stdout: out.String(), stderr: errb.String(), code: code, took: time.Since(began)}
}

// getenv gives the commands a private state directory and nothing else.
func (e *memEnv) getenv(k string) string {
	if k == "XDG_STATE_HOME" {
		return filepath.Join(e.dir, "state")
	}
	return ""
}

func (e *memEnv) ok(args ...string) memResult {
	e.t.Helper()
	r := e.run(context.Background(), false, args...)
	if r.code != 0 {
		e.t.Fatalf("ogive %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (e *memEnv) file(name string, size int) string {
	e.t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// put uploads a file and returns its storage ID.
func (e *memEnv) put(args ...string) string {
	e.t.Helper()
	return strings.TrimSpace(e.ok(append([]string{"put"}, args...)...).stdout)
}

// refusingTerminal stands for a process without a terminal, so that a test
// never blocks on /dev/tty.
type refusingTerminal struct{}

func (refusingTerminal) ReadPassword(string) (*memguard.LockedBuffer, error) {
	return nil, input.ErrNoTerminal
}
func (refusingTerminal) ReadLine(string) (string, error) { return "", input.ErrNoTerminal }

// An interrupt ends a wait at once with exit status 130, and get leaves
// nothing behind.
func TestWaitInterrupted(t *testing.T) {
	e := newMemEnv(t, time.Hour)
	id := e.put(e.file("a.bin", 100))
	e.ok("restore", id)
	out := filepath.Join(e.dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"head", "--wait", id}, {"get", "--wait", id, out}} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		r := e.run(ctx, false, args...)
		cancel()
		if r.code != exitInterrupted || !strings.Contains(r.stderr, "ogive: interrupted") {
			t.Errorf("%v interrupted: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if r.took > 5*time.Second {
			t.Errorf("%v took %v to notice the interrupt", args, r.took)
		}
		if !strings.Contains(r.stderr, "restore in progress (RECOV); waiting until it completes") {
			t.Errorf("%v did not say it was waiting: %q", args, r.stderr)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("an interrupted get --wait left %d files", len(ents))
	}
}

// rm deletes an archive past its 180 days without --force; with a young
// one among the IDs and no --force, it deletes nothing at all and says what
// the early deletion would cost.
func TestRmMinimumDuration(t *testing.T) {
	e := newMemEnv(t, time.Hour)
	e.shiftClock(-200 * 24 * time.Hour)
	old := e.put(e.file("old.bin", 1000))
	e.shiftClock(-10 * 24 * time.Hour)
	young := e.put(e.file("young.bin", 1<<20))
	e.shiftClock(0)

	exists := func(id string) bool {
		_, err := e.store.Head(context.Background(), id)
		if err != nil && !errors.Is(err, object.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	r := e.run(context.Background(), false, "rm", old, young)
	if r.code != exitError {
		t.Fatalf("rm of a young archive without --force: exit %d, stderr %q", r.code, r.stderr)
	}
	want := regexp.MustCompile(`(?m)^young\.bin \(` + young + `\) is 10 days old in DEEP_ARCHIVE, which bills at least 180 days: ` +
		`deleting it now would be charged for the remaining 170 days\. Estimated charge for 1\.0 MiB: less than \$0\.0001 \(\$0\.00099 per GB-month; us-east-1 prices of ` +
		pricesAsOf + `, docs/PRICING\.md\)$`)
	if !want.MatchString(r.stderr) {
		t.Errorf("no early-deletion estimate for young.bin: %q", r.stderr)
	}
	if strings.Contains(r.stderr, "old.bin") {
		t.Errorf("an archive past its minimum duration was mentioned: %q", r.stderr)
	}
	if !strings.Contains(r.stderr, "hint: nothing was deleted; add --force") {
		t.Errorf("no hint: %q", r.stderr)
	}
	if !exists(old) || !exists(young) {
		t.Fatal("a refused rm deleted something")
	}

	r = e.ok("rm", old)
	if r.stderr != "Deleted old.bin ("+old+")\n" {
		t.Errorf("rm of a 200-day-old archive: %q", r.stderr)
	}
	if exists(old) {
		t.Error("old.bin still exists")
	}

	// A price of $30,720 per GB-month makes 1 MiB cost $1 a day.
	r = e.ok("rm", "--force", "--price-storage-gb-month", "30720", young)
	if !regexp.MustCompile(`deleting it now is charged for the remaining 170 days\. Estimated charge for 1\.0 MiB: \$170\.\d\d \(\$30720\.00 per GB-month; your prices\)`).MatchString(r.stderr) {
		t.Errorf("rm --force: %q", r.stderr)
	}
	if !strings.HasSuffix(r.stderr, "Deleted young.bin ("+young+")\n") {
		t.Errorf("rm --force did not confirm: %q", r.stderr)
	}
	if exists(young) {
		t.Error("young.bin still exists after rm --force")
	}
}

// On a terminal, put and get draw a bar on stderr and finish with the
// summary line; elsewhere, the summary line is all there is.
func TestProgressOutput(t *testing.T) {
	e := newMemEnv(t, 0)
	path := e.file("big.bin", 20<<20) // two 16 MiB parts
	out := filepath.Join(e.dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	summary := func(verb string) *regexp.Regexp {
		return regexp.MustCompile(`^` + verb + ` big\.bin .*\(20\.0 MiB\).* in [0-9.]+ s \([0-9.]+ [KMG]?i?B/s\)$`)
	}

	r := e.ok("put", path)
	id := strings.TrimSpace(r.stdout)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if strings.Contains(r.stderr, "\r") || len(lines) != 2 || !summary("Uploaded").MatchString(lines[0]) ||
		!strings.HasPrefix(lines[1], "Note: S3 bills DEEP_ARCHIVE objects for at least 180 days") {
		t.Errorf("put off a terminal: %q", r.stderr)
	}
	e.ok("restore", id) // done at once: this store restores without delay
	r = e.ok("get", id, out)
	if strings.Contains(r.stderr, "\r") || !summary("Downloaded").MatchString(strings.TrimSuffix(r.stderr, "\n")) ||
		strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("get off a terminal: %q", r.stderr)
	}

	for _, c := range []struct {
		verb string
		args []string
	}{
		{"Uploaded", []string{"put", path}},
		{"Downloaded", []string{"get", "--force", id, out}},
	} {
		r := e.run(context.Background(), true, c.args...)
		if r.code != 0 {
			t.Fatalf("%v: %d %s", c.args, r.code, r.stderr)
		}
		label := map[string]string{"Uploaded": "put big.bin", "Downloaded": "get big.bin"}[c.verb]
		if !regexp.MustCompile(`\r` + label + ` +0% \[>`).MatchString(r.stderr) {
			t.Errorf("%v on a terminal drew no bar: %q", c.args, r.stderr)
		}
		// The bar is erased, then the summary follows on a clean line.
		i := strings.LastIndex(r.stderr, "\r")
		final := strings.SplitN(strings.TrimPrefix(r.stderr[i+1:], "\x1b[K"), "\n", 2)[0]
		if !summary(c.verb).MatchString(final) || !strings.HasPrefix(r.stderr[i:], "\r\x1b[K") {
			t.Errorf("%v on a terminal ends with %q", c.args, r.stderr[max(0, i-20):])
		}
		q := e.run(context.Background(), true, append([]string{"--quiet"}, c.args...)...)
		if q.code != 0 || q.stderr != "" {
			t.Errorf("--quiet %v: exit %d, stderr %q", c.args, q.code, q.stderr)
		}
	}
}

// The JSON shapes are an interface: these are their exact keys.
func TestJSONKeys(t *testing.T) {
	e := newMemEnv(t, 0)
	path := e.file("a & <b>.bin", 10)
	// mode and mtime: the file put is a regular file, so its ID records both.
	archiveKeys := []string{"date", "id", "mode", "mtime", "name", "restore_expiry", "size", "state", "status", "storage_class"}
	keysOf := func(line string) (map[string]any, []string) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return m, keys
	}

	r := e.ok("put", "--json", path)
	m, keys := keysOf(r.stdout)
	if !slices.Equal(keys, []string{"id", "name", "size", "storage_class"}) ||
		m["name"] != "a & <b>.bin" || m["size"] != 10.0 || m["storage_class"] != "DEEP_ARCHIVE" {
		t.Errorf("put --json: %s", r.stdout)
	}
	if !strings.Contains(r.stdout, `"a & <b>.bin"`) {
		t.Errorf("put --json escaped the name: %s", r.stdout)
	}
	id := m["id"].(string)

	for _, args := range [][]string{{"list", "--json"}, {"head", "--json", id}} {
		r := e.run(context.Background(), false, args...)
		m, keys := keysOf(r.stdout)
		if !slices.Equal(keys, archiveKeys) || m["id"] != id || m["status"] != "DEEPS" || m["state"] != "archived" ||
			m["restore_expiry"] != nil || m["size"] != 10.0 {
			t.Errorf("%v: %s", args, r.stdout)
		}
		if _, err := time.Parse(time.RFC3339, m["date"].(string)); err != nil {
			t.Errorf("%v: date: %v", args, err)
		}
	}

	r = e.ok("restore", "--json", "--tier", "Standard", id)
	m, keys = keysOf(r.stdout)
	if !slices.Equal(keys, slices.Sorted(slices.Values(append([]string{"restore", "tier"}, archiveKeys...)))) ||
		m["restore"] != "requested" || m["tier"] != "Standard" || m["status"] != "RECOV" || m["state"] != "restoring" {
		t.Errorf("restore --json: %s", r.stdout)
	}
}

// A request that fails for one of several IDs is reported, the others go
// on, the failed one gets no result line, and the exit status says so.
func TestRestorePartialFailure(t *testing.T) {
	e := newMemEnv(t, time.Hour)
	good := e.put(e.file("good.bin", 10))
	bad := e.put(e.file("bad.bin", 10))
	e.failRestore = bad
	r := e.run(context.Background(), false, "restore", bad, good)
	if r.code != exitError {
		t.Fatalf("exit %d, want %d: %s", r.code, exitError, r.stderr)
	}
	if r.stdout != good+": Restoration request sent.\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	for _, want := range []string{
		"Estimated cost: Bulk retrieval of 2 archives",
		"ogive: restore " + bad + ": restore refused for the test\n",
		"ogive: 1 of 2 restore requests failed\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %q", want, r.stderr)
		}
	}
	st, err := e.store.Head(context.Background(), good)
	if err != nil || st.Status.State != object.StateRestoring {
		t.Errorf("the good archive was not restored: %v, %v", st.Status, err)
	}

	// The same with --json: no line for the failed one, whose request is
	// sent again as it is still archived; a line for the one skipped.
	other := e.put(e.file("other.bin", 10))
	r = e.run(context.Background(), false, "restore", "--json", bad, good, other)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != exitError || len(lines) != 2 ||
		!strings.Contains(lines[0], `"id":"`+good+`"`) || !strings.Contains(lines[0], `"restore":"in_progress"`) ||
		!strings.Contains(lines[1], `"id":"`+other+`"`) || !strings.Contains(lines[1], `"restore":"requested"`) {
		t.Errorf("restore --json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
