// Package object is ogive's seam to S3: the Store interface, its
// aws-sdk-go-v2 implementation (S3), an in-memory implementation for tests
// (Memory), and Upload, which streams a reader into a multipart upload.
//
// Keys handed to a Store are storage IDs; a store applies its own key prefix.
// Objects are written in the DEEP_ARCHIVE storage class unless told
// otherwise, so reading one back goes through Restore and RestoreStatus.
package object

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors. Stores wrap them with the operation and key, so callers
// test with errors.Is.
var (
	ErrNotFound            = errors.New("object not found")
	ErrNotRestored         = errors.New("object is archived and not restored")
	ErrAccessDenied        = errors.New("access denied")
	ErrNoSuchBucket        = errors.New("bucket does not exist")
	ErrCredentials         = errors.New("credentials rejected")
	ErrInvalidStorageClass = errors.New("invalid storage class")
	ErrInvalidTier         = errors.New("invalid restore tier")
	// ErrExists is a Put or CompleteUpload refused because an object
	// already holds the key: stores never overwrite one.
	ErrExists = errors.New("object already exists")
)

// Defaults applied when PutOptions leaves a field empty.
const (
	defaultStorageClass = "DEEP_ARCHIVE"
	defaultContentType  = "application/x-ogive"
)

// S3's limits on multipart uploads, which both stores enforce: every part
// but the last is at least MinPartSize.
const (
	MinPartSize = 5 << 20
	MaxPartSize = 5 << 30
	MaxParts    = 10000
)

// State is where an object stands on the way from the archive to readable.
type State int

const (
	StateUnknown   State = iota
	StateAvailable       // not in an archive storage class: readable at once
	StateArchived        // in GLACIER or DEEP_ARCHIVE with no readable copy
	StateRestoring       // a restore is under way
	StateRestored        // a temporary readable copy exists until RestoreStatus.Expiry
)

func (s State) String() string {
	switch s {
	case StateAvailable:
		return "available"
	case StateArchived:
		return "archived"
	case StateRestoring:
		return "restoring"
	case StateRestored:
		return "restored"
	default:
		return "unknown"
	}
}

// RestoreStatus is the restore state of an object; Expiry is set only for
// StateRestored and says when the readable copy goes away.
type RestoreStatus struct {
	State  State
	Expiry time.Time
}

// Info describes a stored object.
type Info struct {
	Key          string
	Size         int64
	LastModified time.Time
	StorageClass string
	ETag         string            // as the store sends it, quotes included
	ContentType  string            // only from Head
	Metadata     map[string]string // only from Head; keys lowercased
	Status       RestoreStatus
	// Encryption is how the store encrypts the object at rest, only from a
	// Head: "" or "AES256" (SSE-S3), "aws:kms", "aws:kms:dsse", or "SSE-C".
	// Only the first two give ETags that are MD5s of the data (ETagIsMD5).
	Encryption string
}

// Tier is the speed (and price) of a restore.
type Tier string

const (
	TierBulk      Tier = "Bulk"
	TierStandard  Tier = "Standard"
	TierExpedited Tier = "Expedited"
)

func (t Tier) valid() bool {
	return t == TierBulk || t == TierStandard || t == TierExpedited
}

// RestoreResult tells what a Restore request did.
type RestoreResult int

const (
	RestoreAccepted    RestoreResult = iota + 1 // a restore started (HTTP 202)
	RestoreInProgress                           // one was already running (409 RestoreAlreadyInProgress)
	RestoreExtended                             // already restored: the copy's expiry moved (200)
	RestoreNotArchived                          // not in an archive class: nothing to restore
)

func (r RestoreResult) String() string {
	switch r {
	case RestoreAccepted:
		return "accepted"
	case RestoreInProgress:
		return "in progress"
	case RestoreExtended:
		return "extended"
	case RestoreNotArchived:
		return "not archived"
	default:
		return "unknown"
	}
}

// PutOptions apply to a single Put and to the object a multipart upload
// creates.
type PutOptions struct {
	StorageClass string // "" means DEEP_ARCHIVE
	ContentType  string // "" means application/x-ogive
	Metadata     map[string]string
}

func (o PutOptions) storageClass() string {
	if o.StorageClass == "" {
		return defaultStorageClass
	}
	return o.StorageClass
}

func (o PutOptions) contentType() string {
	if o.ContentType == "" {
		return defaultContentType
	}
	return o.ContentType
}

// Part is one acknowledged part of a multipart upload.
type Part struct {
	Number         int32
	Size           int64
	ETag           string
	ChecksumCRC32C string // base64 of the big-endian CRC-32C, as S3 returns it
}

// MultipartUpload is a multipart upload that was created and neither
// completed nor aborted.
type MultipartUpload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// Store is the only way ogive reaches object storage.
type Store interface {
	// Put stores a small object in one request. It never replaces an
	// object: when key exists it fails with ErrExists.
	Put(ctx context.Context, key string, body []byte, o PutOptions) error

	CreateUpload(ctx context.Context, key string, o PutOptions) (uploadID string, err error)
	// UploadPart sends part number of an upload, opening body once per
	// attempt.
	UploadPart(ctx context.Context, key, uploadID string, number int32, body PartBody) (Part, error)
	// CompleteUpload assembles the parts, given in ascending order of
	// Number, into the object. It never replaces an object: when key
	// exists it fails with ErrExists and leaves the upload as it was, to
	// be aborted.
	CompleteUpload(ctx context.Context, key, uploadID string, parts []Part) error
	AbortUpload(ctx context.Context, key, uploadID string) error
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	ListUploads(ctx context.Context) ([]MultipartUpload, error)

	// List calls fn for every object, in key order, with its restore
	// status; an error from fn stops the listing and is returned.
	List(ctx context.Context, fn func(Info) error) error
	// ListPrefix is List limited to the keys that begin with prefix: the
	// store asks only for those (S3: one LIST request per 1,000 of them,
	// and one when there is none), whatever else the bucket holds.
	ListPrefix(ctx context.Context, prefix string, fn func(Info) error) error
	Head(ctx context.Context, key string) (Info, error)
	// Restore asks for a readable copy of an archived object that lasts
	// days days once the restore completes.
	Restore(ctx context.Context, key string, days int32, tier Tier) (RestoreResult, error)
	// Get reads length bytes from offset; a negative length reads to the
	// end, and a range past the end stops there. An archived object
	// without a restored copy gives ErrNotRestored. The caller closes the
	// reader.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Delete removes key; deleting a missing key is not an error, as in S3.
	Delete(ctx context.Context, key string) error
}

// isArchiveClass reports whether objects of the storage class must be
// restored before they can be read.
func isArchiveClass(class string) bool {
	return class == "GLACIER" || class == "DEEP_ARCHIVE"
}

// ETagIsMD5 reports whether the store's ETag for the object is built from
// MD5s of its data, which AWS documents for objects stored in plaintext or
// with SSE-S3. With SSE-KMS or SSE-C the ETag looks the same, 32 hex digits,
// but is not an MD5, so it proves nothing.
func (i Info) ETagIsMD5() bool {
	return i.Encryption == "" || i.Encryption == "AES256"
}
