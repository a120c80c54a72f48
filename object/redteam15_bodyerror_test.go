package object_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ogive-project/ogive/object"
)

// fakePartServer answers every UploadPart like S3 once it has the whole
// body, and counts the requests that reached it.
func fakePartServer(t *testing.T, requests *atomic.Int32) *object.S3 {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return // the client gave up on the body
		}
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	s, err := object.NewS3(t.Context(), object.S3Config{
		Bucket:      "b",
		Region:      "us-east-1",
		Endpoint:    srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", ""),
		MaxBackoff:  time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// errSourceChanged stands for archive.ErrSourceChanged: what a part's body
// returns when the file changed between its scan and its send. Retrying
// cannot cure it: every attempt encrypts the same changed file again.
var errSourceChanged = errors.New("source changed while it was being read")

// TestRedteam15SourceChangedIsNotRetried: a part body that fails with
// "source changed" part-way is a final answer, not a network failure. The
// SDK takes the body's read error for a connection error
// (smithyhttp.RequestSendError.ConnectionError() is true) and sends the
// part again up to maxAttempts (5) times, with backoff (up to 20 s between
// attempts by default), re-reading and re-encrypting the part each time (up
// to 5 GiB), while the other parts in flight go on under a salt the next run
// will discard. After the attempts, s3Error maps the MaxAttemptsError to
// ErrUnavailable, and cmd then prints the hint "S3 kept failing or could
// not be reached ... check the endpoint ... and the network", which is
// wrong: the file changed.
func TestRedteam15SourceChangedIsNotRetried(t *testing.T) {
	var requests atomic.Int32
	s := fakePartServer(t, &requests)
	data := bytes.Repeat([]byte{7}, 1<<20)
	var opened atomic.Int32
	body := object.PartBody{
		Size:   int64(len(data)),
		CRC32C: object.ChecksumCRC32C(data),
		Open: func() (io.Reader, error) {
			opened.Add(1)
			// 64 KiB of good packages, then the package that changed.
			return io.MultiReader(bytes.NewReader(data[:64<<10]), iotestErr{errSourceChanged}), nil
		},
	}
	_, err := s.UploadPart(t.Context(), "k", "upload-id", 2, body)
	if !errors.Is(err, errSourceChanged) {
		t.Fatalf("UploadPart: %v, want the body's error", err)
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("the body was opened %d times (%d requests) for a source that changed: a body's own error was retried as a network failure", n, requests.Load())
	}
	if errors.Is(err, object.ErrUnavailable) {
		t.Errorf("a changed source is reported as ErrUnavailable (cmd's hint: S3 kept failing or could not be reached): %v", err)
	}
}
