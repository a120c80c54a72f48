package archive

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

var (
	// ErrMismatch means the local file is not what the archive holds.
	ErrMismatch = errors.New("the file does not match the archive")
	// ErrLegacyVerify means the archive was written by the 2019 ogive,
	// whose streams use a random nonce that only the stored data holds, so
	// the upload cannot be re-created from the file.
	ErrLegacyVerify = errors.New("2019 archives cannot be verified without a download")
)

// Verified is what a successful Verify checked.
type Verified struct {
	Size  int64 // plaintext bytes
	Parts int   // parts of the object, each compared by its CRC-32C
	// ByETag is true when the object's ETag, S3's MD5 of the parts it
	// received, matched too. It is false only where S3's ETags are not MD5s
	// (the HEAD says SSE-KMS or SSE-C): the CRC-32Cs alone catch accidents,
	// not someone who replaced the object with other bytes of the same
	// checksums.
	ByETag bool
}

// VerifyOptions tune one Verify.
type VerifyOptions struct {
	// OnBytes, if set, is called with the number of bytes of the file
	// read, as they are read.
	OnBytes func(int64)
}

// verifyBufferSize is the stretch of ciphertext checksummed at a time.
const verifyBufferSize = 256 << 10

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Verify tells whether src is the file archived as a, without downloading
// anything. It encrypts src again with keys, the archive's (Archive.Keys),
// from package 0:
// with the archive's salt the stream is a pure function of the file (see
// docs/FORMAT.md, §1.3), so the file that was uploaded gives back the very
// bytes that were uploaded. It cuts that stream at the sizes of the
// object's parts and compares each part's CRC-32C with the one S3 stored
// when the part was uploaded, and the object's ETag, which S3 computed from
// the MD5s of the parts: anyone can make other bytes match a CRC-32C, not an
// MD5. size is src's length, or -1 for a stream.
//
// A file that differs gives ErrMismatch, naming the first part that differs
// and the bytes of the file it covers.
func Verify(ctx context.Context, s object.PartChecksummer, a *Archive, keys crypt.Decrypter, src io.Reader, size int64, o VerifyOptions) (Verified, error) {
	k, ok := keys.(*crypt.Keys)
	if a.Legacy || !ok {
		return Verified{}, fmt.Errorf("verify %s: %w", a.ID, ErrLegacyVerify)
	}
	parts, err := s.PartChecksums(ctx, a.ID)
	if err != nil {
		return Verified{}, fmt.Errorf("verify %s: %w", a.ID, err)
	}
	var cipherSize int64
	for _, p := range parts {
		cipherSize += p.Size
	}
	plainSize, err := crypt.DecryptedSize(cipherSize)
	if err != nil {
		return Verified{}, fmt.Errorf("verify %s: the archive is damaged: %w", a.ID, err)
	}
	if size >= 0 && size != plainSize {
		return Verified{}, fmt.Errorf("verify %s: %w: the file has %d bytes, the archive %d", a.ID, ErrMismatch, size, plainSize)
	}
	info, err := s.Head(ctx, a.ID)
	if err != nil {
		return Verified{}, fmt.Errorf("verify %s: %w", a.ID, err)
	}

	if o.OnBytes != nil {
		src = &reportingReader{r: src, report: o.OnBytes}
	}
	counted := &countingReader{r: src, want: size, declared: -1}
	stream, err := k.EncryptReader(counted, 0)
	if err != nil {
		return Verified{}, fmt.Errorf("verify %s: %w", a.ID, err)
	}

	buf := make([]byte, verifyBufferSize)
	var offset int64
	md5s := make([][md5.Size]byte, 0, len(parts))
	for _, p := range parts {
		sum, md, n, err := checksumPart(ctx, stream, p.Size, buf)
		if errors.Is(err, io.EOF) {
			// The file ended before the archive: counted tells how far.
			return Verified{}, fmt.Errorf("verify %s: %w: the file has %d bytes, the archive %d", a.ID, ErrMismatch, counted.n, plainSize)
		}
		if err != nil {
			return Verified{}, fmt.Errorf("verify %s: %w", a.ID, err)
		}
		if sum != p.CRC32C {
			return Verified{}, fmt.Errorf("verify %s: %w: part %d of %d (%s) differs",
				a.ID, ErrMismatch, p.Number, len(parts), plainRange(offset, offset+n, plainSize))
		}
		md5s = append(md5s, md)
		offset += n
	}
	// The archive is complete; the stream must be too.
	if n, err := stream.Read(buf[:1]); n > 0 || !errors.Is(err, io.EOF) {
		if err != nil && !errors.Is(err, io.EOF) {
			return Verified{}, fmt.Errorf("verify %s: %w", a.ID, err)
		}
		return Verified{}, fmt.Errorf("verify %s: %w: the file is longer than the archive's %d bytes", a.ID, ErrMismatch, plainSize)
	}
	same, byETag := object.MatchETag(info.ETag, md5s)
	byETag = byETag && info.ETagIsMD5()
	if byETag && !same {
		return Verified{}, fmt.Errorf("verify %s: %w: every part's CRC-32C matches, but the object's ETag (S3's MD5 of its parts) is not that of this file's encryption: the archive's bytes were replaced", a.ID, ErrMismatch)
	}
	return Verified{Size: plainSize, Parts: len(parts), ByETag: byETag}, nil
}

// reportingReader tells how much of the file was read.
type reportingReader struct {
	r      io.Reader
	report func(int64)
}

func (r *reportingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.report(int64(n))
	}
	return n, err
}

// checksumPart reads exactly size bytes of r and returns their CRC-32C and
// MD5. A stream that ends first gives io.EOF.
func checksumPart(ctx context.Context, r io.Reader, size int64, buf []byte) (uint32, [md5.Size]byte, int64, error) {
	var sum uint32
	var md [md5.Size]byte
	h := md5.New()
	var n int64
	for n < size {
		if err := ctx.Err(); err != nil {
			return 0, md, n, err
		}
		chunk := buf[:min(int64(len(buf)), size-n)]
		got, err := io.ReadFull(r, chunk)
		sum = crc32.Update(sum, castagnoli, chunk[:got])
		h.Write(chunk[:got])
		n += int64(got)
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return 0, md, n, io.EOF
		case err != nil:
			return 0, md, n, err
		}
	}
	h.Sum(md[:0])
	return sum, md, n, nil
}

// plainRange names the bytes of the file that the packages in a range of
// ciphertext carry. Parts of ogive uploads hold whole packages, so for them
// the range is exact.
func plainRange(from, to, plainSize int64) string {
	first := from / crypt.MaxPackageLen * crypt.PackageSize
	end := min((to+crypt.MaxPackageLen-1)/crypt.MaxPackageLen*crypt.PackageSize, plainSize)
	if end <= first {
		// Only the final package's terminator: the file ends early or late.
		return "the end of the file"
	}
	return fmt.Sprintf("file bytes %d to %d", first, end-1)
}
