package s3local

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var sigTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

type signCase struct {
	path        string // escaped, as the client sends it
	body        string
	payloadHash string // empty: SHA-256 of body
	headers     map[string]string
	secret      string
	accessKey   string
	region      string
	at          time.Time
	// tamper changes the signed request on its way to the server.
	tamper func(*http.Request)
}

// serverSide signs a request the way the SDK does, then parses its wire
// form back, as the server would receive it.
func serverSide(t *testing.T, c signCase) (*http.Request, []byte) {
	t.Helper()
	if c.secret == "" {
		c.secret = "secret"
	}
	if c.accessKey == "" {
		c.accessKey = "AK"
	}
	if c.region == "" {
		c.region = "us-east-1"
	}
	if c.at.IsZero() {
		c.at = sigTime
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://127.0.0.1:9000"+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	hash := c.payloadHash
	if hash == "" {
		sum := sha256.Sum256([]byte(c.body))
		hash = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.accessKey, SecretAccessKey: c.secret},
		req, hash, "s3", c.region, c.at, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	if c.tamper != nil {
		c.tamper(req)
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	in, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		t.Fatal(err)
	}
	return in, body
}

func TestVerifySignatures(t *testing.T) {
	v := newVerifier("AK", "secret", "us-east-1", func() time.Time { return sigTime.Add(time.Minute) })
	restoreBody := "<RestoreRequest><Days>1</Days></RestoreRequest>"
	for name, c := range map[string]struct {
		signCase
		code string // "" when the request must pass
	}{
		"valid":               {signCase: signCase{path: "/b/k?restore", body: restoreBody}},
		"escaped key":         {signCase: signCase{path: "/b/dir/a%20b%2Bc%3D%C3%A9~_.-?restore&x-id=RestoreObject", body: restoreBody}},
		"extra signed header": {signCase: signCase{path: "/b/k?restore", body: restoreBody, headers: map[string]string{"X-Amz-Meta-A": "  x   y ", "Content-Type": "application/xml"}}},
		"unsigned payload": {signCase: signCase{path: "/b/k?restore", body: restoreBody, payloadHash: unsignedPayload,
			tamper: func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(strings.Replace(restoreBody, "1", "9", 1)))
			}}},
		"wrong secret":   {signCase: signCase{path: "/b/k?restore", body: restoreBody, secret: "guess"}, code: "SignatureDoesNotMatch"},
		"unknown key id": {signCase: signCase{path: "/b/k?restore", body: restoreBody, accessKey: "OTHER"}, code: "InvalidAccessKeyId"},
		"wrong region":   {signCase: signCase{path: "/b/k?restore", body: restoreBody, region: "eu-west-1"}, code: "AuthorizationHeaderMalformed"},
		"too old":        {signCase: signCase{path: "/b/k?restore", body: restoreBody, at: sigTime.Add(-20 * time.Minute)}, code: "RequestTimeTooSkewed"},
		"body changed": {signCase: signCase{path: "/b/k?restore", body: restoreBody,
			tamper: func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(strings.Replace(restoreBody, "1", "9", 1)))
			}},
			code: "XAmzContentSHA256Mismatch"},
		"path changed": {signCase: signCase{path: "/b/k?restore", body: restoreBody,
			tamper: func(r *http.Request) { r.URL.Path = "/b/other" }}, code: "SignatureDoesNotMatch"},
		"query changed": {signCase: signCase{path: "/b/k?restore", body: restoreBody,
			tamper: func(r *http.Request) { r.URL.RawQuery = "restore&versionId=1" }}, code: "SignatureDoesNotMatch"},
		"signed header changed": {signCase: signCase{path: "/b/k?restore", body: restoreBody, headers: map[string]string{"X-Amz-Meta-A": "1"},
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Meta-A", "2") }}, code: "SignatureDoesNotMatch"},
		"signed header dropped": {signCase: signCase{path: "/b/k?restore", body: restoreBody, headers: map[string]string{"X-Amz-Meta-A": "1"},
			tamper: func(r *http.Request) { r.Header.Del("X-Amz-Meta-A") }}, code: "SignatureDoesNotMatch"},
		"host changed": {signCase: signCase{path: "/b/k?restore", body: restoreBody,
			tamper: func(r *http.Request) { r.Host = "127.0.0.1:9001" }}, code: "SignatureDoesNotMatch"},
		"date off scope": {signCase: signCase{path: "/b/k?restore", body: restoreBody,
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", sigTime.Add(24*time.Hour).Format(amzDateFormat)) }}, code: "SignatureDoesNotMatch"},
		"no payload hash": {signCase: signCase{path: "/b/k?restore", body: restoreBody,
			tamper: func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }}, code: "InvalidRequest"},
		"streaming": {signCase: signCase{path: "/b/k?restore", body: restoreBody, payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, code: "NotImplemented"},
		"no authorization": {signCase: signCase{path: "/b/k?restore", body: restoreBody,
			tamper: func(r *http.Request) { r.Header.Del("Authorization") }}, code: "AccessDenied"},
		"sigv2": {signCase: signCase{path: "/b/k?restore", body: restoreBody,
			tamper: func(r *http.Request) { r.Header.Set("Authorization", "AWS AK:c2lnbmF0dXJl") }}, code: "AuthorizationHeaderMalformed"},
	} {
		t.Run(name, func(t *testing.T) {
			r, body := serverSide(t, c.signCase)
			e := v.verify(r, body)
			switch {
			case c.code == "" && e != nil:
				t.Fatalf("rejected: %v", e)
			case c.code != "" && e == nil:
				t.Fatalf("accepted, want %s", c.code)
			case c.code != "" && e.Code != c.code:
				t.Fatalf("got %s, want %s", e.Code, c.code)
			}
		})
	}
}

func TestParseAuthHeader(t *testing.T) {
	a, ok := parseAuthHeader("AWS4-HMAC-SHA256 Credential=AK/20260304/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date,Signature=abc")
	if !ok || a.accessKey != "AK" || a.date != "20260304" || a.region != "us-east-1" || a.service != "s3" ||
		strings.Join(a.signedHeaders, ";") != "host;x-amz-date" || a.signature != "abc" {
		t.Fatalf("%+v %v", a, ok)
	}
	for _, bad := range []string{
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 Credential=AK/20260304/us-east-1/s3, SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=AK/20260304/us-east-1/s3/aws4_request, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=AK/20260304/us-east-1/s3/aws4_request, SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=AK/20260304/us-east-1/s3/aws4_request, SignedHeaders=host, junk",
	} {
		if _, ok := parseAuthHeader(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseAuthHeader(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20260304/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;, Signature==")
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := parseAuthHeader(s)
		if ok && (len(a.signedHeaders) == 0 || a.signature == "") {
			t.Fatalf("accepted %q without headers or signature", s)
		}
	})
}

func FuzzParseRestoreRequest(f *testing.F) {
	f.Add([]byte("<RestoreRequest><Days>1</Days><GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters></RestoreRequest>"))
	f.Add([]byte(`<RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Days>9223372036854775807</Days></RestoreRequest>`))
	f.Add([]byte("<RestoreRequest><Days>-1</Days><Type>SELECT</Type></RestoreRequest>"))
	f.Add([]byte("<Other/>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		tier, days, e := parseRestoreRequest(body)
		if e == nil && (days < 1 || (tier != tierBulk && tier != tierStandard && tier != tierExpedited)) {
			t.Fatalf("accepted days %d tier %q", days, tier)
		}
	})
}

func FuzzRewriteListing(f *testing.F) {
	f.Add([]byte(fullListing), true)
	f.Add([]byte(`<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%zz</Key></Contents></ListBucketResult>`), false)
	f.Add([]byte(`<a><Contents><Contents><StorageClass/></Contents></Contents></a>`), true)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	describe := func(key string) (string, *restoreWindow) {
		if len(key)%2 == 0 {
			return classDeepArchive, &restoreWindow{Ready: now.Add(-time.Hour), Expiry: now.Add(time.Hour)}
		}
		return classGlacier, &restoreWindow{Ready: now.Add(time.Hour), Expiry: now.Add(2 * time.Hour)}
	}
	f.Fuzz(func(t *testing.T, doc []byte, withRestore bool) {
		out, err := rewriteListing(doc, describe, now, withRestore)
		if err != nil {
			return
		}
		// Whatever it accepts, it writes back as well-formed XML.
		dec := xml.NewDecoder(bytes.NewReader(out))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("rewrote %q into malformed %q: %v", doc, out, err)
			}
		}
	})
}
