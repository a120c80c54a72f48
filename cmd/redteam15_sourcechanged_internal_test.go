package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/object"
)

type redteam15FailingReader struct{ err error }

func (r redteam15FailingReader) Read([]byte) (int, error) { return 0, r.err }

// TestRedteam15SourceChangedMessage: a file that changes between a part's
// scan and its send. The error goes through the real S3 store (the SDK
// against a minimal local server) and is wrapped as PutResumable wraps it;
// what the user reads must say the file changed, not blame S3 or the
// network. Today the SDK retries the body's error 5 times, s3Error files
// it under ErrUnavailable, and report prints the SDK's whole chain followed
// by "hint: S3 kept failing or could not be reached ...".
func TestRedteam15SourceChangedMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	}))
	defer srv.Close()
	s, err := object.NewS3(t.Context(), object.S3Config{
		Bucket: "b", Region: "us-east-1", Endpoint: srv.URL, MaxBackoff: time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte{1}, 1<<20)
	changed := fmt.Errorf("part 2 of big.bin: %w", archive.ErrSourceChanged) // as partReader words it
	body := object.PartBody{
		Size: int64(len(data)), CRC32C: object.ChecksumCRC32C(data),
		Open: func() (io.Reader, error) {
			return io.MultiReader(bytes.NewReader(data[:64<<10]), redteam15FailingReader{changed}), nil
		},
	}
	_, err = s.UploadPart(t.Context(), "k", "upload-id", 2, body)
	// As resumable.run wraps an upload's error.
	err = fmt.Errorf("upload big.bin (resumable: run the same command again): %w", err)
	if !errors.Is(err, archive.ErrSourceChanged) {
		t.Fatalf("errors.Is(ErrSourceChanged) lost: %v", err)
	}
	var out bytes.Buffer
	report(&out, err)
	msg := out.String()
	if strings.Contains(msg, "S3 kept failing") || strings.Contains(msg, "network") {
		t.Errorf("a changed source is blamed on S3 or the network:\n%s", msg)
	}
	if first, _, _ := strings.Cut(msg, "\n"); len(first) > 200 {
		t.Errorf("the message is the SDK's chain (%d bytes), not a line for a person:\n%s", len(first), first)
	}
}
