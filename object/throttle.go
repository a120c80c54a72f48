package object

import (
	"errors"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// throttleCodes are the error codes by which S3 and the services in front
// of it ask a client to send fewer requests.
var throttleCodes = map[string]bool{
	"SlowDown":                  true,
	"Throttling":                true,
	"ThrottlingException":       true,
	"ThrottledException":        true,
	"RequestThrottled":          true,
	"RequestThrottledException": true,
	"TooManyRequestsException":  true,
	"RequestLimitExceeded":      true,
}

// Throttled reports whether err is the server asking for fewer requests:
// 503 SlowDown, 429, or another throttling code. The SDK has already
// retried such a request; a caller that sends many at once should slow
// down and send it again rather than give up. The answer survives the
// SDK's wrapping, when its attempts or its retry quota ran out.
func Throttled(err error) bool {
	if err == nil {
		return false
	}
	if throttleCodes[apiErrorCode(err)] {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			return true
		}
	}
	return false
}
