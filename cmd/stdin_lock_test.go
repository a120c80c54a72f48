package cmd_test

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	fp "github.com/ogive-project/ogive/internal/faultproxy"
)

// TestUploadsAbortSparesRunningStdinPut: a put of stdin has no record, but it
// locks its storage ID from before its multipart upload exists, so an
// "ogive uploads --abort" (a cron job, say) while it runs refuses with the
// pid of the put, and the put completes, leaving no upload and no lock file.
func TestUploadsAbortSparesRunningStdinPut(t *testing.T) {
	r := newRig(t, rigOptions{})
	data := randomBytes(t, 17<<20) // two parts
	// Part 1 crawls at 2 MiB/s: eight seconds for the abort to try.
	firstPart := func(req *http.Request) bool { return isUploadPart(req) && req.URL.Query().Get("partNumber") == "1" }
	r.proxy.SetRules(fp.Rule{Fault: fp.Throttle, Match: firstPart, Limit: 1})
	putDone := make(chan result, 1)
	go func() {
		putDone <- r.ogive(string(data), "put", "--password-file", r.pwFile, "--name", "nightly.tar", "-")
	}()
	waitFor(t, "the put to send its first part", func() bool { return r.proxy.Injected(fp.Throttle) > 0 })

	abort := r.ogive("", "uploads", "--abort", "--password-file", r.pwFile)
	want := "another ogive (pid " + strconv.Itoa(os.Getpid()) + ") is uploading nightly.tar"
	if abort.code != 1 || !strings.Contains(abort.stderr, "not aborting the upload of nightly.tar") ||
		!strings.Contains(abort.stderr, want) || strings.Contains(abort.stderr, "Aborted") ||
		!strings.Contains(abort.stderr, "hint: a put is sending it: let it finish") {
		t.Errorf("uploads --abort during a put of stdin: %s", abort)
	}
	put := <-putDone
	if put.code != 0 || len(strings.Fields(put.stdout)) != 1 {
		t.Fatalf("the put of stdin: %s", put)
	}
	if objects, uploads := bucketState(t, r); objects != 1 || uploads != 0 {
		t.Errorf("%d objects and %d unfinished uploads, want 1 and 0", objects, uploads)
	}
	if files := stateFiles(t, r); len(files) != 0 {
		t.Errorf("left in the state directory: %v", files)
	}
}

// TestStdinPutWithoutStateDirectoryWarns: with no state directory a put of
// stdin still goes, but says that it takes no lock.
func TestStdinPutWithoutStateDirectoryWarns(t *testing.T) {
	r := newRig(t, rigOptions{})
	env := r.env
	r.env = map[string]string{"OGIVE_PROFILE": env["OGIVE_PROFILE"]}
	defer func() { r.env = env }()
	res := r.ogive("piped data", "put", "--quiet", "--password-file", r.pwFile, "--name", "p.txt", "-")
	want := "warning: no directory for upload state: set HOME or XDG_STATE_HOME; this put of stdin takes no lock, " +
		"so an 'ogive uploads --abort' meanwhile would abort it\n"
	if res.code != 0 || res.stderr != want {
		t.Fatalf("put of stdin without a state directory: %s", res)
	}
}

// TestStdinPutAbortedFromElsewhere: when the multipart upload of a put of
// stdin is aborted from elsewhere meanwhile (S3 answers NoSuchUpload), the
// put says so, and does not send the user to check a storage ID.
func TestStdinPutAbortedFromElsewhere(t *testing.T) {
	r := newRig(t, rigOptions{})
	secondPart := func(req *http.Request) bool { return isUploadPart(req) && req.URL.Query().Get("partNumber") == "2" }
	r.proxy.SetRules(fp.Rule{Fault: fp.NoSuchUpload, Match: secondPart})
	res := r.ogive(string(randomBytes(t, 17<<20)), "put", "--password-file", r.pwFile, "--name", "nightly.tar", "-")
	if res.code != 1 || !strings.Contains(res.stderr, "ogive: upload nightly.tar: the multipart upload was aborted from elsewhere") ||
		!strings.Contains(res.stderr, "hint: nothing was stored") || strings.Contains(res.stderr, "check the storage ID") {
		t.Fatalf("put of stdin whose upload was aborted: %s", res)
	}
	if files := stateFiles(t, r); len(files) != 0 {
		t.Errorf("left in the state directory: %v", files)
	}
}

// TestRecordWithoutUploadIDIsAborted kills a put of a file while S3's answer
// to CreateMultipartUpload is on its way: the record has no upload ID and the
// bucket has the upload. "ogive uploads" shows it with its file; then either
// the next put of the file or "ogive uploads --abort" must abort it, leaving
// no upload billed until a lifecycle rule.
func TestRecordWithoutUploadIDIsAborted(t *testing.T) {
	r := newRig(t, rigOptions{})
	bin := buildOgive(t)
	path := r.write("big.bin", randomBytes(t, 17<<20))
	for _, then := range []string{"put", "uploads --abort"} {
		t.Run(then, func(t *testing.T) {
			r.proxy.SetRules(fp.Rule{Fault: fp.StallBody, Match: isCreateUpload, Limit: 1})
			defer r.proxy.SetRules()
			stalls := r.proxy.Injected(fp.StallBody)
			_, before := bucketState(t, r)
			p := r.start(t, bin, nil, "put", "--password-file", r.pwFile, path)
			waitFor(t, "the create to stall", func() bool { return r.proxy.Injected(fp.StallBody) > stalls })
			waitFor(t, "the upload to exist", func() bool { _, uploads := bucketState(t, r); return uploads > before })
			p.cmd.Process.Kill()
			<-p.done
			r.proxy.SetRules()

			list := r.ogive("", "uploads", "--password-file", r.pwFile)
			if list.code != 0 || !strings.Contains(list.stdout, "big.bin  "+path+"  (bucket") {
				t.Fatalf("uploads after the kill: %s", list)
			}
			var res result
			if then == "put" {
				res = r.ogive("", "put", "--password-file", r.pwFile, path)
			} else {
				res = r.ogive("", "uploads", "--abort", "--password-file", r.pwFile)
			}
			if res.code != 0 {
				t.Fatalf("%s: %s", then, res)
			}
			if _, uploads := bucketState(t, r); uploads != 0 {
				t.Fatalf("%d unfinished uploads after %s", uploads, then)
			}
			for _, f := range stateFiles(t, r) {
				if strings.HasSuffix(f, ".json") {
					t.Errorf("record left after %s: %s", then, f)
				}
			}
		})
	}
}

// TestUploadsAbortOfAnEndedUpload: when S3 answers NoSuchUpload to the abort
// (the put completed or aborted the upload since it was listed), uploads
// --abort says the upload had already ended, not that it aborted it.
func TestUploadsAbortOfAnEndedUpload(t *testing.T) {
	r := newRig(t, rigOptions{})
	path := r.write("big.bin", randomBytes(t, 17<<20))
	secondPart := func(req *http.Request) bool { return isUploadPart(req) && req.URL.Query().Get("partNumber") == "2" }
	r.proxy.SetRules(fp.Rule{Fault: fp.InternalError, Match: secondPart})
	if res := r.ogive("", "put", "--password-file", r.pwFile, path); res.code != 1 {
		t.Fatalf("put with part 2 failing: %s", res)
	}
	isAbort := func(req *http.Request) bool {
		return req.Method == http.MethodDelete && req.URL.Query().Has("uploadId")
	}
	r.proxy.SetRules(fp.Rule{Fault: fp.NoSuchUpload, Match: isAbort})
	res := r.ogive("", "uploads", "--abort", "--password-file", r.pwFile)
	if res.code != 0 || !strings.Contains(res.stderr, "The upload of big.bin (") ||
		!strings.Contains(res.stderr, ") had already ended.") || strings.Contains(res.stderr, "Aborted") {
		t.Fatalf("uploads --abort answered NoSuchUpload: %s", res)
	}
	for _, f := range stateFiles(t, r) {
		t.Errorf("left in the state directory: %s", f)
	}
}
