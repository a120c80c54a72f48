package object

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ErrNoChecksums means the store keeps no CRC-32C for an object or for one
// of its parts: it was uploaded without checksums.
var ErrNoChecksums = errors.New("no stored crc32c checksums")

// PartChecksum is one part of a stored object as S3 keeps it.
type PartChecksum struct {
	Number int32
	Size   int64
	CRC32C uint32 // CRC-32C (Castagnoli) of the part's bytes
}

// PartChecksummer is a store that tells the parts of a completed object and
// their checksums without reading its data, so it works on an archived
// object that was never restored. It is apart from Store so that Store stays
// the small set of calls every command needs.
type PartChecksummer interface {
	// PartChecksums returns the parts of key in order. An object stored in
	// one request is one part holding the whole object and its full-object
	// checksum. An object without CRC-32C checksums gives ErrNoChecksums.
	PartChecksums(ctx context.Context, key string) ([]PartChecksum, error)
	// Head gives the object's ETag, which for S3 without SSE-KMS or SSE-C
	// is built from the MD5s of the parts.
	Head(ctx context.Context, key string) (Info, error)
}

var (
	_ PartChecksummer = (*S3)(nil)
	_ PartChecksummer = (*Memory)(nil)
)

// attributesPageSize is S3's largest (and default) page of parts.
const attributesPageSize = 1000

// PartChecksums asks GetObjectAttributes for the object's size, checksum and
// parts, 1,000 parts per request. AWS answers it for archived objects, and
// it needs s3:GetObjectAttributes besides s3:GetObject.
//
// The parts are checked against each other before they are trusted: their
// sizes must add up to the object's size, and for a multipart object the
// composite checksum S3 keeps ("checksum of the part checksums", suffixed
// with the part count) must be the CRC-32C of the parts' checksums, so a
// truncated or mismatched part list is an error rather than a false result.
func (s *S3) PartChecksums(ctx context.Context, key string) ([]PartChecksum, error) {
	op := "part checksums of " + key
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	in := &s3.GetObjectAttributesInput{
		Bucket: aws.String(s.bucket),
		Key:    s.objectKey(key),
		ObjectAttributes: []types.ObjectAttributes{
			types.ObjectAttributesChecksum,
			types.ObjectAttributesObjectParts,
			types.ObjectAttributesObjectSize,
		},
		MaxParts: aws.Int32(attributesPageSize),
	}
	var (
		parts    []PartChecksum
		size     int64
		checksum *types.Checksum
		total    int32
		marker   int
	)
	for page := 0; ; page++ {
		out, err := s.client.GetObjectAttributes(ctx, in)
		if err != nil {
			return nil, s3Error(op, err)
		}
		if page == 0 {
			if out.ObjectSize == nil {
				return nil, fmt.Errorf("%s: server sent no object size", op)
			}
			size, checksum = *out.ObjectSize, out.Checksum
		}
		listed := out.ObjectParts
		if listed == nil || aws.ToInt32(listed.TotalPartsCount) == 0 {
			break // stored in one request: no parts
		}
		total = aws.ToInt32(listed.TotalPartsCount)
		for _, p := range listed.Parts {
			part, err := fromObjectPart(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			parts = append(parts, part)
		}
		if !aws.ToBool(listed.IsTruncated) {
			break
		}
		// A marker that does not move forward would page forever.
		next, err := strconv.Atoi(aws.ToString(listed.NextPartNumberMarker))
		if err != nil || next <= marker || len(parts) > MaxParts {
			return nil, fmt.Errorf("%s: server paged the parts without progress", op)
		}
		marker = next
		in.PartNumberMarker = aws.String(strconv.Itoa(next))
	}
	if total == 0 {
		return wholeObject(op, size, checksum)
	}
	if err := checkParts(parts, total, size, checksum); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return parts, nil
}

// wholeObject describes an object stored with one PutObject: one part, the
// whole object, with its full-object checksum.
func wholeObject(op string, size int64, c *types.Checksum) ([]PartChecksum, error) {
	if c == nil || aws.ToString(c.ChecksumCRC32C) == "" {
		return nil, fmt.Errorf("%s: %w", op, ErrNoChecksums)
	}
	value := aws.ToString(c.ChecksumCRC32C)
	if c.ChecksumType == types.ChecksumTypeComposite || strings.Contains(value, "-") {
		// A composite checksum belongs to a multipart object whose parts
		// the server did not list.
		return nil, fmt.Errorf("%s: %w: the server lists no parts of a multipart object", op, ErrNoChecksums)
	}
	sum, err := decodeCRC32C(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return []PartChecksum{{Number: 1, Size: size, CRC32C: sum}}, nil
}

func fromObjectPart(p types.ObjectPart) (PartChecksum, error) {
	n := aws.ToInt32(p.PartNumber)
	if aws.ToString(p.ChecksumCRC32C) == "" {
		return PartChecksum{}, fmt.Errorf("part %d: %w", n, ErrNoChecksums)
	}
	sum, err := decodeCRC32C(*p.ChecksumCRC32C)
	if err != nil {
		return PartChecksum{}, fmt.Errorf("part %d: %w", n, err)
	}
	if p.Size == nil || *p.Size < 0 {
		return PartChecksum{}, fmt.Errorf("part %d: no size", n)
	}
	return PartChecksum{Number: n, Size: *p.Size, CRC32C: sum}, nil
}

// checkParts refuses a part list that does not describe the whole object.
func checkParts(parts []PartChecksum, total int32, size int64, c *types.Checksum) error {
	if len(parts) == 0 {
		return fmt.Errorf("%w: the server lists none of the %d parts", ErrNoChecksums, total)
	}
	if int64(len(parts)) != int64(total) {
		return fmt.Errorf("server listed %d parts of %d", len(parts), total)
	}
	var sum int64
	for i, p := range parts {
		if i > 0 && p.Number <= parts[i-1].Number {
			return fmt.Errorf("server listed part %d after part %d", p.Number, parts[i-1].Number)
		}
		sum += p.Size
	}
	if sum != size {
		return fmt.Errorf("parts hold %d bytes, the object %d", sum, size)
	}
	if c == nil || c.ChecksumType == types.ChecksumTypeFullObject {
		return nil
	}
	composite, count, ok := strings.Cut(aws.ToString(c.ChecksumCRC32C), "-")
	if !ok {
		return nil
	}
	if count != strconv.Itoa(len(parts)) {
		return fmt.Errorf("object checksum counts %s parts, the server listed %d", count, len(parts))
	}
	want, err := decodeCRC32C(composite)
	if err != nil {
		return fmt.Errorf("object checksum: %w", err)
	}
	sums := make([]byte, 0, 4*len(parts))
	for _, p := range parts {
		sums = binary.BigEndian.AppendUint32(sums, p.CRC32C)
	}
	if crc32.Checksum(sums, castagnoli) != want {
		return errors.New("the part checksums do not make up the object's composite checksum")
	}
	return nil
}

// decodeCRC32C reads a checksum as S3 sends it: the big-endian CRC-32C in
// standard base64.
func decodeCRC32C(s string) (uint32, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 4 {
		return 0, fmt.Errorf("malformed crc32c %q", s)
	}
	return binary.BigEndian.Uint32(b), nil
}

// PartChecksums reports the parts an object was completed from, or one part
// for an object stored with Put. Like S3, it answers for archived objects.
func (m *Memory) PartChecksums(ctx context.Context, key string) ([]PartChecksum, error) {
	op := "part checksums of " + key
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if o.parts == nil {
		return []PartChecksum{{Number: 1, Size: int64(len(o.body)), CRC32C: crc32.Checksum(o.body, castagnoli)}}, nil
	}
	parts := make([]PartChecksum, len(o.parts))
	for i, p := range o.parts {
		sum, err := decodeCRC32C(p.ChecksumCRC32C)
		if err != nil {
			return nil, fmt.Errorf("%s: part %d: %w", op, p.Number, err)
		}
		parts[i] = PartChecksum{Number: p.Number, Size: p.Size, CRC32C: sum}
	}
	return parts, nil
}
