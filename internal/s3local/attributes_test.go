package s3local

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func crc32cOf(b []byte) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))))
}

// multipart uploads bodies as parts 1, 2, … with or without CRC-32C, and
// completes the upload from the part numbers in use (all when nil).
func multipart(t *testing.T, c *s3.Client, bucket, key string, class types.StorageClass, withCRC bool, bodies [][]byte, use []int32) {
	t.Helper()
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), StorageClass: class}
	if withCRC {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
	}
	up, err := c.CreateMultipartUpload(t.Context(), in)
	if err != nil {
		t.Fatalf("create upload %s: %v", key, err)
	}
	done := make(map[int32]types.CompletedPart)
	for i, body := range bodies {
		n := int32(i + 1)
		pin := &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(body)}
		if withCRC {
			pin.ChecksumCRC32C = aws.String(crc32cOf(body))
		}
		out, err := c.UploadPart(t.Context(), pin)
		if err != nil {
			t.Fatalf("upload part %d of %s: %v", n, key, err)
		}
		done[n] = types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32C: pin.ChecksumCRC32C}
	}
	if use == nil {
		for i := range bodies {
			use = append(use, int32(i+1))
		}
	}
	var parts []types.CompletedPart
	for _, n := range use {
		parts = append(parts, done[n])
	}
	_, err = c.CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatalf("complete %s: %v", key, err)
	}
}

func attributes(t *testing.T, c *s3.Client, bucket, key string, maxParts int32, marker string) *s3.GetObjectAttributesOutput {
	t.Helper()
	in := &s3.GetObjectAttributesInput{Bucket: aws.String(bucket), Key: aws.String(key),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts, types.ObjectAttributesChecksum,
			types.ObjectAttributesObjectSize, types.ObjectAttributesStorageClass, types.ObjectAttributesEtag}}
	if maxParts > 0 {
		in.MaxParts = aws.Int32(maxParts)
	}
	if marker != "" {
		in.PartNumberMarker = aws.String(marker)
	}
	out, err := c.GetObjectAttributes(t.Context(), in)
	if err != nil {
		t.Fatalf("get object attributes %s: %v", key, err)
	}
	return out
}

func partBodies(sizes ...int) [][]byte {
	bodies := make([][]byte, len(sizes))
	for i, n := range sizes {
		bodies[i] = bytes.Repeat([]byte{byte('a' + i)}, n)
	}
	return bodies
}

type wantPart struct {
	number int32
	body   []byte
}

func checkParts(t *testing.T, what string, got []types.ObjectPart, want []wantPart) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d parts, want %d: %+v", what, len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if aws.ToInt32(g.PartNumber) != w.number || aws.ToInt64(g.Size) != int64(len(w.body)) || aws.ToString(g.ChecksumCRC32C) != crc32cOf(w.body) {
			t.Errorf("%s: part %d is number %d, %d bytes, crc32c %s; want %d, %d, %s", what, i, aws.ToInt32(g.PartNumber),
				aws.ToInt64(g.Size), aws.ToString(g.ChecksumCRC32C), w.number, len(w.body), crc32cOf(w.body))
		}
	}
}

// GetObjectAttributes reports an archived object's class, size, composite
// checksum and parts without a restore, while its data stays unreadable.
func TestAttributesOfArchivedMultipartObject(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	key := testKey(t, "deep")
	bodies := partBodies(5<<20, 5<<20, 100)
	multipart(t, c, s.Bucket, key, types.StorageClassDeepArchive, true, bodies, nil)

	if _, _, err := get(t.Context(), c, s.Bucket, key, ""); !isAPIError(err, "InvalidObjectState", 403) {
		t.Fatalf("get of the archived object: %v, want InvalidObjectState", err)
	}
	out := attributes(t, c, s.Bucket, key, 0, "")
	if out.StorageClass != types.StorageClassDeepArchive {
		t.Errorf("class %q, want DEEP_ARCHIVE", out.StorageClass)
	}
	if got := aws.ToInt64(out.ObjectSize); got != 10<<20+100 {
		t.Errorf("size %d", got)
	}
	if out.ETag == nil || out.Checksum == nil {
		t.Fatalf("etag or checksum lost: %+v", out)
	}
	var sums []byte
	for _, b := range bodies {
		sums = binary.BigEndian.AppendUint32(sums, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	}
	if got, want := aws.ToString(out.Checksum.ChecksumCRC32C), crc32cOf(sums)+"-3"; got != want {
		t.Errorf("composite checksum %s, want %s", got, want)
	}
	p := out.ObjectParts
	if p == nil {
		t.Fatal("no ObjectParts")
	}
	if aws.ToInt32(p.TotalPartsCount) != 3 || aws.ToBool(p.IsTruncated) || aws.ToInt32(p.MaxParts) != 1000 {
		t.Errorf("parts count %d, truncated %v, max %d", aws.ToInt32(p.TotalPartsCount), aws.ToBool(p.IsTruncated), aws.ToInt32(p.MaxParts))
	}
	checkParts(t, "all parts", p.Parts, []wantPart{{1, bodies[0]}, {2, bodies[1]}, {3, bodies[2]}})

	// Pages of two parts, as S3 pages them.
	first := attributes(t, c, s.Bucket, key, 2, "").ObjectParts
	if !aws.ToBool(first.IsTruncated) || aws.ToString(first.NextPartNumberMarker) != "2" || aws.ToInt32(first.TotalPartsCount) != 3 {
		t.Errorf("first page: truncated %v, next %q, count %d", aws.ToBool(first.IsTruncated),
			aws.ToString(first.NextPartNumberMarker), aws.ToInt32(first.TotalPartsCount))
	}
	checkParts(t, "first page", first.Parts, []wantPart{{1, bodies[0]}, {2, bodies[1]}})
	second := attributes(t, c, s.Bucket, key, 2, aws.ToString(first.NextPartNumberMarker)).ObjectParts
	if aws.ToBool(second.IsTruncated) || aws.ToString(second.PartNumberMarker) != "2" {
		t.Errorf("second page: truncated %v, marker %q", aws.ToBool(second.IsTruncated), aws.ToString(second.PartNumberMarker))
	}
	checkParts(t, "second page", second.Parts, []wantPart{{3, bodies[2]}})

	// Only what was asked for comes back.
	only, err := c.GetObjectAttributes(t.Context(), &s3.GetObjectAttributesInput{Bucket: aws.String(s.Bucket), Key: aws.String(key),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}})
	if err != nil {
		t.Fatal(err)
	}
	if only.ObjectParts != nil || only.StorageClass != "" || only.Checksum != nil || aws.ToInt64(only.ObjectSize) != 10<<20+100 {
		t.Errorf("asked for the size only, got %+v", only)
	}
}

// The parts of an object are those the completion named, not every part
// uploaded; a new write of the key forgets them.
func TestAttributesFollowCompletionAndOverwrite(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	key := testKey(t, "subset")
	bodies := partBodies(5<<20, 5<<20, 10)
	multipart(t, c, s.Bucket, key, types.StorageClassStandard, true, bodies, []int32{1, 3})
	out := attributes(t, c, s.Bucket, key, 0, "")
	if out.StorageClass != types.StorageClassStandard {
		t.Errorf("class %q, want STANDARD", out.StorageClass)
	}
	checkParts(t, "parts 1 and 3", out.ObjectParts.Parts, []wantPart{{1, bodies[0]}, {3, bodies[2]}})

	body := []byte("one request")
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ChecksumCRC32C: aws.String(crc32cOf(body)), StorageClass: types.StorageClassGlacier})
	if err != nil {
		t.Fatal(err)
	}
	out = attributes(t, c, s.Bucket, key, 0, "")
	if out.ObjectParts != nil {
		t.Errorf("an object put in one request has parts: %+v", out.ObjectParts)
	}
	if out.StorageClass != types.StorageClassGlacier || aws.ToString(out.Checksum.ChecksumCRC32C) != crc32cOf(body) ||
		out.Checksum.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("class %q, checksum %s (%s), want GLACIER, %s (FULL_OBJECT)", out.StorageClass,
			aws.ToString(out.Checksum.ChecksumCRC32C), out.Checksum.ChecksumType, crc32cOf(body))
	}
}

// Without checksums, S3 gives the part count but no Part elements.
func TestAttributesWithoutChecksumsListNoParts(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	key := testKey(t, "plain")
	multipart(t, c, s.Bucket, key, types.StorageClassDeepArchive, false, partBodies(5<<20, 1), nil)
	p := attributes(t, c, s.Bucket, key, 0, "").ObjectParts
	if p == nil || aws.ToInt32(p.TotalPartsCount) != 2 || len(p.Parts) != 0 {
		t.Errorf("parts %+v, want a count of 2 and no Part", p)
	}
}

func TestRewriteAttributesBody(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>abc</ETag><ObjectSize>7</ObjectSize><StorageClass>STANDARD</StorageClass><ObjectParts><PartsCount>9</PartsCount></ObjectParts></GetObjectAttributesResponse>`
	parts := []partRecord{{Number: 1, Size: 5, CRC32C: "AAAAAA=="}, {Number: 2, Size: 2, CRC32C: "AAAAAQ=="}}
	q := attributesQuery{attributes: map[string]bool{"StorageClass": true, "ObjectParts": true}, maxParts: 1}
	out, err := rewriteAttributesBody([]byte(in), classDeepArchive, parts, q)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>abc</ETag><ObjectSize>7</ObjectSize>` +
		`<ObjectParts><PartsCount>2</PartsCount><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker>` +
		`<MaxParts>1</MaxParts><IsTruncated>true</IsTruncated><Part><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C><PartNumber>1</PartNumber>` +
		`<Size>5</Size></Part></ObjectParts><StorageClass>DEEP_ARCHIVE</StorageClass></GetObjectAttributesResponse>`
	if string(out) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", out, want)
	}
	for _, bad := range []string{"<A><B>", "<A></B>", "not xml <"} {
		if _, err := rewriteAttributesBody([]byte(bad), classStandard, parts, q); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	if got := parseAttributesQuery(map[string][]string{
		"X-Amz-Object-Attributes":  {"ObjectParts,Checksum", "StorageClass"},
		"X-Amz-Max-Parts":          {"5000"},
		"X-Amz-Part-Number-Marker": {strconv.Itoa(3)},
	}); !got.attributes["ObjectParts"] || !got.attributes["Checksum"] || !got.attributes["StorageClass"] || got.maxParts != 1000 || got.marker != 3 {
		t.Errorf("parsed query %+v", got)
	}
}
