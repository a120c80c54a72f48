package s3local

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Short restore timings keep the package's tests within seconds.
var (
	testTiers = map[string]time.Duration{
		tierBulk:      2 * time.Second,
		tierStandard:  1 * time.Second,
		tierExpedited: 1 * time.Second,
	}
	testDay = 3 * time.Second
)

// syncBuffer collects the server log; it is printed when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs a server in dir for the test's lifetime. It fails the
// test, never skips it, when versitygw cannot be started.
func startServer(t *testing.T, dir string) *Server {
	t.Helper()
	logs := &syncBuffer{}
	s, err := Start(t.Context(), Options{Dir: dir, Tiers: testTiers, Day: testDay, Log: logs})
	if err != nil {
		t.Fatalf("start s3local: %v\n%s", err, logs)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return s
}

func newTestClient(s *Server, accessKey, secretKey string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		UsePathStyle: true,
	})
}

func clientFor(s *Server) *s3.Client { return newTestClient(s, s.AccessKey, s.SecretKey) }

// testKey gives each test its own keys on a shared bucket.
func testKey(t *testing.T, name string) string {
	return strings.ReplaceAll(t.Name(), "/", "_") + "/" + name
}

func put(t *testing.T, c *s3.Client, bucket, key string, class types.StorageClass, body []byte) {
	t.Helper()
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket:       aws.String(bucket),
		Key:          aws.String(key),
		Body:         bytes.NewReader(body),
		StorageClass: class,
	})
	if err != nil {
		t.Fatalf("put %s (%s): %v", key, class, err)
	}
}

func head(t *testing.T, c *s3.Client, bucket, key string) *s3.HeadObjectOutput {
	t.Helper()
	out, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return out
}

// get reads an object (or a range of it when rng is set).
func get(ctx context.Context, c *s3.Client, bucket, key, rng string) ([]byte, *s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, out, err
}

type restoreOpts struct {
	days int32
	tier types.Tier // empty: no GlacierJobParameters
}

// restore issues RestoreObject and returns the HTTP status it got.
func restore(ctx context.Context, c *s3.Client, bucket, key string, o restoreOpts) (int, error) {
	req := &types.RestoreRequest{Days: aws.Int32(o.days)}
	if o.tier != "" {
		req.GlacierJobParameters = &types.GlacierJobParameters{Tier: o.tier}
	}
	out, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{
		Bucket:         aws.String(bucket),
		Key:            aws.String(key),
		RestoreRequest: req,
	})
	if err != nil {
		return httpStatus(err), err
	}
	raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	if !ok {
		return 0, errors.New("no raw response")
	}
	return raw.StatusCode, nil
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// wantAPIError checks an S3 error's code and HTTP status.
func wantAPIError(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if !isAPIError(err, code, status) {
		t.Fatalf("%s: got %v (status %d), want %s (%d)", what, err, httpStatus(err), code, status)
	}
}

func isAPIError(err error, code string, status int) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code && httpStatus(err) == status
}

// waitUntil sleeps until t.
func waitUntil(tm time.Time) {
	if d := time.Until(tm); d > 0 {
		time.Sleep(d)
	}
}

// span brackets the instant the server read its clock for a request: after
// the request was sent, before its answer came back.
type span struct{ from, to time.Time }

func (s span) add(d time.Duration) span { return span{s.from.Add(d), s.to.Add(d)} }

// holds reports whether tm lies in the span, widened by slack each way.
func (s span) holds(tm time.Time, slack time.Duration) bool {
	return !tm.Before(s.from.Add(-slack)) && !tm.After(s.to.Add(slack))
}

// timedRestore is restore, plus when the server saw it.
func timedRestore(ctx context.Context, c *s3.Client, bucket, key string, o restoreOpts) (int, span, error) {
	from := time.Now()
	status, err := restore(ctx, c, bucket, key, o)
	return status, span{from, time.Now()}, err
}

// before runs checks of a state that only lasts until deadline. If the
// machine was so slow that the answers came back after it, what they saw
// proves nothing, and the failures are logged instead of reported.
func before(t *testing.T, deadline time.Time, what string, check func() []string) {
	t.Helper()
	problems := check()
	if time.Now().After(deadline) {
		if len(problems) > 0 {
			t.Logf("%s: checked after %v, too late to conclude: %v", what, deadline, problems)
		}
		return
	}
	for _, p := range problems {
		t.Errorf("%s: %s", what, p)
	}
}

var (
	sharedOnce   sync.Once
	sharedServer *Server
	sharedErr    error
	sharedLogs   = &syncBuffer{}
)

// shared is one server for the tests that need no server of their own;
// TestMain closes it.
func shared(t *testing.T) *Server {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := tempDir()
		if err != nil {
			sharedErr = err
			return
		}
		sharedServer, sharedErr = Start(context.Background(), Options{Dir: dir, Tiers: testTiers, Day: testDay, Log: sharedLogs})
	})
	if sharedErr != nil {
		t.Fatalf("start shared s3local: %v\n%s", sharedErr, sharedLogs)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("shared server log (all tests):\n%s", sharedLogs)
		}
	})
	return sharedServer
}
