package object

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ErrNotSupported means the server does not implement a request, as some
// S3-compatible servers do not implement lifecycle configuration.
var ErrNotSupported = errors.New("not supported by this server")

var errProbeDone = errors.New("probe done")

// Probe checks that the store's bucket answers a listing with the store's
// credentials, reading no more than the first page.
func Probe(ctx context.Context, s Store) error {
	err := s.List(ctx, func(Info) error { return errProbeDone })
	if errors.Is(err, errProbeDone) {
		return nil
	}
	return err
}

// LifecycleChecker is implemented by stores that can tell whether their
// bucket aborts incomplete multipart uploads on its own.
type LifecycleChecker interface {
	AbortsIncompleteUploads(ctx context.Context) (bool, error)
}

var _ LifecycleChecker = (*S3)(nil)

// AbortsIncompleteUploads reports whether an enabled lifecycle rule aborts
// incomplete multipart uploads for the objects this store writes.
func (s *S3) AbortsIncompleteUploads(ctx context.Context) (bool, error) {
	out, err := s.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{
		Bucket: aws.String(s.bucket),
	})
	if err != nil {
		switch code := apiErrorCode(err); {
		case code == "NoSuchLifecycleConfiguration":
			return false, nil
		case code == "NotImplemented" || statusCode(err) == http.StatusNotImplemented:
			return false, fmt.Errorf("get lifecycle of %s: %w", s.bucket, ErrNotSupported)
		}
		return false, s3Error("get lifecycle of "+s.bucket, err)
	}
	for _, r := range out.Rules {
		if r.Status == types.ExpirationStatusEnabled && r.AbortIncompleteMultipartUpload != nil &&
			ruleCovers(r, s.prefix) {
			return true, nil
		}
	}
	return false, nil
}

// ruleCovers reports whether a rule's filter includes every key under
// prefix. Rules filtered by tags or sizes cannot match uploads, which have
// neither, so only prefix filters count.
func ruleCovers(r types.LifecycleRule, prefix string) bool {
	if r.Filter == nil {
		//lint:ignore SA1019 rules written before Filter existed still come back with Prefix
		return r.Prefix == nil || hasPrefix(prefix, *r.Prefix)
	}
	if r.Filter.Tag != nil || r.Filter.And != nil || r.Filter.ObjectSizeGreaterThan != nil ||
		r.Filter.ObjectSizeLessThan != nil {
		return false
	}
	return r.Filter.Prefix == nil || hasPrefix(prefix, *r.Filter.Prefix)
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

func statusCode(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
