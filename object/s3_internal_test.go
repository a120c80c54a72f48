package object

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestParseEndpoint(t *testing.T) {
	for _, c := range []struct {
		in, want  string
		pathStyle bool
	}{
		{"", "", false},
		{"http://127.0.0.1:7070", "http://127.0.0.1:7070", true},
		{"http://[::1]:7070", "http://[::1]:7070", true},
		{"http://localhost:9000", "http://localhost:9000", true},
		{"http://minio.localhost", "http://minio.localhost", true},
		{"https://s3.eu-west-1.amazonaws.com", "https://s3.eu-west-1.amazonaws.com", false},
		{"s3.example.com", "https://s3.example.com", false},
		{"192.168.1.20:9000", "https://192.168.1.20:9000", true},
	} {
		got, pathStyle, err := parseEndpoint(c.in)
		if err != nil || got != c.want || pathStyle != c.pathStyle {
			t.Errorf("parseEndpoint(%q) = %q, %v, %v; want %q, %v", c.in, got, pathStyle, err, c.want, c.pathStyle)
		}
	}
	for _, bad := range []string{"ftp://host", "http://", "http://host:port:x", "://x"} {
		if _, _, err := parseEndpoint(bad); err == nil {
			t.Errorf("parseEndpoint(%q) accepted", bad)
		}
	}
}

func TestNormalizePrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a/", "a/": "a/", "backups/host": "backups/host/"} {
		if got := KeyPrefix(in); got != want {
			t.Errorf("KeyPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChecksumCRC32C(t *testing.T) {
	// The CRC-32C check value of "123456789" is 0xE3069283.
	if got := ChecksumCRC32C([]byte("123456789")); got != "4waSgw==" {
		t.Errorf("ChecksumCRC32C = %q, want 4waSgw==", got)
	}
	if got := ChecksumCRC32C(nil); got != "AAAAAA==" {
		t.Errorf("ChecksumCRC32C(nil) = %q, want AAAAAA==", got)
	}
}

// sdkError builds an error shaped like the SDK's for an S3 error response.
func sdkError(status int, code string) error {
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: status}}
	var inner error = &smithy.GenericAPIError{Code: code, Message: "test"}
	return &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: "Test",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: resp, Err: inner},
			RequestID:     "req",
		},
	}
}

func TestS3ErrorSentinels(t *testing.T) {
	for _, c := range []struct {
		status int
		code   string
		want   error
	}{
		{404, "NoSuchKey", ErrNotFound},
		{404, "NotFound", ErrNotFound},
		{404, "NoSuchUpload", ErrNotFound},
		{403, "InvalidObjectState", ErrNotRestored},
		{403, "AccessDenied", ErrAccessDenied},
		{403, "Forbidden", ErrAccessDenied},
		{404, "NoSuchBucket", ErrNoSuchBucket},
		{403, "InvalidAccessKeyId", ErrCredentials},
		{403, "SignatureDoesNotMatch", ErrCredentials},
		{400, "ExpiredToken", ErrCredentials},
		{404, "XAdminUserNotFound", ErrCredentials},
		{400, "InvalidStorageClass", ErrInvalidStorageClass},
		{412, "PreconditionFailed", ErrExists},
		{200, "PreconditionFailed", ErrExists},
		{409, "ConditionalRequestConflict", nil},
		{404, "", ErrNotFound},
		{403, "", ErrAccessDenied},
		{500, "InternalError", nil},
		{400, "InvalidRange", nil},
	} {
		sdk := sdkError(c.status, c.code)
		err := s3Error("get key", sdk)
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%d %s: %v, want %v", c.status, c.code, err, c.want)
		}
		if c.want == nil {
			for _, s := range []error{ErrNotFound, ErrNotRestored, ErrAccessDenied, ErrNoSuchBucket, ErrCredentials, ErrInvalidStorageClass, ErrExists} {
				if errors.Is(err, s) {
					t.Errorf("%d %s maps to %v, want no sentinel", c.status, c.code, s)
				}
			}
		}
		if !errors.Is(err, sdk) {
			t.Errorf("%d %s: the SDK error is not kept in the chain", c.status, c.code)
		}
		if !strings.HasPrefix(err.Error(), "get key: ") {
			t.Errorf("error %q does not start with its operation", err)
		}
	}
	plain := errors.New("connection refused")
	if err := s3Error("list", plain); !errors.Is(err, plain) || err.Error() != "list: connection refused" {
		t.Errorf("s3Error of a transport error = %v", err)
	}
}

func TestStaticCredentials(t *testing.T) {
	const id, secret = "AKIAEXAMPLEKEYID0000", "s3cr3t/Value+With/Signs"
	p := StaticCredentials(memguard.NewEnclave([]byte(id)), memguard.NewEnclave([]byte(secret)))
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, p); strings.Contains(out, secret) || strings.Contains(out, id) || !strings.Contains(out, "redacted") {
			t.Errorf("Sprintf(%q) = %q, want it redacted", format, out)
		}
	}
	creds, err := p.Retrieve(t.Context())
	if err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	if creds.AccessKeyID != id || creds.SecretAccessKey != secret || !creds.CanExpire || creds.Expires.IsZero() {
		t.Errorf("Retrieve = key %q, expiring %v at %v", creds.AccessKeyID, creds.CanExpire, creds.Expires)
	}
	// The enclaves stay usable: the next refresh opens them again.
	if again, err := p.Retrieve(t.Context()); err != nil || again.SecretAccessKey != secret {
		t.Errorf("second Retrieve: %v", err)
	}
	if _, err := StaticCredentials(nil, nil).Retrieve(t.Context()); !errors.Is(err, ErrCredentials) {
		t.Errorf("Retrieve without enclaves: %v, want ErrCredentials", err)
	}
}

func TestEncryption(t *testing.T) {
	for _, c := range []struct {
		sse      types.ServerSideEncryption
		customer *string
		want     string
		md5      bool
	}{
		{"", nil, "", true},
		{types.ServerSideEncryptionAes256, nil, "AES256", true},
		{types.ServerSideEncryptionAwsKms, nil, "aws:kms", false},
		{types.ServerSideEncryptionAwsKmsDsse, nil, "aws:kms:dsse", false},
		{"", aws.String("AES256"), "SSE-C", false},
	} {
		got := encryption(c.sse, c.customer)
		if got != c.want || (Info{Encryption: got}).ETagIsMD5() != c.md5 {
			t.Errorf("encryption(%q, %v) = %q (ETag an MD5: %t), want %q (%t)", c.sse, c.customer, got, (Info{Encryption: got}).ETagIsMD5(), c.want, c.md5)
		}
	}
}
