package s3local

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Retrieval tiers of RestoreObject.
const (
	tierBulk      = "Bulk"
	tierStandard  = "Standard"
	tierExpedited = "Expedited"
)

// maxRestoreBody bounds the RestoreRequest document; a real one is a few
// hundred bytes.
const maxRestoreBody = 64 << 10

type restoreRequest struct {
	XMLName              xml.Name `xml:"RestoreRequest"`
	Days                 *int64   `xml:"Days"`
	Type                 string   `xml:"Type"`
	GlacierJobParameters *struct {
		Tier string `xml:"Tier"`
	} `xml:"GlacierJobParameters"`
}

// serveRestore answers RestoreObject, which versitygw does not implement.
// Since versitygw never sees the request, the layer checks the signature
// itself before anything else.
func (l *layer) serveRestore(w http.ResponseWriter, r *http.Request, c *call) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRestoreBody+1))
	if err != nil {
		(&s3Error{Status: http.StatusBadRequest, Code: "IncompleteBody",
			Message: "You did not provide the number of bytes specified by the Content-Length HTTP header."}).write(w, r)
		return
	}
	if len(body) > maxRestoreBody {
		(&s3Error{Status: http.StatusBadRequest, Code: "MaxMessageLengthExceeded",
			Message: "Your request was too big."}).write(w, r)
		return
	}
	if e := l.verifier.verify(r, body); e != nil {
		e.write(w, r)
		return
	}
	if c.id.key == "" {
		(&s3Error{Status: http.StatusBadRequest, Code: "InvalidRequest",
			Message: "RestoreObject needs an object key"}).write(w, r)
		return
	}

	tier, days, e := parseRestoreRequest(body)
	if e != nil {
		e.write(w, r)
		return
	}
	if e := l.checkExists(r, c.id); e != nil {
		e.write(w, r)
		return
	}
	class, _ := l.state.lookup(c.id)
	if !isArchived(class) {
		notAllowed(class).write(w, r)
		return
	}
	if tier == tierExpedited && class == classDeepArchive {
		// Deep Archive has no Expedited retrieval. S3's documentation says
		// so without naming the error; an invalid argument value is what
		// S3 reports for every other unacceptable RestoreRequest field.
		(&s3Error{Status: http.StatusBadRequest, Code: "InvalidArgument",
			Message: "Expedited retrieval is not available for the DEEP_ARCHIVE storage class"}).write(w, r)
		return
	}
	if days > int64(math.MaxInt64/l.day) {
		(&s3Error{Status: http.StatusBadRequest, Code: "InvalidArgument",
			Message: "Days is too large"}).write(w, r)
		return
	}

	outcome, window, err := l.state.requestRestore(c.id, l.now(), tier, l.tiers[tier], time.Duration(days)*l.day)
	if err != nil {
		l.log.Printf("restore %s/%s: %v", c.id.bucket, c.id.key, err)
		errInternal("s3local: "+err.Error()).write(w, r)
		return
	}
	switch outcome {
	case restoreStarted:
		l.log.Printf("restore %s/%s: %s tier, ready %s, expires %s", c.id.bucket, c.id.key, tier,
			window.Ready.Format(time.RFC3339), window.Expiry.Format(time.RFC3339))
		writeEmpty(w, http.StatusAccepted)
	case restoreExtended:
		writeEmpty(w, http.StatusOK)
	case restoreInProgress:
		(&s3Error{Status: http.StatusConflict, Code: "RestoreAlreadyInProgress",
			Message: "Object restore is already in progress"}).write(w, r)
	case restoreNotAllowed:
		// Overwritten or deleted since the class was read.
		notAllowed(classStandard).write(w, r)
	}
}

// parseRestoreRequest reads Days and the tier, which defaults to Standard
// as in S3.
func parseRestoreRequest(body []byte) (tier string, days int64, e *s3Error) {
	var req restoreRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		return "", 0, &s3Error{Status: http.StatusBadRequest, Code: "MalformedXML",
			Message: "The XML you provided was not well-formed or did not validate against our published schema."}
	}
	if req.Type != "" {
		// SELECT restores were retired by AWS; nothing here models them.
		return "", 0, &s3Error{Status: http.StatusNotImplemented, Code: "NotImplemented",
			Message: "Restore requests of type " + strconv.Quote(req.Type) + " are not implemented"}
	}
	if req.Days == nil || *req.Days < 1 {
		return "", 0, &s3Error{Status: http.StatusBadRequest, Code: "InvalidArgument",
			Message: "Days must be a positive integer for GLACIER and DEEP_ARCHIVE objects"}
	}
	tier = tierStandard
	if req.GlacierJobParameters != nil && req.GlacierJobParameters.Tier != "" {
		tier = req.GlacierJobParameters.Tier
	}
	switch tier {
	case tierBulk, tierStandard, tierExpedited:
	default:
		return "", 0, &s3Error{Status: http.StatusBadRequest, Code: "MalformedXML",
			Message: "Tier must be one of Bulk, Standard or Expedited"}
	}
	return tier, *req.Days, nil
}

// checkExists asks versitygw, with the layer's own credentials, whether
// the key is there.
func (l *layer) checkExists(r *http.Request, id objectID) *s3Error {
	ctx := r.Context()
	exists, err := l.exists(ctx, id)
	if err != nil {
		l.log.Printf("restore %s/%s: head: %v", id.bucket, id.key, err)
		return errInternal("s3local: check object: " + err.Error())
	}
	if exists {
		return nil
	}
	resource := "/" + id.bucket + "/" + id.key
	var nf *types.NotFound
	if _, err := l.direct.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(id.bucket)}); errors.As(err, &nf) {
		return &s3Error{Status: http.StatusNotFound, Code: "NoSuchBucket",
			Message: "The specified bucket does not exist", Resource: "/" + id.bucket}
	}
	return &s3Error{Status: http.StatusNotFound, Code: "NoSuchKey",
		Message: "The specified key does not exist.", Resource: resource}
}

func notAllowed(class string) *s3Error {
	return &s3Error{Status: http.StatusForbidden, Code: "InvalidObjectState",
		Message: "Restore is not allowed for the object's current storage class", StorageClass: class}
}

func writeEmpty(w http.ResponseWriter, status int) {
	w.Header().Set("X-Amz-Request-Id", newRequestID())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}
