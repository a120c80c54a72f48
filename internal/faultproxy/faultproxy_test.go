package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// backend answers every request with a fixed body and echoes what reached it.
func backend(t *testing.T, body []byte) (*httptest.Server, *[]string) {
	t.Helper()
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" host="+r.Host+" body="+itoa(n))
		w.Header().Set("X-Backend", "yes")
		w.Header().Set("Content-Length", itoa(int64(len(body))))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func start(t *testing.T, o Options) *Proxy {
	t.Helper()
	p, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return p
}

// client never reuses a connection, so each request meets its own fault.
func client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

func TestForwardKeepsHostAndBody(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 100000)
	srv, seen := backend(t, body)
	p := start(t, Options{Target: srv.URL})
	req, _ := http.NewRequest(http.MethodPut, p.URL+"/bucket/key?partNumber=1", strings.NewReader("hello"))
	resp, err := client(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, body) || resp.Header.Get("X-Backend") != "yes" {
		t.Fatalf("forwarded response: %d bytes, err %v, headers %v", len(got), err, resp.Header)
	}
	want := "PUT /bucket/key?partNumber=1 host=" + strings.TrimPrefix(p.URL, "http://") + " body=5"
	if len(*seen) != 1 || (*seen)[0] != want {
		t.Fatalf("backend saw %q, want %q", *seen, want)
	}
	if p.Injected(None) != 1 || p.Requests() != 1 {
		t.Fatalf("counts: none %d, requests %d", p.Injected(None), p.Requests())
	}
}

func TestErrorAnswers(t *testing.T) {
	srv, seen := backend(t, []byte("ok"))
	p := start(t, Options{Target: srv.URL})
	for _, tc := range []struct {
		fault  Fault
		status int
		code   string
	}{
		{InternalError, 500, "<Code>InternalError</Code>"},
		{SlowDown, 503, "<Code>SlowDown</Code>"},
		{NoSuchUpload, 404, "<Code>NoSuchUpload</Code>"},
		{PreconditionFailedIn200, 200, "<Code>PreconditionFailed</Code>"},
	} {
		p.SetRules(Rule{Fault: tc.fault})
		resp, err := client(5*time.Second).Post(p.URL+"/b/k", "text/plain", strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.code) {
			t.Errorf("%v: status %d body %q", tc.fault, resp.StatusCode, body)
		}
		if p.Injected(tc.fault) != 1 {
			t.Errorf("%v injected %d times", tc.fault, p.Injected(tc.fault))
		}
	}
	if len(*seen) != 0 {
		t.Errorf("error answers reached the backend: %q", *seen)
	}
}

func TestResetResponseMidBody(t *testing.T) {
	body := bytes.Repeat([]byte("y"), 1<<20)
	srv, _ := backend(t, body)
	p := start(t, Options{Target: srv.URL})
	p.SetRules(Rule{Fault: ResetResponse})
	resp, err := client(5 * time.Second).Get(p.URL + "/b/k")
	if err != nil {
		t.Fatalf("headers should arrive: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Fatalf("read %d bytes of a reset body without error", len(got))
	}
	if len(got) > len(body)/2 || len(got) == 0 && resp.StatusCode != 200 {
		t.Fatalf("read %d bytes (status %d), want at most half of %d", len(got), resp.StatusCode, len(body))
	}
}

func TestResetRequestMidBody(t *testing.T) {
	srv, seen := backend(t, []byte("ok"))
	p := start(t, Options{Target: srv.URL})
	p.SetRules(Rule{Fault: ResetRequest})
	big := bytes.Repeat([]byte("z"), 8<<20)
	resp, err := client(5*time.Second).Post(p.URL+"/b/k", "application/octet-stream", bytes.NewReader(big))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("upload through a reset answered %d", resp.StatusCode)
	}
	if len(*seen) != 0 {
		t.Fatalf("a reset request reached the backend: %q", *seen)
	}
}

func TestStallUntilClientGivesUp(t *testing.T) {
	srv, _ := backend(t, bytes.Repeat([]byte("s"), 4096))
	p := start(t, Options{Target: srv.URL, Stall: time.Minute})
	for _, f := range []Fault{Stall, StallBody} {
		p.SetRules(Rule{Fault: f})
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/b/k", nil)
		resp, err := client(0).Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%v: err %v, want the client's deadline", f, err)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("%v: the client waited %v", f, d)
		}
	}
}

func TestStallEndsWithReset(t *testing.T) {
	srv, _ := backend(t, []byte("ok"))
	p := start(t, Options{Target: srv.URL, Stall: 100 * time.Millisecond})
	p.SetRules(Rule{Fault: Stall})
	began := time.Now()
	_, err := client(10 * time.Second).Get(p.URL + "/b/k")
	if err == nil {
		t.Fatal("a stalled request succeeded")
	}
	if d := time.Since(began); d < 100*time.Millisecond || d > 5*time.Second {
		t.Fatalf("stall lasted %v, want about 100ms", d)
	}
}

func TestLatency(t *testing.T) {
	srv, _ := backend(t, []byte("ok"))
	p := start(t, Options{Target: srv.URL, Latency: 150 * time.Millisecond})
	began := time.Now()
	resp, err := client(5 * time.Second).Get(p.URL + "/b/k")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(began); d < 150*time.Millisecond {
		t.Fatalf("answered after %v, want at least the 150ms latency", d)
	}
	p.SetLatency(0)
	began = time.Now()
	resp, err = client(5 * time.Second).Get(p.URL + "/b/k")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(began); d >= 150*time.Millisecond {
		t.Fatalf("latency 0 still took %v", d)
	}
}

func TestRuleScheduling(t *testing.T) {
	srv, _ := backend(t, []byte("ok"))
	p := start(t, Options{Target: srv.URL})
	onlyPut := func(r *http.Request) bool { return r.Method == http.MethodPut }
	p.SetRules(
		Rule{Fault: SlowDown, Match: onlyPut, Every: 3, Limit: 2},
		Rule{Fault: InternalError, Match: func(r *http.Request) bool { return r.URL.Path == "/fail" }},
	)
	var statuses []int
	for range 9 {
		req, _ := http.NewRequest(http.MethodPut, p.URL+"/b/k", strings.NewReader("x"))
		resp, err := client(5 * time.Second).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	want := []int{503, 200, 200, 503, 200, 200, 200, 200, 200}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("PUT statuses %v, want %v (every 3rd, at most 2)", statuses, want)
		}
	}
	resp, err := client(5 * time.Second).Get(p.URL + "/fail")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || p.Injected(SlowDown) != 2 || p.Injected(InternalError) != 1 || p.Injected(None) != 7 {
		t.Fatalf("GET /fail: %d; injected slowdown %d, 500 %d, none %d", resp.StatusCode,
			p.Injected(SlowDown), p.Injected(InternalError), p.Injected(None))
	}
}

func TestStartRejectsBadTarget(t *testing.T) {
	for _, target := range []string{"", "ftp://x", "127.0.0.1:80", "http://"} {
		if p, err := Start(Options{Target: target}); err == nil {
			p.Close()
			t.Errorf("Start(%q) succeeded", target)
		}
	}
}

func TestFaultNames(t *testing.T) {
	seen := map[string]bool{}
	for f := None; f <= Throttle; f++ {
		name := f.String()
		if seen[name] || strings.HasPrefix(name, "fault(") {
			t.Errorf("fault %d has name %q", int(f), name)
		}
		seen[name] = true
	}
	if got := Fault(99).String(); got != "fault(99)" {
		t.Errorf("unknown fault prints %q", got)
	}
}

func TestThrottle(t *testing.T) {
	body := bytes.Repeat([]byte("t"), 100<<10)
	srv, seen := backend(t, body)
	p := start(t, Options{Target: srv.URL, Rate: 400 << 10})
	p.SetRules(Rule{Fault: Throttle})
	began := time.Now()
	req, _ := http.NewRequest(http.MethodPut, p.URL+"/b/k", bytes.NewReader(bytes.Repeat([]byte("u"), 100<<10)))
	resp, err := client(10 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("throttled response: %d bytes, %v", len(got), err)
	}
	// 100 KiB each way at 400 KiB/s: half a second, give or take a slice.
	if d := time.Since(began); d < 400*time.Millisecond || d > 5*time.Second {
		t.Fatalf("took %v, want about 500ms", d)
	}
	if len(*seen) != 1 || !strings.HasSuffix((*seen)[0], "body=102400") {
		t.Fatalf("backend saw %q", *seen)
	}
}

// TestPeakInFlight: the proxy counts the most requests it handled at once.
func TestPeakInFlight(t *testing.T) {
	const n = 5
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	t.Cleanup(srv.Close)
	p := start(t, Options{Target: srv.URL})
	done := make(chan error, n)
	for range n {
		go func() {
			resp, err := client(5 * time.Second).Get(p.URL + "/b/k")
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
	}
	for range n {
		<-arrived
	}
	if got := p.PeakInFlight(); got != n {
		t.Errorf("peak %d with %d requests held at the backend, want %d", got, n, n)
	}
	close(release)
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	p.ResetPeak()
	if _, err := client(5 * time.Second).Get(p.URL + "/b/k"); err != nil {
		t.Fatal(err)
	}
	if got := p.PeakInFlight(); got != 1 {
		t.Errorf("peak %d after ResetPeak and one request, want 1", got)
	}
}
