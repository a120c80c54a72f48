package object_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
)

// TestThrottled: the errors the SDK gives after S3 throttled a request are
// recognised, through the SDK's wrapping: after its attempts ran out, and
// after its retry quota ran out (which many throttled requests in a row
// do). Other errors are not.
func TestThrottled(t *testing.T) {
	t.Parallel()
	s, proxy := proxiedS3(t)
	ctx := context.Background()

	isPost := func(r *http.Request) bool { return r.Method == http.MethodPost }
	proxy.SetRules(faultproxy.Rule{Fault: faultproxy.SlowDown, Match: isPost})
	quota := false
	// 5 attempts each, 5 retry tokens a retry out of 500: the quota runs
	// out after about 25 requests.
	for i := range 40 {
		_, err := s.Restore(ctx, "throttled", 1, object.TierBulk)
		if err == nil {
			t.Fatal("restore went through a proxy that throttles it")
		}
		if !object.Throttled(err) {
			t.Fatalf("request %d: Throttled(%v) = false", i, err)
		}
		quota = quota || strings.Contains(err.Error(), "quota")
	}
	if !quota {
		t.Error("the SDK's retry quota never ran out: that case is untested")
	}

	// HEAD answers carry no error code: the status says it.
	proxy.SetRules(faultproxy.Rule{Fault: faultproxy.SlowDown})
	if _, err := s.Head(ctx, "throttled"); !object.Throttled(err) {
		t.Errorf("HEAD answered 503: Throttled(%v) = false", err)
	}

	proxy.SetRules(faultproxy.Rule{Fault: faultproxy.InternalError})
	if _, err := s.Restore(ctx, "broken", 1, object.TierBulk); err == nil || object.Throttled(err) {
		t.Errorf("500 InternalError: Throttled(%v) = true", err)
	}
	proxy.SetRules()
	if _, err := s.Restore(ctx, "missing", 1, object.TierBulk); err == nil || object.Throttled(err) {
		t.Errorf("404: Throttled(%v) = true", err)
	}
	if object.Throttled(nil) {
		t.Error("Throttled(nil) = true")
	}
}

// proxiedS3 is a store on the local server through a fault proxy, with the
// retries' backoff shortened.
func proxiedS3(t *testing.T) (*object.S3, *faultproxy.Proxy) {
	t.Helper()
	srv := startServer(t)
	proxy, err := faultproxy.Start(faultproxy.Options{Target: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	c := serverConfig(srv, testPrefix(t))
	c.Endpoint = proxy.URL
	c.MaxBackoff = time.Millisecond
	return newS3(t, c), proxy
}
