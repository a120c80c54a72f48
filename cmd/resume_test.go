package cmd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ogive-project/ogive/cmd"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/internal/s3local"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// meter is a reverse proxy that counts the object bytes that cross it (part
// and object bodies sent, object bodies received) and paces them, so that
// a test can kill ogive half-way through a transfer.
type meter struct {
	sent, received atomic.Int64
	rate           int64 // bytes per second each way
	srv            *http.Server
	url            string
}

func startMeter(t *testing.T, target string, rate int64) *meter {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	m := &meter{rate: rate}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host // signed: the server checks it
		if pr.Out.Method == http.MethodPut && pr.Out.Body != nil {
			pr.Out.Body = &paced{r: pr.Out.Body, count: &m.sent, rate: rate}
		}
	}}
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && resp.StatusCode/100 == 2 && !isListing(resp.Request) {
			resp.Body = &paced{r: resp.Body, count: &m.received, rate: rate}
		}
		return nil
	}
	rp.FlushInterval = -1
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	m.srv = &http.Server{Handler: rp}
	go m.srv.Serve(ln)
	t.Cleanup(func() { m.srv.Close() })
	m.url = "http://" + ln.Addr().String()
	return m
}

func isListing(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("list-type") || q.Has("uploads") || q.Has("uploadId") || q.Has("attributes")
}

type paced struct {
	r     io.ReadCloser
	count *atomic.Int64
	rate  int64
}

func (p *paced) Read(b []byte) (int, error) {
	if len(b) > 256<<10 {
		b = b[:256<<10]
	}
	n, err := p.r.Read(b)
	p.count.Add(int64(n))
	time.Sleep(time.Duration(int64(n) * int64(time.Second) / p.rate))
	return n, err
}

func (p *paced) Close() error { return p.r.Close() }

// TestResumeAfterSIGKILL kills put and get with SIGKILL about half-way and
// runs them again: each second run moves at most 60% of the bytes, and the
// result is the original file.
func TestResumeAfterSIGKILL(t *testing.T) {
	const size = 256 << 20
	dir := t.TempDir()
	srv, err := s3local.Start(context.Background(), s3local.Options{
		Dir: t.TempDir(), Bucket: "ogive-resume",
		Tiers: map[string]time.Duration{"Bulk": time.Second, "Standard": time.Second}, Day: time.Hour,
	})
	if err != nil {
		t.Fatalf("start the local Deep Archive server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	m := startMeter(t, srv.Endpoint, 96<<20)

	env := map[string]string{"HOME": dir, "OGIVE_PROFILE": filepath.Join(dir, "profile"),
		"XDG_STATE_HOME": filepath.Join(dir, "state"), "OGIVE_PASSWORD_FILE": filepath.Join(dir, "pw"),
		"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}
	if err := os.WriteFile(env["OGIVE_PASSWORD_FILE"], []byte("correct-horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result {
		var out, errb bytes.Buffer
		f := &cmd.Factory{In: strings.NewReader(""), Out: &out, Err: &errb,
			Getenv: func(k string) string { return env[k] }, KDF: testKDF, Terminal: noTerminal{},
			NewStore: defaultStore}
		code := cmd.Main(context.Background(), f, args...)
		return result{stdout: out.String(), stderr: errb.String(), code: code}
	}
	if res := run("init", "--bucket", srv.Bucket, "--region", srv.Region, "--endpoint", m.url); res.code != 0 {
		t.Fatalf("init: %s", res)
	}
	data := make([]byte, size)
	rand.Read(data)
	src := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cipher := crypt.EncryptedSize(size)
	bin := buildOgive(t)
	killHalfway := func(counter *atomic.Int64, args ...string) {
		t.Helper()
		c := exec.Command(bin, args...)
		for k, v := range env {
			c.Env = append(c.Env, k+"="+v)
		}
		c.Env = append(c.Env, "PATH="+os.Getenv("PATH"))
		var stderr bytes.Buffer
		c.Stderr = &stderr
		before := counter.Load()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for counter.Load()-before < cipher/2 {
			if time.Now().After(deadline) {
				c.Process.Kill()
				t.Fatalf("%v never got half-way: %s", args, stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		c.Process.Kill() // SIGKILL: nothing gets to clean up
		c.Wait()
		t.Logf("killed %v after %d of %d bytes", args[0], counter.Load()-before, cipher)
	}

	// put, one part at a time, so that at most one 16 MiB part (6% of the
	// file) is cut off by the kill and sent again.
	killHalfway(&m.sent, "put", "--concurrency", "1", src)
	before := m.sent.Load()
	res := run("put", "--concurrency", "2", src)
	if res.code != 0 {
		t.Fatalf("second put: %s", res)
	}
	resent := m.sent.Load() - before
	t.Logf("the second put sent %d bytes (%.0f%%): %s", resent, 100*float64(resent)/float64(cipher), res.stderr)
	if resent > cipher*6/10 {
		t.Errorf("the second put sent %d of %d bytes, more than 60%%", resent, cipher)
	}
	if !strings.Contains(res.stderr, "resuming:") {
		t.Errorf("the second put did not say it resumed: %s", res.stderr)
	}
	id := strings.TrimSpace(res.stdout)
	store, err := object.NewS3(context.Background(), object.S3Config{Bucket: srv.Bucket, Region: srv.Region,
		Endpoint: srv.Endpoint, Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if ups, _ := store.ListUploads(context.Background()); len(ups) != 0 {
		t.Errorf("unfinished uploads left: %v", ups)
	}
	if res := run("restore", "--tier", "Standard", id); res.code != 0 {
		t.Fatalf("restore: %s", res)
	}
	if res := run("head", "--wait", "--timeout", "1m", id); res.code != 0 {
		t.Fatalf("head --wait: %s", res)
	}

	// get
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o700)
	killHalfway(&m.received, "get", "--concurrency", "2", id, out)
	before = m.received.Load()
	res = run("get", "--concurrency", "2", id, out)
	if res.code != 0 {
		t.Fatalf("second get: %s", res)
	}
	again := m.received.Load() - before
	t.Logf("the second get received %d bytes (%.0f%%)", again, 100*float64(again)/float64(cipher))
	if again > cipher*6/10 {
		t.Errorf("the second get received %d of %d bytes, more than 60%%", again, cipher)
	}
	got, err := os.ReadFile(filepath.Join(out, "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatal("the resumed download differs from the original")
	}
	if names := entries(t, out); len(names) != 1 {
		t.Errorf("left in the destination: %q", names)
	}

	// An interrupted upload shows in "ogive uploads", with its source.
	killHalfway(&m.sent, "put", "--concurrency", "1", src)
	res = run("uploads")
	if res.code != 0 || !strings.Contains(res.stdout, src) || !strings.Contains(res.stdout, "disk.img") {
		t.Fatalf("uploads: %s", res)
	}
	stale := strings.Fields(res.stdout)[2]
	staleSalt, err := crypt.ParseID(stale)
	if err != nil {
		t.Fatalf("uploads listed %q: %v", stale, err)
	}
	// A source changed between the runs is noticed: the upload starts again
	// under a new salt, and the stale one is aborted.
	later := time.Now().Add(time.Minute)
	os.Chtimes(src, later, later)
	res = run("put", src)
	if res.code != 0 || !strings.Contains(res.stderr, "source changed") {
		t.Fatalf("put of a changed source: %s", res)
	}
	fresh, _ := crypt.ParseID(strings.TrimSpace(res.stdout))
	if fresh == staleSalt {
		t.Fatal("a changed source was uploaded under the interrupted upload's salt")
	}
	if ups, _ := store.ListUploads(context.Background()); len(ups) != 0 {
		t.Errorf("the stale upload was not aborted: %v", ups)
	}

	// uploads --abort ends every unfinished upload and forgets it.
	killHalfway(&m.sent, "put", "--concurrency", "1", src)
	if ups, _ := store.ListUploads(context.Background()); len(ups) != 1 {
		t.Fatalf("%d unfinished uploads after a kill, want 1", len(ups))
	}
	if res := run("uploads", "--abort"); res.code != 0 || !strings.Contains(res.stderr, "Aborted the upload of disk.img") {
		t.Fatalf("uploads --abort: %s", res)
	}
	if ups, _ := store.ListUploads(context.Background()); len(ups) != 0 {
		t.Errorf("ListMultipartUploads after uploads --abort: %v", ups)
	}
	if states, _ := filepath.Glob(filepath.Join(dir, "state", "ogive", "uploads", "*.json")); len(states) != 0 {
		t.Errorf("resume state left after uploads --abort: %v", states)
	}
	if res := run("uploads"); res.code != 0 || !strings.Contains(res.stderr, "No unfinished uploads") {
		t.Errorf("uploads after the abort: %s", res)
	}
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// defaultStore is the binary's store constructor, with production timeouts:
// completing a 256 MiB upload on a loaded machine takes its time.
func defaultStore(ctx context.Context, p *profile.Profile) (object.Store, error) {
	c := object.S3Config{Bucket: p.Bucket, Region: p.Region, Endpoint: p.Endpoint, Prefix: p.Prefix, PathStyle: p.PathStyle}
	if p.AccessKeyID != nil && p.SecretAccessKey != nil {
		c.Credentials = object.StaticCredentials(p.AccessKeyID, p.SecretAccessKey)
	}
	return object.NewS3(ctx, c)
}
