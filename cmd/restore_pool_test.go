package cmd_test

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	fp "github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
)

// TestRestoreManyThroughThrottling: restore by many IDs and restore --all
// send their requests in parallel, at most --concurrency at once, and get
// through a server that answers 503 SlowDown to a share of them more times
// in a row than the SDK retries: each archive ends restoring, the exit
// status is 0, and the lines come in the archives' order.
func TestRestoreManyThroughThrottling(t *testing.T) {
	r := newRig(t, rigOptions{restoreTime: time.Hour})
	const n = 160
	paths := make([]string, n)
	for i := range paths {
		paths[i] = r.write(fmt.Sprintf("many/f%03d", i), []byte(fmt.Sprintf("archive %d", i)))
	}
	ids := r.put(paths...)

	// Every fourth archive's restore is throttled 6 times before it goes
	// through: once more than the SDK's 5 attempts, so only a caller that
	// sends it again gets it through.
	const throttles = 6
	var mu sync.Mutex
	seen := map[string]int{}
	throttled := map[string]bool{}
	for i, id := range ids {
		if i%4 == 0 {
			throttled[id] = true
		}
	}
	r.proxy.SetRules(fp.Rule{Fault: fp.SlowDown, Match: func(req *http.Request) bool {
		if !isRestore(req) {
			return false
		}
		id := path.Base(req.URL.Path)
		mu.Lock()
		defer mu.Unlock()
		seen[id]++
		return throttled[id] && seen[id] <= throttles
	}})
	check := func(t *testing.T, sent []string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, id := range sent {
			want := 1
			if throttled[id] {
				want = throttles + 1
			}
			if seen[id] != want {
				t.Errorf("%s: %d restore requests reached the proxy, want %d", id, seen[id], want)
			}
		}
	}

	// By ID: a third of them, in an order of their own.
	byID := slices.Clone(ids[:n/3])
	slices.Reverse(byID)
	r.proxy.ResetPeak()
	res := r.ogive("", append([]string{"restore", "--password-file", r.pwFile, "--concurrency", "6"}, byID...)...)
	if res.code != 0 {
		t.Fatalf("restore by ID: %s", res)
	}
	var want strings.Builder
	for _, id := range byID {
		fmt.Fprintf(&want, "%s: Restoration request sent.\n", id)
	}
	if res.stdout != want.String() {
		t.Errorf("restore by ID printed\n%s\nwant, in the order given,\n%s", res.stdout, want.String())
	}
	if peak := r.proxy.PeakInFlight(); peak > 6 || peak < 2 {
		t.Errorf("%d requests in flight at most, want 2 to 6 (--concurrency 6)", peak)
	}
	check(t, byID)

	// --all: the rest, in the listing's order (the IDs', sorted).
	rest := slices.Clone(ids[n/3:])
	slices.Sort(rest)
	r.proxy.ResetPeak()
	res = r.ogive("", "restore", "--password-file", r.pwFile, "--all", "--concurrency", "8")
	if res.code != 0 {
		t.Fatalf("restore --all: %s", res)
	}
	want.Reset()
	for _, id := range rest {
		fmt.Fprintf(&want, "%s: Restoration request sent.\n", id)
	}
	if res.stdout != want.String() {
		t.Errorf("restore --all printed\n%s\nwant, in the listing's order,\n%s", res.stdout, want.String())
	}
	if got := strings.Count(res.stderr, "Skipping "); got != len(byID) {
		t.Errorf("%d archives skipped, want the %d restoring already:\n%s", got, len(byID), res.stderr)
	}
	if peak := r.proxy.PeakInFlight(); peak > 8 || peak < 2 {
		t.Errorf("%d requests in flight at most, want 2 to 8 (--concurrency 8)", peak)
	}
	check(t, rest)
	if r.proxy.Injected(fp.SlowDown) != throttles*len(throttled) {
		t.Errorf("%d SlowDown answers, want %d", r.proxy.Injected(fp.SlowDown), throttles*len(throttled))
	}

	s := r.directStore()
	for _, id := range ids {
		info, err := s.Head(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if info.Status.State != object.StateRestoring {
			t.Errorf("%s is %v after restore, want restoring", id, info.Status.State)
		}
	}
}

// TestRestoreAllInterrupted: when restore --all is interrupted, the
// requests not yet begun are never sent, and ogive exits 130.
func TestRestoreAllInterrupted(t *testing.T) {
	r := newRig(t, rigOptions{restoreTime: time.Hour})
	const n, workers, before = 60, 4, 10
	paths := make([]string, n)
	for i := range paths {
		paths[i] = r.write(fmt.Sprintf("many/f%03d", i), []byte(fmt.Sprintf("archive %d", i)))
	}
	r.put(paths...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	restores := 0
	r.proxy.SetRules(fp.Rule{Fault: fp.None, Match: func(req *http.Request) bool {
		if isRestore(req) {
			mu.Lock()
			if restores++; restores == before {
				cancel() // as SIGINT does in main
			}
			mu.Unlock()
		}
		return false
	}})
	r.proxy.SetLatency(20 * time.Millisecond)
	res := r.ogiveCtx(ctx, "", "restore", "--password-file", r.pwFile, "--all", "--concurrency", fmt.Sprint(workers))
	if res.code != 130 {
		t.Fatalf("want exit 130: %s", res)
	}
	mu.Lock()
	sent := restores
	mu.Unlock()
	if sent > before+workers {
		t.Errorf("%d restore requests sent after an interrupt at the %dth, want at most %d", sent, before, before+workers)
	}
}

// TestRestoreAllGivesUpOnRefusal: a server that throttles every restore
// request is not retried for ever: restore gives up, says in one line how
// many requests it did not send, and exits 1.
func TestRestoreAllGivesUpOnRefusal(t *testing.T) {
	r := newRig(t, rigOptions{})
	const n = 20
	paths := make([]string, n)
	for i := range paths {
		paths[i] = r.write(fmt.Sprintf("many/f%03d", i), []byte(fmt.Sprintf("archive %d", i)))
	}
	r.put(paths...)
	r.proxy.SetRules(fp.Rule{Fault: fp.SlowDown, Match: isRestore})
	res := r.ogive("", "restore", "--password-file", r.pwFile, "--all", "--concurrency", "4")
	t.Logf("%s", res)
	if res.code != 1 || res.stdout != "" {
		t.Fatalf("want exit 1 and nothing on stdout: %s", res)
	}
	if !strings.HasSuffix(res.stderr, fmt.Sprintf("ogive: %d of %d restore requests failed\n", n, n)) {
		t.Errorf("stderr does not end with the summary: %q", res.stderr)
	}
	notSent := regexp.MustCompile(`(?m)^ogive: (\d+) restore requests not sent: the server throttled every request for too long$`)
	m := notSent.FindStringSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("no line saying which requests were not sent: %q", res.stderr)
	}
	if slowDowns := strings.Count(res.stderr, "SlowDown"); slowDowns < 1 || slowDowns+atoi(t, m[1]) != n {
		t.Errorf("%d SlowDown errors and %s not sent, want %d in all", slowDowns, m[1], n)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
