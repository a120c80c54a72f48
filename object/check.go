package object

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Errors for requests S3 would refuse; callers have no use for telling them
// apart, so they stay unexported.
var (
	errEmptyKey     = errors.New("empty key")
	errPartNumber   = errors.New("part number out of range 1-10000")
	errPartTooLarge = errors.New("part larger than 5 GiB")
	errPartTooSmall = errors.New("part smaller than 5 MiB before the last part")
	errInvalidPart  = errors.New("invalid part list")
	errInvalidRange = errors.New("range not satisfiable")
	errRestoreDays  = errors.New("restore days must be at least 1")
)

// checkKey refuses the empty key: sent to S3 it would turn an object
// request into a bucket request (PUT creates the bucket, DELETE removes it).
func checkKey(key string) error {
	if key == "" {
		return errEmptyKey
	}
	return nil
}

// checkPut is checked before anything is sent, so that a typo in a storage
// class fails before a long upload starts rather than at its end.
func checkPut(key string, o PutOptions) error {
	if err := checkKey(key); err != nil {
		return err
	}
	class := o.storageClass()
	if !slices.Contains(types.StorageClass("").Values(), types.StorageClass(class)) {
		return fmt.Errorf("%w %q", ErrInvalidStorageClass, class)
	}
	return nil
}

func checkRestore(key string, days int32, tier Tier) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if days < 1 {
		return fmt.Errorf("%w: %d", errRestoreDays, days)
	}
	if !tier.valid() {
		return fmt.Errorf("%w %q", ErrInvalidTier, tier)
	}
	return nil
}

func checkGet(key string, offset int64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if offset < 0 {
		return fmt.Errorf("%w: negative offset %d", errInvalidRange, offset)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ChecksumCRC32C is the x-amz-checksum-crc32c value of b: the big-endian
// CRC-32C in standard base64.
func ChecksumCRC32C(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(b, castagnoli))
	return base64.StdEncoding.EncodeToString(sum[:])
}
