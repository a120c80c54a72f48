package cmd_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTransfersInFlight: far from the server, the parts of a put and the
// ranges of a get go many at once by default (the proxy holds each request
// half a second, as a long round trip does), and --concurrency fixes their
// number.
func TestTransfersInFlight(t *testing.T) {
	r := newRig(t, rigOptions{})
	data := randomBytes(t, 100<<20) // 7 parts of 16 MiB, 13 ranges of 8 MiB
	big := r.write("big.bin", data)
	r.proxy.SetLatency(500 * time.Millisecond)
	defer r.proxy.SetLatency(0)

	put := func(args ...string) (string, int) {
		t.Helper()
		r.proxy.ResetPeak()
		res := r.ogive("", append([]string{"put", "--password-file", r.pwFile, "--storage-class", "STANDARD", "--no-resume"}, append(args, big)...)...)
		if res.code != 0 {
			t.Fatalf("put %v: %s", args, res)
		}
		return strings.TrimSpace(res.stdout), r.proxy.PeakInFlight()
	}
	id, peak := put()
	if peak < 7 {
		t.Errorf("put: %d requests in flight at most, want the 7 parts at once", peak)
	}
	if _, peak := put("--concurrency", "2"); peak > 2 {
		t.Errorf("put --concurrency 2: %d requests in flight", peak)
	}

	get := func(args ...string) int {
		t.Helper()
		out := r.mkdir("out-" + strings.Join(args, ""))
		r.proxy.ResetPeak()
		res := r.ogive("", append([]string{"get", "--password-file", r.pwFile}, append(args, id, out)...)...)
		if res.code != 0 {
			t.Fatalf("get %v: %s", args, res)
		}
		got, err := os.ReadFile(filepath.Join(out, "big.bin"))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get %v: the file is not what was put (%v)", args, err)
		}
		return r.proxy.PeakInFlight()
	}
	if peak := get(); peak < 13 {
		t.Errorf("get: %d requests in flight at most, want the 13 ranges at once", peak)
	}
	if peak := get("--concurrency", "3"); peak > 3 {
		t.Errorf("get --concurrency 3: %d requests in flight", peak)
	}
}

// TestRmManyAtOnce: rm of many archives sends its HEADs and DELETEs many at
// once, and still says what it deleted in the order it was asked.
func TestRmManyAtOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	var files []string
	for i := range 12 {
		files = append(files, r.write(fmt.Sprintf("f%02d.txt", i), []byte(fmt.Sprintf("file %d\n", i))))
	}
	res := r.ogive("", append([]string{"put", "--password-file", r.pwFile, "--storage-class", "STANDARD"}, files...)...)
	if res.code != 0 {
		t.Fatal(res)
	}
	ids := strings.Fields(res.stdout)
	slices.Reverse(ids)
	r.proxy.SetLatency(300 * time.Millisecond)
	defer r.proxy.SetLatency(0)
	r.proxy.ResetPeak()
	res = r.ogive("", append([]string{"rm", "--password-file", r.pwFile, "--yes", "--force"}, ids...)...)
	if res.code != 0 {
		t.Fatal(res)
	}
	if peak := r.proxy.PeakInFlight(); peak < 6 {
		t.Errorf("rm: %d requests in flight at most, want many of the 24", peak)
	}
	var want strings.Builder
	for i := range 12 {
		fmt.Fprintf(&want, "Deleted f%02d.txt (%s)\n", 11-i, ids[i])
	}
	if res.stderr != want.String() {
		t.Errorf("rm said\n%s\nwant, in the order asked,\n%s", res.stderr, want.String())
	}
	r.proxy.SetLatency(0)
	if res := r.ogive("", "list", "--password-file", r.pwFile); strings.Contains(res.stdout, "f0") {
		t.Errorf("archives left after rm:\n%s", res.stdout)
	}
}

// TestUploadsListsPartsAtOnce: uploads asks for the parts of many
// unfinished uploads at once, and lists each with what the bucket holds.
func TestUploadsListsPartsAtOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	var paths []string
	for i := range 4 {
		paths = append(paths, r.unfinishedUpload(t, fmt.Sprintf("big%d.bin", i)))
	}
	r.proxy.SetLatency(300 * time.Millisecond)
	defer r.proxy.SetLatency(0)
	r.proxy.ResetPeak()
	res := r.ogive("", "uploads", "--password-file", r.pwFile)
	if res.code != 0 {
		t.Fatal(res)
	}
	if peak := r.proxy.PeakInFlight(); peak < 3 {
		t.Errorf("uploads: %d requests in flight at most, want the 4 ListParts at once", peak)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("uploads listed\n%s", res.stdout)
	}
	// (Started within the same second, they come in no set order.)
	for _, p := range paths {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, "  "+p+"  ") && strings.HasSuffix(l, " sent)") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s is on %d lines with its parts, want 1:\n%s", p, n, res.stdout)
		}
	}
}
