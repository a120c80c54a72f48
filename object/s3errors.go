package object

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// s3Error wraps an SDK error with the operation and, when S3's answer
// means one, a sentinel; the SDK error stays in the chain for its details.
func s3Error(op string, err error) error {
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
