package object_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awnumar/memguard"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ogive-project/ogive/internal/s3local"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/object/storetest"
)

const (
	serverRestoreDelay = 1500 * time.Millisecond
	serverDay          = 4 * time.Second
)

// startServer starts a local Deep Archive server for the test whose
// restored copies last serverDay per day. It fails the test rather than
// skipping it: without the server the S3 store is untested.
func startServer(t *testing.T) *s3local.Server {
	t.Helper()
	return startServerDay(t, serverDay)
}

// startServerDay is startServer with restore days of the given length, for
// tests that must not race the expiry of a copy.
func startServerDay(t *testing.T, day time.Duration) *s3local.Server {
	t.Helper()
	srv, err := s3local.Start(t.Context(), s3local.Options{
		Dir: t.TempDir(),
		Tiers: map[string]time.Duration{
			"Expedited": serverRestoreDelay / 2,
			"Standard":  serverRestoreDelay,
			"Bulk":      2 * serverRestoreDelay,
		},
		Day: day,
	})
	if err != nil {
		t.Fatalf("start s3local: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close s3local: %v", err)
		}
	})
	return srv
}

func serverConfig(srv *s3local.Server, prefix string) object.S3Config {
	return object.S3Config{
		Bucket:      srv.Bucket,
		Region:      srv.Region,
		Endpoint:    srv.Endpoint,
		Prefix:      prefix,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
	}
}

func newS3(t *testing.T, c object.S3Config) *object.S3 {
	t.Helper()
	s, err := object.NewS3(t.Context(), c)
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	return s
}

var unsafePrefix = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// testPrefix gives every test its own part of the shared bucket.
func testPrefix(t *testing.T) string {
	return "test/" + unsafePrefix.ReplaceAllString(t.Name(), "-")
}

func TestS3Conformance(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) object.Store {
			return newS3(t, serverConfig(srv, testPrefix(t)))
		},
		Wait:         func(t *testing.T, d time.Duration) { time.Sleep(d) },
		RestoreDelay: serverRestoreDelay,
		Day:          serverDay,
		Prefixed: func(t *testing.T, a, b string) (object.Store, object.Store) {
			base := testPrefix(t) + "/"
			return newS3(t, serverConfig(srv, base+a)), newS3(t, serverConfig(srv, base+b))
		},
	})
}

func TestS3WrongCredentials(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for name, creds := range map[string][2]string{
		"wrong secret": {srv.AccessKey, srv.SecretKey + "x"},
		"unknown key":  {"AKIANOTAKNOWNKEY0000", srv.SecretKey},
	} {
		t.Run(name, func(t *testing.T) {
			c := serverConfig(srv, testPrefix(t))
			c.Credentials = object.StaticCredentials(memguard.NewEnclave([]byte(creds[0])), memguard.NewEnclave([]byte(creds[1])))
			s := newS3(t, c)
			err := s.List(t.Context(), func(object.Info) error { return nil })
			if !errors.Is(err, object.ErrCredentials) {
				t.Errorf("List: %v, want ErrCredentials", err)
			}
			if err := s.Put(t.Context(), "k", []byte("x"), object.PutOptions{}); !errors.Is(err, object.ErrCredentials) {
				t.Errorf("Put: %v, want ErrCredentials", err)
			}
		})
	}

	t.Run("right ones through enclaves", func(t *testing.T) {
		c := serverConfig(srv, testPrefix(t))
		c.Credentials = object.StaticCredentials(memguard.NewEnclave([]byte(srv.AccessKey)), memguard.NewEnclave([]byte(srv.SecretKey)))
		s := newS3(t, c)
		if err := s.Put(t.Context(), "k", []byte("x"), object.PutOptions{}); err != nil {
			t.Errorf("Put: %v", err)
		}
	})
}

func TestS3NoSuchBucket(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	c := serverConfig(srv, "")
	c.Bucket = "no-such-bucket"
	s := newS3(t, c)
	if err := s.List(t.Context(), func(object.Info) error { return nil }); !errors.Is(err, object.ErrNoSuchBucket) {
		t.Errorf("List: %v, want ErrNoSuchBucket", err)
	}
	if err := s.Put(t.Context(), "k", []byte("x"), object.PutOptions{}); !errors.Is(err, object.ErrNoSuchBucket) {
		t.Errorf("Put: %v, want ErrNoSuchBucket", err)
	}
	if _, err := s.CreateUpload(t.Context(), "k", object.PutOptions{}); !errors.Is(err, object.ErrNoSuchBucket) {
		t.Errorf("CreateUpload: %v, want ErrNoSuchBucket", err)
	}
}

// recorder is an http.RoundTripper that keeps the requests it passes on and
// may change them, and their responses, or answer in the server's place.
type recorder struct {
	mu             sync.Mutex
	requests       []*http.Request
	change         func(*http.Request)
	changeResponse func(*http.Response) error
	answer         func(*http.Request) *http.Response // nil, or nil answer: forward
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.change != nil {
		req = req.Clone(req.Context())
		r.change(req)
	}
	r.mu.Lock()
	r.requests = append(r.requests, req)
	r.mu.Unlock()
	if r.answer != nil {
		if resp := r.answer(req); resp != nil {
			if req.Body != nil {
				_, _ = io.Copy(io.Discard, req.Body)
				req.Body.Close()
			}
			resp.Request = req
			return resp, nil
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && r.changeResponse != nil {
		if err := r.changeResponse(resp); err != nil {
			resp.Body.Close()
			return nil, err
		}
	}
	return resp, err
}

func (r *recorder) find(method string, has func(*http.Request) bool) []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []*http.Request
	for _, req := range r.requests {
		if req.Method == method && (has == nil || has(req)) {
			found = append(found, req)
		}
	}
	return found
}

func hasQuery(name string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.URL.Query().Has(name) }
}

// TestS3Wire checks what the store sends: our own CRC32C and nothing the
// SDK would compute on top, no ACL, the storage class.
func TestS3Wire(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	rec := &recorder{}
	c := serverConfig(srv, testPrefix(t))
	c.HTTPClient = &http.Client{Transport: rec}
	s := newS3(t, c)
	ctx := t.Context()

	body := bytes.Repeat([]byte("ogive"), 1000)
	if err := s.Put(ctx, "small", body, object.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	n, err := object.Upload(ctx, s, "big", bytes.NewReader(bytes.Repeat(body, 2000)), object.UploadOptions{PartSize: object.MinPartSize})
	if err != nil || n != int64(len(body))*2000 {
		t.Fatalf("Upload = %d, %v", n, err)
	}

	puts := rec.find(http.MethodPut, func(r *http.Request) bool { return !r.URL.Query().Has("uploadId") })
	parts := rec.find(http.MethodPut, hasQuery("uploadId"))
	creates := rec.find(http.MethodPost, hasQuery("uploads"))
	completes := rec.find(http.MethodPost, hasQuery("uploadId"))
	if len(puts) != 1 || len(parts) != 2 || len(creates) != 1 || len(completes) != 1 {
		t.Fatalf("sent %d PutObject, %d UploadPart, %d Create, %d Complete; want 1, 2, 1, 1",
			len(puts), len(parts), len(creates), len(completes))
	}
	for _, req := range append(puts, parts...) {
		what := req.Method + " " + req.URL.Path + "?" + req.URL.RawQuery
		if got := req.Header.Get("X-Amz-Content-Sha256"); got != "UNSIGNED-PAYLOAD" {
			t.Errorf("%s: X-Amz-Content-Sha256 %q, want UNSIGNED-PAYLOAD", what, got)
		}
		if req.Header.Get("X-Amz-Checksum-Crc32c") == "" {
			t.Errorf("%s: no X-Amz-Checksum-Crc32c", what)
		}
		if req.Header.Get("Content-Encoding") != "" || req.Header.Get("X-Amz-Trailer") != "" {
			t.Errorf("%s: SDK trailing checksum: Content-Encoding %q, X-Amz-Trailer %q",
				what, req.Header.Get("Content-Encoding"), req.Header.Get("X-Amz-Trailer"))
		}
		for name := range req.Header {
			lower := strings.ToLower(name)
			if strings.HasPrefix(lower, "x-amz-checksum-") && lower != "x-amz-checksum-crc32c" || lower == "content-md5" {
				t.Errorf("%s: extra checksum header %s", what, name)
			}
		}
	}
	for _, req := range append(puts, creates...) {
		if got := req.Header.Get("X-Amz-Storage-Class"); got != "DEEP_ARCHIVE" {
			t.Errorf("%s %s: storage class %q, want DEEP_ARCHIVE", req.Method, req.URL, got)
		}
	}
	// If-None-Match goes where S3 accepts it, so that no object is ever
	// replaced.
	for _, req := range append(puts, completes...) {
		if got := req.Header.Get("If-None-Match"); got != "*" {
			t.Errorf("%s %s: If-None-Match %q, want *", req.Method, req.URL, got)
		}
	}
	for _, req := range append(parts, creates...) {
		if got := req.Header.Get("If-None-Match"); got != "" {
			t.Errorf("%s %s: If-None-Match %q, which S3 does not accept there", req.Method, req.URL, got)
		}
	}
	if got := creates[0].Header.Get("X-Amz-Checksum-Algorithm"); got != "CRC32C" {
		t.Errorf("CreateMultipartUpload: X-Amz-Checksum-Algorithm %q, want CRC32C", got)
	}
	for _, req := range rec.find(http.MethodPut, nil) {
		for name := range req.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-amz-grant") || strings.EqualFold(name, "x-amz-acl") {
				t.Errorf("%s %s sends ACL header %s", req.Method, req.URL, name)
			}
		}
	}
}

// errorAnswer is an S3 error response.
func errorAnswer(status int, code string) *http.Response {
	body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>test</Message><RequestId>r</RequestId></Error>`
	return &http.Response{
		StatusCode:    status,
		Status:        http.StatusText(status),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/xml"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
	}
}

// TestS3PutRetriesAConditionalConflict answers a PutObject with 409
// ConditionalRequestConflict, after which S3 says to send it again; a
// Complete is not sent again, its upload being gone after a 409.
func TestS3PutRetriesAConditionalConflict(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	var conflicts atomic.Int32
	rec := &recorder{answer: func(r *http.Request) *http.Response {
		if r.Method == http.MethodPut && !r.URL.Query().Has("partNumber") || r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
			if conflicts.Add(1)%2 == 1 {
				return errorAnswer(http.StatusConflict, "ConditionalRequestConflict")
			}
		}
		return nil
	}}
	c := serverConfig(srv, testPrefix(t))
	c.HTTPClient = &http.Client{Transport: rec}
	c.MaxBackoff = time.Millisecond
	s := newS3(t, c)
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("body"), object.PutOptions{}); err != nil {
		t.Fatalf("Put after a 409: %v", err)
	}
	if n := len(rec.find(http.MethodPut, nil)); n != 2 {
		t.Errorf("Put sent %d PutObject, want 2", n)
	}
	if info, err := s.Head(ctx, "k"); err != nil || info.Size != 4 {
		t.Errorf("Head after the retried Put = %+v, %v", info, err)
	}

	id, err := s.CreateUpload(ctx, "mp", object.PutOptions{})
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	p, err := s.UploadPart(ctx, "mp", id, 1, object.BytesPart([]byte("part")))
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	if err := s.CompleteUpload(ctx, "mp", id, []object.Part{p}); err == nil || !strings.Contains(err.Error(), "ConditionalRequestConflict") {
		t.Errorf("CompleteUpload answered 409 = %v, want the 409", err)
	}
	if n := len(rec.find(http.MethodPost, hasQuery("uploadId"))); n != 1 {
		t.Errorf("CompleteUpload sent %d requests, want 1", n)
	}
	if err := s.AbortUpload(ctx, "mp", id); err != nil {
		t.Errorf("AbortUpload: %v", err)
	}
}

// TestS3CorruptedBodyRejected changes a byte of every upload on its way to
// the server: since payloads go unsigned, the CRC32C is what must catch it.
func TestS3CorruptedBodyRejected(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	corrupt := func(req *http.Request) {
		if req.Method != http.MethodPut || req.Body == nil {
			return
		}
		b, err := io.ReadAll(req.Body)
		if err != nil || len(b) == 0 {
			return
		}
		b[len(b)/2] ^= 1
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	c := serverConfig(srv, testPrefix(t))
	c.HTTPClient = &http.Client{Transport: &recorder{change: corrupt}}
	s := newS3(t, c)
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("some bytes to corrupt"), object.PutOptions{}); err == nil {
		t.Error("Put of a corrupted body succeeded")
	}
	id, err := s.CreateUpload(ctx, "mp", object.PutOptions{})
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	if _, err := s.UploadPart(ctx, "mp", id, 1, object.BytesPart([]byte("some bytes to corrupt"))); err == nil {
		t.Error("UploadPart of a corrupted body succeeded")
	}
	if err := s.AbortUpload(ctx, "mp", id); err != nil {
		t.Errorf("AbortUpload: %v", err)
	}
	clean := newS3(t, serverConfig(srv, testPrefix(t)))
	if _, err := clean.Head(ctx, "k"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Head after the rejected Put: %v, want ErrNotFound", err)
	}
}

// TestS3CABundle checks that AWS_CA_BUNDLE, which makes the SDK refuse
// foreign HTTP clients, breaks neither a plain-http endpoint nor a client
// of our own.
func TestS3CABundle(t *testing.T) {
	srv := startServer(t)
	bundle := os.Getenv("AWS_CA_BUNDLE")
	if bundle == "" {
		bundle = "/etc/ssl/certs/ca-certificates.crt"
	}
	if _, err := os.Stat(bundle); err != nil {
		t.Fatalf("no CA bundle to point AWS_CA_BUNDLE at: %v", err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	for name, client := range map[string]*http.Client{"sdk client": nil, "own client": {}} {
		c := serverConfig(srv, testPrefix(t))
		c.HTTPClient = client
		s := newS3(t, c)
		if err := s.Put(t.Context(), unsafePrefix.ReplaceAllString(name, "-"), []byte("x"), object.PutOptions{}); err != nil {
			t.Errorf("%s: Put: %v", name, err)
		}
	}
}

var restoreStatusElement = regexp.MustCompile(`<RestoreStatus>.*?</RestoreStatus>`)

// dropRestoreStatus removes RestoreStatus from listings, as a server that
// ignores OptionalObjectAttributes would send them.
func dropRestoreStatus(resp *http.Response) error {
	if resp.Request.Method != http.MethodGet || !resp.Request.URL.Query().Has("list-type") {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	body = restoreStatusElement.ReplaceAll(body, nil)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return nil
}

// TestS3ListWithoutRestoreAttribute checks that List trusts listings that
// carry RestoreStatus, and falls back to HEADs when a server drops it.
func TestS3ListWithoutRestoreAttribute(t *testing.T) {
	t.Parallel()
	srv := startServerDay(t, time.Hour)
	ctx := t.Context()
	prefix := testPrefix(t)
	setup := newS3(t, serverConfig(srv, prefix))
	for _, key := range []string{"a", "b", "c", "d"} {
		if err := setup.Put(ctx, key, []byte(key), object.PutOptions{}); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	if err := setup.Put(ctx, "std", []byte("s"), object.PutOptions{StorageClass: "STANDARD"}); err != nil {
		t.Fatalf("Put: %v", err)
	}

	heads := func(rec *recorder) int { return len(rec.find(http.MethodHead, nil)) }
	honouring := &recorder{}
	c := serverConfig(srv, prefix)
	c.HTTPClient = &http.Client{Transport: honouring}
	s := newS3(t, c)
	wantArchived := map[string]object.State{"a": object.StateArchived, "b": object.StateArchived, "c": object.StateArchived, "d": object.StateArchived, "std": object.StateAvailable}
	if got := states(t, s); !equalStates(got, wantArchived) {
		t.Errorf("List = %v, want %v", got, wantArchived)
	}
	if n := heads(honouring); n != 1 {
		t.Errorf("List of archived objects sent %d HEADs, want 1 probe", n)
	}

	for _, key := range []string{"a", "c"} {
		if r, err := setup.Restore(ctx, key, 1, object.TierStandard); err != nil || r != object.RestoreAccepted {
			t.Fatalf("Restore %s = %v, %v", key, r, err)
		}
	}
	time.Sleep(serverRestoreDelay + 500*time.Millisecond)
	want := map[string]object.State{"a": object.StateRestored, "b": object.StateArchived, "c": object.StateRestored, "d": object.StateArchived, "std": object.StateAvailable}

	before := heads(honouring)
	if got := states(t, s); !equalStates(got, want) {
		t.Errorf("List with the attribute = %v, want %v", got, want)
	}
	if n := heads(honouring) - before; n != 0 {
		t.Errorf("List on a server that sends RestoreStatus sent %d HEADs, want 0", n)
	}

	ignoring := &recorder{changeResponse: dropRestoreStatus}
	c.HTTPClient = &http.Client{Transport: ignoring}
	s = newS3(t, c)
	if got := states(t, s); !equalStates(got, want) {
		t.Errorf("List without the attribute = %v, want %v", got, want)
	}
	if n := heads(ignoring); n != 4 {
		t.Errorf("List without the attribute sent %d HEADs, want 4 (one per archived object)", n)
	}
}

func states(t *testing.T, s object.Store) map[string]object.State {
	t.Helper()
	got := map[string]object.State{}
	err := s.List(t.Context(), func(info object.Info) error {
		got[info.Key] = info.Status.State
		if info.Status.State == object.StateRestored && !info.Status.Expiry.After(time.Now()) {
			t.Errorf("%s listed as restored until %v, which is past", info.Key, info.Status.Expiry)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

func equalStates(a, b map[string]object.State) bool {
	ka, kb := make([]string, 0, len(a)), make([]string, 0, len(b))
	for k := range a {
		ka = append(ka, k)
	}
	for k := range b {
		kb = append(kb, k)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	if !slices.Equal(ka, kb) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestS3UploadConcurrent runs Upload against the server with parts in
// flight together.
func TestS3UploadConcurrent(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	s := newS3(t, serverConfig(srv, testPrefix(t)))
	var acked atomic.Int64
	src := bytes.Repeat([]byte("0123456789abcdef"), (4*object.MinPartSize+12345)/16)
	n, err := object.Upload(t.Context(), s, "k", bytes.NewReader(src), object.UploadOptions{
		PutOptions:  object.PutOptions{StorageClass: "STANDARD"},
		PartSize:    object.MinPartSize,
		Concurrency: 3,
		OnPart:      func(p object.Part) { acked.Add(p.Size) },
	})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if n != int64(len(src)) || acked.Load() != n {
		t.Errorf("Upload stored %d bytes, parts acknowledged %d, want %d", n, acked.Load(), len(src))
	}
	rc, err := s.Get(t.Context(), "k", 0, -1)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, src) {
		t.Errorf("Get returned %d bytes (%v), not what was uploaded", len(got), err)
	}
}
