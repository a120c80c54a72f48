package s3local

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Conditional writes: If-None-Match: * on PutObject and
// CompleteMultipartUpload refuses to replace an object with 412
// PreconditionFailed, as S3 does.
//
// versitygw v1.8.0 evaluates the header itself, atomically with the write,
// for PutObject and for the Complete of a live upload. One case escapes it:
// a Complete whose upload is gone while its key holds an object is taken
// for a Complete sent again after it succeeded and answered 200, whatever
// the header says, even for an upload ID it never issued. The layer
// therefore answers a conditional Complete itself when the key holds an
// object, and runs the Completes of one key one at a time, so that two of
// them, even of one upload, cannot both succeed.

// errPreconditionFailed is S3's answer to a conditional write onto a key
// that holds an object.
func errPreconditionFailed() *s3Error {
	return &s3Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailed",
		Message: "At least one of the pre-conditions you specified did not hold", Condition: "If-None-Match"}
}

// refuseExisting answers a CompleteMultipartUpload sent with
// If-None-Match: * onto a key that holds an object, with 412 and the upload
// left as it is. The caller holds the key's lock. It checks the request's
// signature before answering, since versitygw never sees it; a request it
// lets through is checked by versitygw as usual. Any other If-None-Match
// value goes on to versitygw, which answers 501 NotImplemented as S3 does
// not document one.
func (l *layer) refuseExisting(r *http.Request, c *call, body []byte) *s3Error {
	if r.Header.Get("If-None-Match") != "*" {
		return nil
	}
	exists, err := l.exists(r.Context(), c.id)
	if err != nil {
		l.log.Printf("complete %s/%s: head: %v", c.id.bucket, c.id.key, err)
		return errInternal("s3local: check object: " + err.Error())
	}
	if !exists {
		return nil
	}
	if e := l.verifier.verify(r, body); e != nil {
		return e
	}
	return errPreconditionFailed()
}

// exists asks versitygw, with the layer's own credentials, whether id
// holds an object.
func (l *layer) exists(ctx context.Context, id objectID) (bool, error) {
	_, err := l.direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(id.bucket), Key: aws.String(id.key)})
	var nf *types.NotFound
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &nf):
		return false, nil
	default:
		return false, err
	}
}

// keyLocks lets one request at a time act on a key.
type keyLocks struct {
	mu    sync.Mutex
	locks map[objectID]*keyLock
}

type keyLock struct {
	held  chan struct{} // holds a token while the key is locked
	users int           // requests holding or waiting for it
}

// lock waits until id is free or ctx is done, and returns the function
// that frees it.
func (k *keyLocks) lock(ctx context.Context, id objectID) (unlock func(), err error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[objectID]*keyLock)
	}
	kl := k.locks[id]
	if kl == nil {
		kl = &keyLock{held: make(chan struct{}, 1)}
		k.locks[id] = kl
	}
	kl.users++
	k.mu.Unlock()

	release := func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if kl.users--; kl.users == 0 {
			delete(k.locks, id)
		}
	}
	select {
	case kl.held <- struct{}{}:
		return func() { <-kl.held; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
