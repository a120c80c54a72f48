package s3local

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// rawHeaderNames sends a signed request over a bare connection and returns
// the header names exactly as they came over the wire, which net/http's
// client would canonicalize.
func rawHeaderNames(t *testing.T, s *Server, method, path string) (status string, names []string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.Endpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	err = v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey},
		req, hex.EncodeToString(sum[:]), "s3", s.Region, time.Now(), func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	status, err = r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return status, names
		}
		name, _, _ := strings.Cut(line, ":")
		names = append(names, name)
	}
}

func TestMetadataNamesComeBackLowercase(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	k := testKey(t, "obj")
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k), Body: strings.NewReader("x"),
		Metadata: map[string]string{"Nonce": "n1", "ogive-Version": "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		status, names := rawHeaderNames(t, s, method, "/"+s.Bucket+"/"+k)
		if !strings.Contains(status, " 200 ") {
			t.Fatalf("%s: %s", method, status)
		}
		var meta []string
		for _, n := range names {
			if strings.HasPrefix(strings.ToLower(n), "x-amz-meta-") {
				meta = append(meta, n)
			}
		}
		if strings.Join(meta, ",") != "x-amz-meta-nonce,x-amz-meta-ogive-version" &&
			strings.Join(meta, ",") != "x-amz-meta-ogive-version,x-amz-meta-nonce" {
			t.Errorf("%s: metadata headers on the wire %v, want x-amz-meta-nonce and x-amz-meta-ogive-version", method, meta)
		}
	}
	h := head(t, c, s.Bucket, k)
	if h.Metadata["nonce"] != "n1" || h.Metadata["ogive-version"] != "2" {
		t.Errorf("metadata %v", h.Metadata)
	}
}

func TestXIDParameterTolerated(t *testing.T) {
	t.Parallel()
	s := shared(t)
	k := testKey(t, "obj")
	put(t, clientFor(s), s.Bucket, k, types.StorageClassDeepArchive, []byte("x"))
	// x-id does not turn a data GET into something the layer lets through.
	resp := sendSigned(t, s, s.SecretKey, http.MethodGet, "/"+s.Bucket+"/"+k+"?x-id=GetObject", nil, "")
	wantStatus(t, resp, 403, "InvalidObjectState")
	resp = sendSigned(t, s, s.SecretKey, http.MethodPost, "/"+s.Bucket+"/"+k+"?restore&x-id=RestoreObject",
		[]byte("<RestoreRequest><Days>1</Days></RestoreRequest>"), "")
	wantStatus(t, resp, 202, "")
	resp = sendSigned(t, s, s.SecretKey, http.MethodGet, "/"+s.Bucket+"?list-type=2&x-id=ListObjectsV2&prefix="+testKey(t, ""), nil, "")
	wantStatus(t, resp, 200, "")
}

func TestDeleteClearsState(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	ctx := t.Context()
	one, two, three := testKey(t, "one"), testKey(t, "two"), testKey(t, "three")
	for _, k := range []string{one, two, three} {
		put(t, c, s.Bucket, k, types.StorageClassDeepArchive, []byte(k))
		if _, err := restore(ctx, c, s.Bucket, k, restoreOpts{days: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(one)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(s.Bucket), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String(two)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	objects := filepath.Join(stateDirOf(s), "objects")
	for _, k := range []string{one, two} {
		if hasRecord(t, recordFile(objects, s.Bucket, k)) {
			t.Errorf("%s: state kept after delete", k)
		}
		// A new object under the same key starts afresh: STANDARD, no restore.
		put(t, c, s.Bucket, k, "", []byte("new"))
		h := head(t, c, s.Bucket, k)
		if h.StorageClass != "" || h.Restore != nil {
			t.Errorf("%s: recreated object has class %q restore %q", k, h.StorageClass, aws.ToString(h.Restore))
		}
	}
	if !hasRecord(t, recordFile(objects, s.Bucket, three)) {
		t.Error("state of an untouched key lost")
	}
	if h := head(t, c, s.Bucket, three); h.StorageClass != types.StorageClassDeepArchive || h.Restore == nil {
		t.Errorf("untouched key: class %q restore %v", h.StorageClass, h.Restore)
	}
}

func TestGetAuthenticatesBeforeInvalidObjectState(t *testing.T) {
	t.Parallel()
	s := shared(t)
	k := testKey(t, "obj")
	put(t, clientFor(s), s.Bucket, k, types.StorageClassDeepArchive, []byte("secret bytes"))
	_, _, err := get(t.Context(), newTestClient(s, s.AccessKey, "wrong-secret"), s.Bucket, k, "")
	wantAPIError(t, "get with a bad signature", err, "SignatureDoesNotMatch", 403)
	_, _, err = get(t.Context(), clientFor(s), s.Bucket, testKey(t, "missing"), "")
	wantAPIError(t, "get of a missing key", err, "NoSuchKey", 404)
	// HEAD works on an archived object.
	if h := head(t, clientFor(s), s.Bucket, k); aws.ToInt64(h.ContentLength) != int64(len("secret bytes")) {
		t.Errorf("head: length %d", aws.ToInt64(h.ContentLength))
	}
	// The 403 carries the class, as S3's does.
	resp := sendSigned(t, s, s.SecretKey, http.MethodGet, "/"+s.Bucket+"/"+k, nil, "")
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 403 || resp.ContentLength != int64(len(b)) || !bytes.Contains(b, []byte("<StorageClass>DEEP_ARCHIVE</StorageClass>")) ||
		bytes.Contains(b, []byte("secret bytes")) || resp.Header.Get("Etag") != "" {
		t.Errorf("archived GET: %d, Content-Length %d, headers %v, body %s", resp.StatusCode, resp.ContentLength, resp.Header, b)
	}
}

// A large body streams through both ways intact.
func TestLargeObjectRoundTrip(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	k := testKey(t, "big")
	data := make([]byte, 48<<20)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(data)
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k), Body: bytes.NewReader(data),
		StorageClass: types.StorageClassStandard,
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := get(t.Context(), c, s.Bucket, k, "")
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(body) != sha256.Sum256(data) {
		t.Fatalf("got %d bytes back, not the %d sent", len(body), len(data))
	}
}
