package cmd_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	fp "github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
)

// TestFaults runs put, list, restore and get through a proxy that resets
// connections mid-body, stalls, answers 500 and 503 SlowDown and adds
// latency. Each command must succeed, and what get writes must be the
// file that was put, byte for byte.
func TestFaults(t *testing.T) {
	r := newRig(t, rigOptions{})
	big := randomBytes(t, 21<<20) // two parts: 16 MiB and the rest
	small := []byte("a small file, stored with a single PUT\n")
	bigPath := r.write("big.bin", big)
	smallPath := r.write("small.txt", small)
	r.proxy.SetLatency(5 * time.Millisecond)

	// put: every request kind of an upload meets a fault, some twice.
	r.proxy.SetRules(
		fp.Rule{Fault: fp.SlowDown, Match: isCreateUpload, Limit: 1},
		fp.Rule{Fault: fp.ResetRequest, Match: isUploadPart, Limit: 1},
		fp.Rule{Fault: fp.Stall, Match: isUploadPart, Limit: 1},
		fp.Rule{Fault: fp.InternalError, Match: isUploadPart, Limit: 1},
		fp.Rule{Fault: fp.InternalError, Match: isCompleteUpload, Limit: 1},
		fp.Rule{Fault: fp.SlowDown, Match: isPutObject, Limit: 1},
		fp.Rule{Fault: fp.ResetRequest, Match: isPutObject, Limit: 1},
	)
	res := r.ogive("", "put", "--password-file", r.pwFile, bigPath, smallPath)
	if res.code != 0 {
		t.Fatalf("put through faults: %s", res)
	}
	ids := strings.Fields(res.stdout)
	if len(ids) != 2 {
		t.Fatalf("put printed %q", res.stdout)
	}
	// Faults that were retried away leave no trace in the output.
	if strings.Contains(res.stderr, "WARN") || strings.Contains(res.stderr, "ogive:") {
		t.Errorf("put printed warnings or errors: %q", res.stderr)
	}
	for _, f := range []fp.Fault{fp.SlowDown, fp.ResetRequest, fp.Stall, fp.InternalError} {
		if r.proxy.Injected(f) == 0 {
			t.Errorf("put: fault %v was never injected", f)
		}
	}
	// What the server holds is exactly the encrypted stream, no part twice.
	for i, n := range []int{len(big), len(small)} {
		st, err := os.Stat(r.objectPath(ids[i]))
		if err != nil {
			t.Fatal(err)
		}
		if want := crypt.EncryptedSize(int64(n)); st.Size() != want {
			t.Errorf("object %d holds %d bytes, want %d", i, st.Size(), want)
		}
	}

	// list: failed pages are fetched again.
	r.proxy.SetRules(
		fp.Rule{Fault: fp.SlowDown, Match: isList, Limit: 1},
		fp.Rule{Fault: fp.ResetResponse, Match: isList, Limit: 1},
		fp.Rule{Fault: fp.StallBody, Match: isList, Limit: 1},
		fp.Rule{Fault: fp.InternalError, Match: isList, Limit: 1},
	)
	before := r.proxy.Injected(fp.StallBody)
	res = r.ogive("", "list", "--password-file", r.pwFile)
	if res.code != 0 || !strings.Contains(res.stdout, " big.bin\n") || !strings.Contains(res.stdout, " small.txt\n") {
		t.Fatalf("list through faults: %s", res)
	}
	if r.proxy.Injected(fp.StallBody) == before {
		t.Errorf("list: no stall was injected")
	}

	// restore: a reset after the server accepted the request makes the
	// retry meet "already in progress", which is success too.
	r.proxy.SetRules(
		fp.Rule{Fault: fp.InternalError, Match: isRestore, Limit: 1},
		fp.Rule{Fault: fp.SlowDown, Match: isRestore, Limit: 1},
		fp.Rule{Fault: fp.ResetResponse, Match: isRestore, Limit: 1},
	)
	res = r.ogive("", "restore", "--password-file", r.pwFile, ids[0], ids[1])
	if res.code != 0 || strings.Count(res.stdout, "Restoration") != 2 {
		t.Fatalf("restore through faults: %s", res)
	}
	r.restoreAll(ids...)

	// get: ranges cut mid-body, stalled mid-body, refused; a HEAD refused.
	r.proxy.SetRules(
		fp.Rule{Fault: fp.InternalError, Match: isHead, Limit: 1},
		fp.Rule{Fault: fp.ResetResponse, Match: isGetObject, Every: 2, Limit: 2},
		fp.Rule{Fault: fp.StallBody, Match: isGetObject, Limit: 1},
		fp.Rule{Fault: fp.SlowDown, Match: isGetObject, Limit: 1},
	)
	out := r.mkdir("out")
	for i := range ids {
		res = r.ogive("", "get", "--password-file", r.pwFile, "--concurrency", "2", ids[i], out)
		if res.code != 0 {
			t.Fatalf("get through faults: %s", res)
		}
	}
	for _, f := range []fp.Fault{fp.ResetResponse, fp.StallBody, fp.SlowDown} {
		if r.proxy.Injected(f) == 0 {
			t.Errorf("get: fault %v was never injected", f)
		}
	}
	for name, want := range map[string][]byte{"big.bin": big, "small.txt": small} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s after faults: %d bytes, err %v; want the %d bytes put", name, len(got), err, len(want))
		}
	}
	if got := entries(t, out); len(got) != 2 {
		t.Errorf("out holds %q, want only the two files", got)
	}
}

// TestLostAnswers cuts the connection after the server did what a request
// asked, before its answer, so the SDK sends the request again:
//   - CreateMultipartUpload: the retry creates a second upload; the first,
//     whose ID ogive never learnt, must not be left to cost storage.
//   - CompleteMultipartUpload, sent with If-None-Match: *: the retry finds
//     the object the first one made, and the server answers 412
//     PreconditionFailed. AWS may also answer NoSuchUpload, or the 412 in
//     the body of a 200 (a Complete's status goes out before its result;
//     the SDK takes that for a 500 and tries again until it gives up),
//     which the proxy gives in the next cases. The put must see that the
//     archive is its own and succeed.
//   - PutObject of a small file, also sent with If-None-Match: *: the
//     retry gets 412 likewise.
//
// Both kinds of put run each case: a file (resumable) and stdin (streamed).
func TestLostAnswers(t *testing.T) {
	r := newRig(t, rigOptions{})
	large := randomBytes(t, 21<<20) // two parts
	small := randomBytes(t, 1000)   // one PutObject
	for _, lost := range []struct {
		name  string
		data  []byte
		rules []fp.Rule
	}{
		{"create", large, []fp.Rule{{Fault: fp.ResetResponse, Match: isCreateUpload, Limit: 1}}},
		{"complete/412", large, []fp.Rule{{Fault: fp.ResetResponse, Match: isCompleteUpload, Limit: 1}}},
		{"complete/nosuchupload", large, []fp.Rule{
			{Fault: fp.ResetResponse, Match: isCompleteUpload, Limit: 1},
			{Fault: fp.NoSuchUpload, Match: isCompleteUpload, Limit: 1},
		}},
		{"complete/412-in-200", large, []fp.Rule{
			{Fault: fp.ResetResponse, Match: isCompleteUpload, Limit: 1},
			{Fault: fp.PreconditionFailedIn200, Match: isCompleteUpload}, // every repeat
		}},
		{"put/412", small, []fp.Rule{{Fault: fp.ResetResponse, Match: isPutObject, Limit: 1}}},
	} {
		data := lost.data
		path := r.write(strings.ReplaceAll(lost.name, "/", "-")+".bin", data)
		for _, put := range []struct {
			name  string
			stdin string
			args  []string
		}{
			{"file", "", []string{path}},
			{"stdin", string(data), []string{"--name", "piped.bin", "-"}},
		} {
			t.Run(lost.name+"/"+put.name, func(t *testing.T) {
				var before []int
				for _, rule := range lost.rules {
					before = append(before, r.proxy.Injected(rule.Fault))
				}
				r.proxy.SetRules(lost.rules...)
				res := r.ogive(put.stdin, append([]string{"put", "--password-file", r.pwFile}, put.args...)...)
				r.proxy.SetRules()
				for i, rule := range lost.rules {
					if r.proxy.Injected(rule.Fault) == before[i] {
						t.Fatalf("fault %v was not injected", rule.Fault)
					}
				}
				if res.code != 0 {
					t.Fatalf("put after a lost answer: %s", res)
				}
				st, err := os.Stat(r.objectPath(strings.TrimSpace(res.stdout)))
				if err != nil {
					t.Fatal(err)
				}
				if want := crypt.EncryptedSize(int64(len(data))); st.Size() != want {
					t.Errorf("object holds %d bytes, want %d", st.Size(), want)
				}
				uploads, err := r.directStore().ListUploads(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if len(uploads) != 0 {
					t.Errorf("uploads left behind: %+v", uploads)
				}
			})
		}
	}
}

// TestRetriesRunOut makes every attempt fail: each command gives up after a
// bounded time, exits 1 with a message that names the failure, and leaves
// nothing behind: no file, no temporary file, no archive, no upload.
func TestRetriesRunOut(t *testing.T) {
	r := newRig(t, rigOptions{})
	data := randomBytes(t, 18<<20) // a multipart upload
	path := r.write("data.bin", data)
	ids := r.put(path, r.write("archived.txt", []byte("never restored\n")))
	r.restoreAll(ids[0])
	s := r.directStore()
	ctx := context.Background()
	count := func() int {
		n := 0
		if err := s.List(ctx, func(object.Info) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	stored := count()

	// Five attempts, with waits capped at testMaxBackoff, and a second of
	// idle timeout for each stalled one; get retries a range four times.
	const bound = 20 * time.Second
	// Notes may come first (put's cost notice); the error is the end.
	oneLine := regexp.MustCompile(`(^|\n)ogive: [^\n]+\n(hint: [^\n]+\n)?$`)
	// A failed put leaves no archive, and either no multipart upload or
	// resume state that records it; the next case starts afresh.
	noArchiveLeft := func(t *testing.T) {
		if n := count(); n != stored {
			t.Errorf("%d objects after a failed put, want %d", n, stored)
		}
		ups, err := s.ListUploads(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ups) > 0 && !hasStateFiles(t, r) {
			t.Errorf("%d multipart uploads left after a failed put, and no resume state", len(ups))
		}
		for _, u := range ups {
			s.AbortUpload(ctx, u.Key, u.UploadID)
		}
		os.RemoveAll(r.env["XDG_STATE_HOME"])
	}
	cases := []struct {
		name  string
		rule  fp.Rule
		args  []string
		want  string // a regular expression the message matches, case aside
		check func(t *testing.T)
	}{
		{"list/503", fp.Rule{Fault: fp.SlowDown, Match: isList}, []string{"list"}, "SlowDown", nil},
		{"list/stall", fp.Rule{Fault: fp.Stall, Match: isList}, []string{"list"}, "timeout", nil},
		{"put/500", fp.Rule{Fault: fp.InternalError, Match: isPut}, []string{"put", path}, "InternalError", noArchiveLeft},
		{"put/reset", fp.Rule{Fault: fp.ResetRequest, Match: isPut}, []string{"put", path}, "connection reset|broken pipe|closed network connection", noArchiveLeft},
		{"restore/503", fp.Rule{Fault: fp.SlowDown, Match: isRestore}, []string{"restore", ids[1]}, "SlowDown", nil},
		{"get/reset", fp.Rule{Fault: fp.ResetResponse, Match: isGetObject}, []string{"get", ids[0], "OUT"}, "download", nil},
		{"get/head-503", fp.Rule{Fault: fp.SlowDown, Match: isHead}, []string{"get", ids[0], "OUT"}, "503", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := r.mkdir("out-" + strings.ReplaceAll(tc.name, "/", "-"))
			args := append([]string{}, tc.args...)
			for i := range args {
				if args[i] == "OUT" {
					args[i] = out
				}
			}
			r.proxy.SetRules(tc.rule)
			res := r.ogive("", append(args[:1:1], append([]string{"--password-file", r.pwFile}, args[1:]...)...)...)
			r.proxy.SetRules()
			t.Logf("%s", res)
			if res.code != 1 {
				t.Fatalf("want exit 1: %s", res)
			}
			if res.took > bound {
				t.Errorf("gave up after %v, want within %v", res.took, bound)
			}
			if !oneLine.MatchString(res.stderr) || strings.Count(res.stderr, "ogive: ") != 1 {
				t.Errorf("stderr is not one message and an optional hint: %q", res.stderr)
			}
			if !regexp.MustCompile("(?i)" + tc.want).MatchString(res.stderr) {
				t.Errorf("stderr does not name %q: %q", tc.want, res.stderr)
			}
			// Nothing under a final name; a failed get may keep what
			// authenticated in hidden, private files for the next run.
			for _, name := range entries(t, out) {
				st, err := os.Stat(filepath.Join(out, name))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(name, ".data.bin.ogive-partial") || st.Mode().Perm() != 0o600 {
					t.Errorf("left %q (mode %v) in the destination", name, st.Mode())
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

// TestSlowLinkIsNotCut: the idle timeout ends transfers that stop, never
// ones that are slow. Through a link of 2 MiB/s, a 4 MiB put and get each
// take twice the idle timeout and more, and succeed at the first attempt.
func TestSlowLinkIsNotCut(t *testing.T) {
	r := newRig(t, rigOptions{})
	data := randomBytes(t, 4<<20)
	path := r.write("slow.bin", data)
	r.proxy.SetRules(fp.Rule{Fault: fp.Throttle, Match: func(req *http.Request) bool { return isPut(req) || isGetObject(req) }})
	res := r.ogive("", "put", "--password-file", r.pwFile, path)
	if res.code != 0 {
		t.Fatalf("slow put: %s", res)
	}
	if res.took < 2*testIdleTimeout {
		t.Fatalf("the put took %v: the link was not slow enough to test anything", res.took)
	}
	id := strings.TrimSpace(res.stdout)
	r.restoreAll(id)
	r.proxy.SetRules(fp.Rule{Fault: fp.Throttle, Match: isGetObject})
	out := r.mkdir("out")
	res = r.ogive("", "get", "--password-file", r.pwFile, id, out)
	if res.code != 0 {
		t.Fatalf("slow get: %s", res)
	}
	if res.took < 2*testIdleTimeout {
		t.Fatalf("the get took %v: the link was not slow enough to test anything", res.took)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "slow.bin")); !bytes.Equal(got, data) {
		t.Error("the slow download differs")
	}
	// One throttled PUT and one throttled GET: no attempt was cut and retried.
	if n := r.proxy.Injected(fp.Throttle); n != 2 {
		t.Errorf("%d throttled requests, want 2 (a retry means a slow transfer was cut)", n)
	}
}
