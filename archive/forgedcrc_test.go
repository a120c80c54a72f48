package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/internal/crcforge"
	"github.com/ogive-project/ogive/object"
)

// forgeCRC32C returns size bytes of junk whose CRC-32C is want, base64 of the
// big-endian value as S3 reports it.
func forgeCRC32C(t *testing.T, size int, want string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(want)
	if err != nil || len(raw) != 4 {
		t.Fatalf("bad CRC %q", want)
	}
	b := make([]byte, size)
	rand.Read(b)
	crcforge.Forge(b, binary.BigEndian.Uint32(raw))
	if got := object.ChecksumCRC32C(b); got != want {
		t.Fatalf("forged CRC %s, want %s", got, want)
	}
	return b
}

// TestPartWithForgedCRCIsSentAgain: someone with write access to the bucket
// replaces part 2 of an interrupted upload with junk of the same size and
// CRC-32C, both of which ListParts tells. The resume must not keep it: the
// part's ETag, S3's MD5 of what it received, differs from the part encrypted
// again, so the part is sent again and the archive is the file's.
func TestPartWithForgedCRCIsSentAgain(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	rec := r.interrupted(mem, 3) // parts 1 and 2 are in S3
	parts, err := mem.ListParts(context.Background(), rec.ID, rec.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.Number == 2 {
			if _, err := mem.UploadPart(context.Background(), rec.ID, rec.UploadID, 2, object.BytesPart(forgeCRC32C(t, int(p.Size), p.ChecksumCRC32C))); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := r.putStandard(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != rec.ID || res.ResumedFrom != 1 {
		t.Errorf("resumed %d parts of %s, want part 1 of %s", res.ResumedFrom, res.ID, rec.ID)
	}
	_, keys, err := crypt.OpenID(r.master, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	var out bytes.Buffer
	if _, err := keys.Decrypt(&out, bytes.NewReader(body(t, mem, res.ID))); err != nil || !bytes.Equal(out.Bytes(), r.data) {
		t.Fatalf("the archive is not the file: %v", err)
	}
}

// TestVerifySeesPartsWithForgedCRCs: someone with write access to the bucket
// replaces an archive with an object of the same parts, each junk of the
// same size and CRC-32C. verify compares the CRC-32Cs, which match, and the
// object's ETag, which cannot be made to: a mismatch.
func TestVerifySeesPartsWithForgedCRCs(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	res, err := r.putStandard(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sums, err := mem.PartChecksums(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.Delete(ctx, res.ID); err != nil {
		t.Fatal(err)
	}
	id, err := mem.CreateUpload(ctx, res.ID, object.PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		t.Fatal(err)
	}
	var forged []object.Part
	for _, s := range sums {
		var crc [4]byte
		binary.BigEndian.PutUint32(crc[:], s.CRC32C)
		p, err := mem.UploadPart(ctx, res.ID, id, s.Number, object.BytesPart(forgeCRC32C(t, int(s.Size), base64.StdEncoding.EncodeToString(crc[:]))))
		if err != nil {
			t.Fatal(err)
		}
		forged = append(forged, p)
	}
	if err := mem.CompleteUpload(ctx, res.ID, id, forged); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	name, keys, err := crypt.OpenID(r.master, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	_, err = Verify(ctx, mem, &Archive{ID: res.ID, Name: name}, keys, f, int64(len(r.data)), VerifyOptions{})
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify of an archive replaced by parts of forged CRCs: %v, want ErrMismatch", err)
	}
}
