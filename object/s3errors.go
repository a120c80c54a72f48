package object

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// s3Error wraps an SDK error with the operation and, when S3's answer
// means one, a sentinel; the SDK error stays in the chain for its details.
func s3Error(op string, err error) error {
	var be *BodyError
	if errors.As(err, &be) {
		// The request never failed: its body did. Say what the body said.
		return fmt.Errorf("%s: %w", op, be.Err)
	}
	if ce, _ := connectFailure(err); ce != nil {
		return fmt.Errorf("%s: %w", op, ce)
	}
	if region := bucketRegion(err); region != "" {
		return fmt.Errorf("%s: %w", op, &RegionError{Region: region, err: err})
	}
	if sentinel := sentinelFor(err); sentinel != nil {
		return fmt.Errorf("%s: %w: %w", op, sentinel, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// sentinelFor maps S3's error codes to this package's sentinels. Responses
// to HEAD have no body, hence no code: the SDK puts the status text in its
// place ("NotFound", "Forbidden"), and those are mapped too.
func sentinelFor(err error) error {
	switch apiErrorCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return ErrNotFound
	case "InvalidObjectState":
		return ErrNotRestored
	case "AccessDenied", "Forbidden", "AllAccessDisabled":
		return ErrAccessDenied
	case "NoSuchBucket":
		return ErrNoSuchBucket
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
		"XAdminUserNotFound": // versitygw's answer to an unknown access key, with status 404
		return ErrCredentials
	case "InvalidStorageClass":
		return ErrInvalidStorageClass
	case "PreconditionFailed":
		// If-None-Match: * on a key that holds an object. S3 may send it
		// with status 412, or with 200 in answer to a Complete.
		return ErrExists
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return ErrNotFound
		case http.StatusForbidden:
			return ErrAccessDenied
		}
	}
	// Only errors worth retrying reach the attempt limit.
	var exhausted *retry.MaxAttemptsError
	if errors.As(err, &exhausted) {
		return ErrUnavailable
	}
	return nil
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// RegionError means the request was signed for another region than the
// bucket's: S3 answers 301 PermanentRedirect or 400
// AuthorizationHeaderMalformed, and names the bucket's region.
type RegionError struct {
	Region string // the bucket's region, as the server named it
	err    error
}

func (e *RegionError) Error() string { return "the bucket is in region " + e.Region }
func (e *RegionError) Unwrap() error { return e.err }

// regionMessage finds the region AuthorizationHeaderMalformed's message
// expects: `the region 'us-east-1' is wrong; expecting 'eu-west-1'`.
var regionMessage = regexp.MustCompile(`expecting ['"]([a-z0-9-]{1,40})['"]`)

// validRegion keeps what a server or proxy wrote to region names' syntax,
// so that nothing else reaches the user's terminal in its place.
var validRegion = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// bucketRegion is the bucket's region when err says the request went to
// the wrong one: from the x-amz-bucket-region header, or else from the
// message.
func bucketRegion(err error) string {
	code := apiErrorCode(err)
	var re *awshttp.ResponseError
	isResp := errors.As(err, &re)
	if code != "PermanentRedirect" && code != "AuthorizationHeaderMalformed" &&
		!(isResp && re.HTTPStatusCode() == http.StatusMovedPermanently) {
		return ""
	}
	if isResp && re.Response != nil {
		if r := re.Response.Header.Get("X-Amz-Bucket-Region"); validRegion.MatchString(r) {
			return r
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := regionMessage.FindStringSubmatch(ae.ErrorMessage()); m != nil {
			return m[1]
		}
	}
	return ""
}

// ErrorCode is S3's error code in err ("AccessDenied", "NotImplemented"),
// or "" when the server sent none.
func ErrorCode(err error) string { return apiErrorCode(err) }
