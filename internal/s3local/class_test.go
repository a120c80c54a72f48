package s3local

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestStorageClassReportedOnHeadGetAndList(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	classes := map[string]types.StorageClass{
		"deep":     types.StorageClassDeepArchive,
		"glacier":  types.StorageClassGlacier,
		"ia":       types.StorageClassStandardIa,
		"standard": types.StorageClassStandard,
		"none":     "",
	}
	for name, class := range classes {
		put(t, c, s.Bucket, testKey(t, name), class, []byte(name))
	}
	// What S3 reports: STANDARD is implicit on HEAD and GET, explicit in
	// listings.
	wantHeader := map[string]types.StorageClass{
		"deep": types.StorageClassDeepArchive, "glacier": types.StorageClassGlacier,
		"ia": types.StorageClassStandardIa, "standard": "", "none": "",
	}
	for name, want := range wantHeader {
		if got := head(t, c, s.Bucket, testKey(t, name)).StorageClass; got != want {
			t.Errorf("head %s: class %q, want %q", name, got, want)
		}
	}
	// Readable classes answer GET with the class too.
	for _, name := range []string{"ia", "standard", "none"} {
		body, out, err := get(t.Context(), c, s.Bucket, testKey(t, name), "")
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		if string(body) != name || out.StorageClass != wantHeader[name] {
			t.Errorf("get %s: body %q class %q, want %q %q", name, body, out.StorageClass, name, wantHeader[name])
		}
	}

	out, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(testKey(t, ""))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != len(classes) {
		t.Fatalf("listed %d objects, want %d", len(out.Contents), len(classes))
	}
	for _, o := range out.Contents {
		name := strings.TrimPrefix(*o.Key, testKey(t, ""))
		want := types.ObjectStorageClass(wantHeader[name])
		if want == "" {
			want = types.ObjectStorageClassStandard
		}
		if o.StorageClass != want {
			t.Errorf("list %s: class %q, want %q", name, o.StorageClass, want)
		}
		if o.ETag == nil || o.Size == nil || o.LastModified == nil {
			t.Errorf("list %s: lost ETag, Size or LastModified: %+v", name, o)
		}
	}

	// The legacy ListObjects call gets the same treatment.
	v1, err := c.ListObjects(t.Context(), &s3.ListObjectsInput{Bucket: aws.String(s.Bucket), Prefix: aws.String(testKey(t, "deep"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(v1.Contents) != 1 || v1.Contents[0].StorageClass != types.ObjectStorageClassDeepArchive {
		t.Errorf("ListObjects: %+v, want one DEEP_ARCHIVE object", v1.Contents)
	}
}

func TestOverwriteTakesTheNewClass(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	k := testKey(t, "obj")
	put(t, c, s.Bucket, k, types.StorageClassDeepArchive, []byte("one"))
	put(t, c, s.Bucket, k, "", []byte("two"))
	if got := head(t, c, s.Bucket, k).StorageClass; got != "" {
		t.Fatalf("class after overwrite without a class: %q, want STANDARD (absent)", got)
	}
	body, _, err := get(t.Context(), c, s.Bucket, k, "")
	if err != nil || string(body) != "two" {
		t.Fatalf("get after overwrite: %q, %v", body, err)
	}
}

func TestInvalidStorageClassRejectedBeforeForwarding(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	k := testKey(t, "obj")
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k),
		Body: bytes.NewReader([]byte("x")), StorageClass: "COLD_STORAGE",
	})
	wantAPIError(t, "put", err, "InvalidStorageClass", 400)
	if _, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(k)}); err == nil {
		t.Fatal("the rejected object was stored")
	}
	_, err = c.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k), StorageClass: "deep_archive",
	})
	wantAPIError(t, "create multipart upload", err, "InvalidStorageClass", 400)
}

func TestMultipartUploadGetsItsClassOnCompletion(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	ctx := t.Context()
	k := testKey(t, "big")
	created, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k), StorageClass: types.StorageClassDeepArchive,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Before completion the key does not exist, whatever its upload says.
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(k)}); err == nil {
		t.Fatal("key exists before completion")
	}
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), []byte("tail")}
	var done []types.CompletedPart
	for i, p := range parts {
		n := int32(i + 1)
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(s.Bucket), Key: aws.String(k), UploadId: created.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(p),
		})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(n)})
	}
	completed, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k), UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(completed.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-2") {
		t.Errorf("multipart ETag %s, want the -2 suffix of a two-part upload", etag)
	}
	h := head(t, c, s.Bucket, k)
	if h.StorageClass != types.StorageClassDeepArchive {
		t.Errorf("head: class %q, want DEEP_ARCHIVE", h.StorageClass)
	}
	if aws.ToInt64(h.ContentLength) != 5<<20+4 {
		t.Errorf("head: size %d", aws.ToInt64(h.ContentLength))
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(k)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 || list.Contents[0].StorageClass != types.ObjectStorageClassDeepArchive {
		t.Errorf("list: %+v, want one DEEP_ARCHIVE object", list.Contents)
	}
	_, _, err = get(ctx, c, s.Bucket, k, "")
	wantAPIError(t, "get", err, "InvalidObjectState", 403)

	// The upload's record is gone once it completed, and an aborted
	// upload leaves none either.
	aborted, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k + "-aborted"), StorageClass: types.StorageClassGlacier,
	})
	if err != nil {
		t.Fatal(err)
	}
	uploads := filepath.Join(stateDirOf(s), "uploads")
	if !hasRecord(t, recordFile(uploads, *aborted.UploadId)) {
		t.Fatal("no record for a pending upload")
	}
	if hasRecord(t, recordFile(uploads, *created.UploadId)) {
		t.Error("completed upload still recorded")
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k + "-aborted"), UploadId: aborted.UploadId,
	}); err != nil {
		t.Fatal(err)
	}
	if hasRecord(t, recordFile(uploads, *aborted.UploadId)) {
		t.Error("aborted upload still recorded")
	}
}

func TestMultipartUploadWithoutClassIsStandard(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	ctx := t.Context()
	k := testKey(t, "obj")
	created, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(s.Bucket), Key: aws.String(k)})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k), UploadId: created.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("only part")),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(k), UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: up.ETag, PartNumber: aws.Int32(1)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := head(t, c, s.Bucket, k).StorageClass; got != "" {
		t.Errorf("class %q, want STANDARD (absent)", got)
	}
	if body, _, err := get(ctx, c, s.Bucket, k, ""); err != nil || string(body) != "only part" {
		t.Errorf("get: %q, %v", body, err)
	}
}

// stateDirOf is where s keeps the layer's records.
func stateDirOf(s *Server) string {
	return filepath.Join(s.dir, "deeparchive")
}

func hasRecord(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}
