package s3local

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	sigAlgorithm    = "AWS4-HMAC-SHA256"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	amzDateFormat   = "20060102T150405Z"
	// maxClockSkew is how far X-Amz-Date may be from now, as in S3.
	maxClockSkew = 15 * time.Minute
)

// authHeader is a parsed SigV4 Authorization header.
type authHeader struct {
	accessKey     string
	date          string // yyyymmdd from the credential scope
	region        string
	service       string
	signedHeaders []string // lowercase, in the order given
	signature     string
}

func parseAuthHeader(v string) (authHeader, bool) {
	var a authHeader
	rest, ok := strings.CutPrefix(v, sigAlgorithm+" ")
	if !ok {
		return a, false
	}
	var credential, signed string
	for field := range strings.SplitSeq(rest, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return a, false
		}
		switch name {
		case "Credential":
			credential = value
		case "SignedHeaders":
			signed = value
		case "Signature":
			a.signature = value
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || signed == "" || a.signature == "" {
		return a, false
	}
	a.accessKey, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	a.signedHeaders = strings.Split(signed, ";")
	return a, true
}

// verifier checks SigV4 signatures on the requests the layer answers itself,
// which versitygw never sees and so cannot check.
type verifier struct {
	creds  aws.Credentials
	region string
	signer *v4.Signer
	now    func() time.Time
}

func newVerifier(accessKey, secretKey, region string, now func() time.Time) *verifier {
	return &verifier{
		creds:  aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
		region: region,
		signer: v4.NewSigner(),
		now:    now,
	}
}

// verify authenticates r, whose body has already been read into body. It
// recomputes the signature with the SDK signer over exactly the headers the
// client signed, at the client's X-Amz-Date, and compares in constant time.
func (v *verifier) verify(r *http.Request, body []byte) *s3Error {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return &s3Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Access Denied"}
	}
	a, ok := parseAuthHeader(raw)
	if !ok {
		return &s3Error{Status: http.StatusBadRequest, Code: "AuthorizationHeaderMalformed",
			Message: "The authorization header is malformed"}
	}
	if a.accessKey != v.creds.AccessKeyID {
		return &s3Error{Status: http.StatusForbidden, Code: "InvalidAccessKeyId",
			Message: "The AWS Access Key Id you provided does not exist in our records."}
	}
	if a.region != v.region || a.service != "s3" {
		return &s3Error{Status: http.StatusBadRequest, Code: "AuthorizationHeaderMalformed",
			Message: "The authorization header is malformed; the region '" + a.region + "' is wrong; expecting '" + v.region + "'"}
	}
	signedAt, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil || signedAt.Format("20060102") != a.date {
		return errSignatureMismatch()
	}
	if d := v.now().Sub(signedAt); d > maxClockSkew || d < -maxClockSkew {
		return &s3Error{Status: http.StatusForbidden, Code: "RequestTimeTooSkewed",
			Message: "The difference between the request time and the current time is too large."}
	}

	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case payloadHash == "":
		return &s3Error{Status: http.StatusBadRequest, Code: "InvalidRequest",
			Message: "Missing required header for this request: x-amz-content-sha256"}
	case payloadHash == unsignedPayload:
	case strings.HasPrefix(payloadHash, "STREAMING-"):
		return &s3Error{Status: http.StatusNotImplemented, Code: "NotImplemented",
			Message: "Chunked signatures are not supported for this request"}
	default:
		sum := sha256.Sum256(body)
		if !strings.EqualFold(payloadHash, hex.EncodeToString(sum[:])) {
			return &s3Error{Status: http.StatusBadRequest, Code: "XAmzContentSHA256Mismatch",
				Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
	}

	want, ok := v.expectedSignature(r, a, payloadHash, signedAt)
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(a.signature))) != 1 {
		return errSignatureMismatch()
	}
	return nil
}

// expectedSignature signs a copy of r holding only the headers the client
// listed, so the SDK signer builds the same canonical request the client
// did. ok is false when the copy would not sign the same header list.
func (v *verifier) expectedSignature(r *http.Request, a authHeader, payloadHash string, signedAt time.Time) (sig string, ok bool) {
	// The canonical URI is the path exactly as sent: S3 does not escape it
	// again, and Go's decoded r.URL.Path could differ from the client's.
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(path, "/") {
		return "", false
	}
	c, err := http.NewRequestWithContext(context.Background(), r.Method, "http://"+r.Host+"/", nil)
	if err != nil {
		return "", false
	}
	c.URL.Opaque = "//" + r.Host + path
	c.URL.RawQuery = r.URL.RawQuery
	c.Host = r.Host
	for _, name := range a.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			c.ContentLength = r.ContentLength
		default:
			values := r.Header.Values(name)
			if len(values) == 0 {
				return "", false
			}
			c.Header[textproto.CanonicalMIMEHeaderKey(name)] = values
		}
	}
	err = v.signer.SignHTTP(context.Background(), v.creds, c, payloadHash, "s3", v.region, signedAt,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		return "", false
	}
	ours, parsed := parseAuthHeader(c.Header.Get("Authorization"))
	if !parsed || !slices.Equal(ours.signedHeaders, a.signedHeaders) {
		return "", false
	}
	return ours.signature, true
}

func errSignatureMismatch() *s3Error {
	return &s3Error{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch",
		Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
}
