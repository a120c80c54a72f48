package s3local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// createUpload starts an upload of key and uploads body as its only part;
// it returns the upload ID and the CompleteMultipartUpload body naming it.
func createUpload(t *testing.T, c *s3.Client, bucket, key string, body []byte) (id string, complete []byte) {
	t.Helper()
	ctx := t.Context()
	out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("create upload: %v", err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: out.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("upload part: %v", err)
	}
	return *out.UploadId, completeBody(*part.ETag)
}

func completeBody(etag string) []byte {
	return fmt.Appendf(nil, "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>", etag)
}

func completePath(bucket, key, uploadID string) string {
	return "/" + bucket + "/" + key + "?uploadId=" + url.QueryEscape(uploadID)
}

// sendWith sends a request signed with secret, and with header set before
// signing, as an SDK sends If-None-Match.
func sendWith(ctx context.Context, t *testing.T, s *Server, secret, method, path string, body []byte, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return nil
	}
	for name, values := range header {
		req.Header[name] = values
	}
	sum := sha256.Sum256(body)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: secret}
	err = v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "s3", s.Region, time.Now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Error(err)
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return nil
	}
	return resp
}

var ifNoneMatch = http.Header{"If-None-Match": {"*"}}

// s3ErrorDoc is an S3 error document as a client parses it.
type s3ErrorDoc struct {
	XMLName   xml.Name
	Code      string
	Message   string
	Condition string
	RequestID string `xml:"RequestId"`
}

// wantPreconditionFailed checks that resp is S3's answer to a conditional
// write onto an existing key: status 412, an Error document with code
// PreconditionFailed and condition If-None-Match.
func wantPreconditionFailed(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var doc s3ErrorDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %d %s: not an XML document: %v", what, resp.StatusCode, b, err)
	}
	if resp.StatusCode != http.StatusPreconditionFailed || doc.XMLName.Local != "Error" || doc.Code != "PreconditionFailed" ||
		doc.Condition != "If-None-Match" || doc.Message == "" || doc.RequestID == "" {
		t.Fatalf("%s: got %d %s, want 412 and an Error with Code PreconditionFailed, Condition If-None-Match", what, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("%s: Content-Type %q, want application/xml", what, ct)
	}
}

// wantOK checks that resp is a 200.
func wantOK(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte("<Error>")) {
		t.Fatalf("%s: got %d %s, want 200", what, resp.StatusCode, b)
	}
}

// holds checks that key still reads as body.
func holds(t *testing.T, s *Server, key string, body []byte) {
	t.Helper()
	got, _, err := get(t.Context(), clientFor(s), s.Bucket, key, "")
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("%s holds %q, want %q", key, got, body)
	}
}

func listUploadIDs(t *testing.T, s *Server, key string) []string {
	t.Helper()
	out, err := clientFor(s).ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatalf("list uploads: %v", err)
	}
	var ids []string
	for _, u := range out.Uploads {
		ids = append(ids, aws.ToString(u.UploadId))
	}
	return ids
}

func TestConditionalPutOntoExistingKey(t *testing.T) {
	t.Parallel()
	s := shared(t)
	k := testKey(t, "obj")
	put(t, clientFor(s), s.Bucket, k, types.StorageClassStandard, []byte("old"))
	resp := sendWith(t.Context(), t, s, s.SecretKey, http.MethodPut, "/"+s.Bucket+"/"+k, []byte("new"), ifNoneMatch)
	wantPreconditionFailed(t, "conditional PutObject", resp)
	holds(t, s, k, []byte("old"))

	fresh := testKey(t, "fresh")
	wantOK(t, "conditional PutObject of a new key",
		sendWith(t.Context(), t, s, s.SecretKey, http.MethodPut, "/"+s.Bucket+"/"+fresh, []byte("new"), ifNoneMatch))
	holds(t, s, fresh, []byte("new"))
}

// A live upload completed onto a key that took an object meanwhile: 412,
// and the upload is still there.
func TestConditionalCompleteOntoExistingKey(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	k := testKey(t, "obj")
	id, body := createUpload(t, c, s.Bucket, k, []byte("upload"))
	put(t, c, s.Bucket, k, types.StorageClassStandard, []byte("old"))

	resp := sendWith(t.Context(), t, s, s.SecretKey, http.MethodPost, completePath(s.Bucket, k, id), body, ifNoneMatch)
	wantPreconditionFailed(t, "conditional Complete onto an existing key", resp)
	holds(t, s, k, []byte("old"))
	if ids := listUploadIDs(t, s, k); len(ids) != 1 || ids[0] != id {
		t.Errorf("uploads after the refused Complete: %q, want %s", ids, id)
	}
}

// A conditional Complete sent again after the first succeeded finds the
// object it made: 412, where versitygw alone answers 200. Without the
// header the repeat still gets 200.
func TestConditionalCompleteSentAgain(t *testing.T) {
	t.Parallel()
	s := shared(t)
	k := testKey(t, "obj")
	id, body := createUpload(t, clientFor(s), s.Bucket, k, []byte("upload"))
	path := completePath(s.Bucket, k, id)
	wantOK(t, "first Complete", sendWith(t.Context(), t, s, s.SecretKey, http.MethodPost, path, body, ifNoneMatch))
	wantPreconditionFailed(t, "Complete sent again", sendWith(t.Context(), t, s, s.SecretKey, http.MethodPost, path, body, ifNoneMatch))
	wantOK(t, "Complete sent again without If-None-Match", sendWith(t.Context(), t, s, s.SecretKey, http.MethodPost, path, body, nil))
	holds(t, s, k, []byte("upload"))

	// An upload ID versitygw never issued, onto the same key.
	wantPreconditionFailed(t, "Complete of an unknown upload",
		sendWith(t.Context(), t, s, s.SecretKey, http.MethodPost, completePath(s.Bucket, k, "no-such-upload"), body, ifNoneMatch))
	holds(t, s, k, []byte("upload"))
}

// The layer answers 412 only to a request it authenticated.
func TestConditionalCompleteChecksSignature(t *testing.T) {
	t.Parallel()
	s := shared(t)
	k := testKey(t, "obj")
	id, body := createUpload(t, clientFor(s), s.Bucket, k, []byte("upload"))
	path := completePath(s.Bucket, k, id)
	wantOK(t, "Complete", sendWith(t.Context(), t, s, s.SecretKey, http.MethodPost, path, body, ifNoneMatch))
	wantStatus(t, sendWith(t.Context(), t, s, "wrong-secret", http.MethodPost, path, body, ifNoneMatch), 403, "SignatureDoesNotMatch")
}

// Completes of one key sent together, of one upload or of several: exactly
// one succeeds and the key holds its data.
func TestConcurrentConditionalCompletes(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	for _, uploads := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d uploads", uploads), func(t *testing.T) {
			k := testKey(t, "obj")
			type attempt struct {
				data, body []byte
				path       string
			}
			var attempts []attempt
			for i := range uploads {
				data := fmt.Appendf(nil, "upload %d", i)
				id, body := createUpload(t, c, s.Bucket, k, data)
				attempts = append(attempts, attempt{data, body, completePath(s.Bucket, k, id)})
			}
			for len(attempts) < 8 {
				attempts = append(attempts, attempts[len(attempts)%uploads])
			}
			statuses := make([]int, len(attempts))
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, a := range attempts {
				wg.Go(func() {
					<-start
					resp := sendWith(t.Context(), t, s, s.SecretKey, http.MethodPost, a.path, a.body, ifNoneMatch)
					if resp == nil {
						return
					}
					defer resp.Body.Close()
					if b, _ := io.ReadAll(resp.Body); bytes.Contains(b, []byte("<Error>")) && resp.StatusCode == http.StatusOK {
						statuses[i] = -1 // an error inside a 200
						return
					}
					statuses[i] = resp.StatusCode
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, status := range statuses {
				switch {
				case status == http.StatusOK && winner < 0:
					winner = i
				case status == http.StatusOK:
					t.Errorf("attempts %d and %d both succeeded", winner, i)
				case status != http.StatusPreconditionFailed:
					t.Errorf("attempt %d: status %d, want 200 or 412", i, status)
				}
			}
			if winner < 0 {
				t.Fatalf("no attempt succeeded: %v", statuses)
			}
			holds(t, s, k, attempts[winner].data)
		})
	}
}

func TestKeyLocks(t *testing.T) {
	var k keyLocks
	a, b := objectID{"b", "a"}, objectID{"b", "b"}
	unlockA, err := k.lock(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := k.lock(t.Context(), b)
	if err != nil {
		t.Fatalf("lock of another key waited: %v", err)
	}
	unlockB()

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := k.lock(ctx, a); err == nil {
		t.Fatal("a held key was locked again")
	}
	got := make(chan func())
	go func() {
		unlock, err := k.lock(t.Context(), a)
		if err != nil {
			t.Error(err)
		}
		got <- unlock
	}()
	select {
	case <-got:
		t.Fatal("a held key was locked again")
	case <-time.After(50 * time.Millisecond):
	}
	unlockA()
	(<-got)()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.locks) != 0 {
		t.Errorf("%d locks left after every unlock", len(k.locks))
	}
}
