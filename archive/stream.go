package archive

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// A part of a seekable source is never held in memory: it is encrypted
// twice, as a stream, one package at a time. The first pass (scan) learns
// what must be known before the part is sent: its CRC-32C, which goes
// ahead of the body, the digest that the upload's record keeps, and the
// GCM tag of each of its packages. The second pass (partReader) is the body
// itself, opened once per attempt of the request; it compares each
// package's tag with the first pass's before it lets the package go, so
// that a source changed between the passes stops the part rather than
// sending other plaintext under the same nonces (see crypt.PartDigest for
// why equal tags mean equal plaintext). Memory is one package per part in
// flight, whatever the part's size, up to S3's 5 GiB.

// partSums is what the first pass learns of a part.
type partSums struct {
	size   int64
	crc32c string
	digest [32]byte
	md5    [md5.Size]byte // only when asked for
	tags   []byte         // the 16-byte tag of each package, in order
}

// readAhead is the size of a part's reads from its source.
const readAhead = 256 << 10

// tagLen is the length of a DARE package's GCM tag, its last bytes.
const tagLen = 16

// packages calls fn with each package of part n, as the encryption makes
// it, in order; the slice is reused between calls. It stops when ctx is
// done: a part may be GiBs.
func (p *partPlan) packages(ctx context.Context, n int32, fn func(pkg []byte) error) error {
	r, err := p.open(n, p.src.Scanned)
	if err != nil {
		return err
	}
	buf := make([]byte, crypt.MaxPackageLen)
	for left := p.length(n); left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		size := min(int64(crypt.MaxPackageLen), left)
		if _, err := io.ReadFull(r, buf[:size]); err != nil {
			return fmt.Errorf("read part %d of %s: %w", n, p.src.Name, err)
		}
		if err := fn(buf[:size]); err != nil {
			return err
		}
		left -= size
	}
	return nil
}

// open returns the stream of part n's bytes: its packages encrypted from
// their plaintext, parts being deterministic under a salt (the plaintext
// itself in the benchmark build).
//
// scanned, if not nil, is shown the plaintext read, with its offset.
func (p *partPlan) open(n int32, scanned func(off int64, p []byte)) (io.Reader, error) {
	if BenchmarkPlaintext {
		return io.NewSectionReader(p.src.R, int64(n-1)*p.partSize, p.length(n)), nil
	}
	firstPkg := int64(n-1) * p.partSize / crypt.MaxPackageLen
	off := firstPkg * crypt.PackageSize
	// Only the part's own plaintext is read: the terminator the encryption
	// adds after it tells it that the part's last package is not the
	// stream's last, as the next part's first byte would (the bytes of a
	// package depend on whether it is final, not on what follows).
	// TestPartsAreTheStream holds this to the one-stream ciphertext. Read
	// ahead in large reads: the encryption asks for one package at a time,
	// 64 KiB, a system call each.
	end := p.src.Size
	if n < int32(p.count()) {
		end = off + p.length(n)/crypt.MaxPackageLen*crypt.PackageSize
	}
	var src io.Reader = io.NewSectionReader(p.src.R, off, end-off)
	if scanned != nil {
		src = &showing{r: src, off: off, fn: scanned}
	}
	plain := bufio.NewReaderSize(src, readAhead)
	return p.keys.EncryptReader(plain, uint64(firstPkg))
}

// showing shows what it reads, with its offset in the source.
type showing struct {
	r   io.Reader
	off int64
	fn  func(off int64, p []byte)
}

func (s *showing) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.fn(s.off, p[:n])
		s.off += int64(n)
	}
	return n, err
}

// scan is the first pass over part n. withMD5 adds the MD5 that S3's ETag
// of the part is, which only a resumed upload needs.
func (p *partPlan) scan(ctx context.Context, n int32, withMD5 bool) (partSums, error) {
	crc := object.NewCRC32C()
	digest := sha256.New()
	var sum hash.Hash
	if withMD5 {
		sum = md5.New()
	}
	s := partSums{size: p.length(n), tags: make([]byte, 0, (p.length(n)+crypt.MaxPackageLen-1)/crypt.MaxPackageLen*tagLen)}
	err := p.packages(ctx, n, func(pkg []byte) error {
		if len(pkg) <= tagLen {
			return fmt.Errorf("part %d of %s: %w", n, p.src.Name, crypt.ErrAuthentication)
		}
		crc.Write(pkg)
		if sum != nil {
			sum.Write(pkg)
		}
		tag := pkg[len(pkg)-tagLen:]
		digest.Write(tag)
		s.tags = append(s.tags, tag...)
		return nil
	})
	if err != nil {
		return partSums{}, err
	}
	s.crc32c = object.CRC32CString(crc.Sum32())
	digest.Sum(s.digest[:0])
	if sum != nil {
		sum.Sum(s.md5[:0])
	}
	return s, nil
}

// body is part n as UploadPart sends it, checked against its first pass.
func (p *partPlan) body(n int32, s partSums) object.PartBody {
	return object.PartBody{
		Size:   s.size,
		CRC32C: s.crc32c,
		Open: func() (io.Reader, error) {
			r, err := p.open(n, nil)
			if err != nil {
				return nil, err
			}
			return &partReader{plan: p, n: n, r: r, left: s.size, tags: s.tags}, nil
		},
	}
}

// partReader is the second pass over a part: its packages, each given out
// only once its tag is the one the first pass saw.
type partReader struct {
	plan *partPlan
	n    int32
	r    io.Reader
	left int64  // bytes of the part not yet read from r
	tags []byte // tags of the packages not yet read
	pkg  []byte // the package being given out
	out  []byte // what is left of it
}

func (r *partReader) Read(b []byte) (int, error) {
	if len(r.out) == 0 {
		if r.left == 0 {
			return 0, io.EOF
		}
		if r.pkg == nil {
			r.pkg = make([]byte, crypt.MaxPackageLen)
		}
		size := min(int64(crypt.MaxPackageLen), r.left)
		pkg := r.pkg[:size]
		if _, err := io.ReadFull(r.r, pkg); err != nil {
			return 0, fmt.Errorf("read part %d of %s: %w", r.n, r.plan.src.Name, err)
		}
		if len(r.tags) < tagLen || len(pkg) <= tagLen || !bytes.Equal(pkg[len(pkg)-tagLen:], r.tags[:tagLen]) {
			return 0, fmt.Errorf("part %d of %s: %w", r.n, r.plan.src.Name, ErrSourceChanged)
		}
		r.tags = r.tags[tagLen:]
		r.left -= size
		r.out = pkg
	}
	n := copy(b, r.out)
	r.out = r.out[n:]
	return n, nil
}
