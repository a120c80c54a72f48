package object_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/object"
)

// An archived object whose HEAD fails, as S3's does for one stored with
// SSE-C (400), does not fail a listing that probes it for its restore
// status: the next object is probed, and after a few failures the page is
// taken as listed. Anyone who can write to the bucket can plant one.
func TestS3ListSurvivesFailingProbes(t *testing.T) {
	t.Parallel()
	srv := startServerDay(t, time.Hour)
	ctx := t.Context()
	prefix := testPrefix(t)
	setup := newS3(t, serverConfig(srv, prefix))
	for _, key := range []string{"a", "b", "c", "d", "e"} {
		if err := setup.Put(ctx, key, []byte(key), object.PutOptions{}); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	failing := map[string]bool{}
	rec := &recorder{answer: func(req *http.Request) *http.Response {
		if req.Method != http.MethodHead {
			return nil
		}
		for key := range failing {
			if strings.HasSuffix(req.URL.Path, "/"+key) {
				return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request",
					Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}
			}
		}
		return nil
	}}
	heads := func() int { return len(rec.find(http.MethodHead, nil)) }
	c := serverConfig(srv, prefix)
	c.HTTPClient = &http.Client{Transport: rec}
	want := map[string]object.State{"a": object.StateArchived, "b": object.StateArchived, "c": object.StateArchived,
		"d": object.StateArchived, "e": object.StateArchived}

	failing["a"], failing["b"] = true, true
	if got := states(t, newS3(t, c)); !equalStates(got, want) {
		t.Errorf("List with two failing probes = %v, want %v", got, want)
	}
	if n := heads(); n != 3 {
		t.Errorf("List sent %d HEADs, want 3: a and b failing, c answering", n)
	}

	before := heads()
	failing["c"], failing["d"], failing["e"] = true, true, true
	if got := states(t, newS3(t, c)); !equalStates(got, want) {
		t.Errorf("List with every probe failing = %v, want %v", got, want)
	}
	if n := heads() - before; n != 3 {
		t.Errorf("List with every probe failing sent %d HEADs, want 3 before taking the page as listed", n)
	}
}
