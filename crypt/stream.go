package crypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/minio/sio"
)

const (
	// PackageSize is the plaintext carried by every package but the final one: package k
	// covers plaintext bytes [k·PackageSize, (k+1)·PackageSize).
	PackageSize = 1 << 16
	// PackageOverhead is what each package adds: a 16-byte header and a 16-byte tag.
	PackageOverhead = 32
	// MaxPackageLen is the length of every package but the final one.
	MaxPackageLen = PackageSize + PackageOverhead
	// MaxPlainSize is the largest file the format holds: DARE 2.0 counts at most 2³²
	// packages and the stream carries one terminator byte after the file.
	MaxPlainSize = 1<<48 - 1
	// ContentType is the MIME type of an archived object.
	ContentType = "application/x-ogive"
)

const (
	// terminator follows the file's bytes in every stream, so that an empty file still
	// has one authenticated package and an empty object can never pass for one.
	terminator  byte = 0x01
	maxPackages      = 1 << 32
	// The header nonce is bytes 4 to 16 of a package's header; the final flag is bit 7
	// of its first byte.
	headerNonceOffset      = 4
	finalFlag         byte = 0x80
)

// HeaderSize is the length of a package's header, which holds the stream nonce: a 2019
// stream is pinned to the nonce in the header of its package 0 (see PinStreamNonce).
const HeaderSize = 16

// EncryptedSize returns the length of the stream that encrypts plain bytes, or -1 if plain
// is negative or larger than MaxPlainSize.
func EncryptedSize(plain int64) int64 {
	if plain < 0 || plain > MaxPlainSize {
		return -1
	}
	payload := plain + 1
	size := payload / PackageSize * MaxPackageLen
	if rest := payload % PackageSize; rest > 0 {
		size += rest + PackageOverhead
	}
	return size
}

// DecryptedSize returns the length of the file a stream of cipher bytes holds. A length no
// stream can have, such as 0, gives ErrAuthentication: the object was cut or extended.
func DecryptedSize(cipher int64) (int64, error) {
	if cipher <= 0 || cipher > maxPackages*MaxPackageLen {
		return 0, fmt.Errorf("stream of %d bytes: %w: impossible length", cipher, ErrAuthentication)
	}
	payload := cipher / MaxPackageLen * PackageSize
	if rest := cipher % MaxPackageLen; rest > 0 {
		if rest <= PackageOverhead {
			return 0, fmt.Errorf("stream of %d bytes: %w: impossible length", cipher, ErrAuthentication)
		}
		payload += rest - PackageOverhead
	}
	return payload - 1, nil
}

// PackageCount returns the number of packages of the stream that encrypts plain bytes, or 0
// if plain is negative or larger than MaxPlainSize.
func PackageCount(plain int64) uint64 {
	if plain < 0 || plain > MaxPlainSize {
		return 0
	}
	return uint64(plain/PackageSize) + 1
}

// CipherOffset returns where package pkg starts in the stream, or -1 if pkg is beyond the
// format's 2³² packages.
func CipherOffset(pkg uint64) int64 {
	if pkg > maxPackages {
		return -1
	}
	return int64(pkg) * MaxPackageLen
}

// EncryptReader returns the stream from package firstPackage to the end, reading the
// plaintext from src, which must be positioned at byte firstPackage·PackageSize of the
// file. The output is a function of the keys, firstPackage and the plaintext alone, so a
// part of an upload can be encrypted again from the source, in any order.
func (k *Keys) EncryptReader(src io.Reader, firstPackage uint64) (io.Reader, error) {
	if firstPackage >= maxPackages {
		return nil, fmt.Errorf("encrypt from package %d: %w", firstPackage, ErrTooLarge)
	}
	defer runtime.KeepAlive(k)
	config, err := k.sioConfig(firstPackage)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	plain := &terminatedReader{src: src, left: MaxPlainSize - int64(firstPackage)*PackageSize}
	r, err := sio.EncryptReader(plain, config)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return r, nil
}

// terminatedReader yields src followed by the terminator byte. It refuses to yield more
// than left bytes of src: beyond the format's limit sio's 32-bit package counter would
// wrap around and reuse nonces.
type terminatedReader struct {
	src     io.Reader
	left    int64
	srcDone bool
	done    bool
}

func (r *terminatedReader) Read(p []byte) (int, error) {
	switch {
	case r.done:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	case r.srcDone:
		p[0] = terminator
		r.done = true
		return 1, nil
	}
	// One byte past the limit is enough to tell that src is too large.
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.src.Read(p)
	if int64(n) > r.left {
		return 0, fmt.Errorf("encrypt: plaintext exceeds %d bytes: %w", int64(MaxPlainSize), ErrTooLarge)
	}
	r.left -= int64(n)
	switch {
	case err == io.EOF:
		r.srcDone = true
		if n < len(p) {
			p[n] = terminator
			r.done = true
			n++
		}
		return n, nil
	case err != nil:
		return n, fmt.Errorf("read plaintext: %w", err)
	}
	return n, nil
}

// Decrypt authenticates and decrypts a whole stream from src into dst and returns the
// number of bytes of the file written. Plaintext is written as packages authenticate, so
// on error dst may have received a prefix of the file, which the caller must discard.
func (k *Keys) Decrypt(dst io.Writer, src io.Reader) (int64, error) {
	return k.DecryptPackages(dst, src, 0, true)
}

// DecryptPackages authenticates and decrypts a run of whole packages read from src, the
// first of which is package firstPackage of the stream, and writes the plaintext to dst.
// If final, the run must end with the stream's final package; if not, it must hold only
// complete packages that are not final, as when the stream is fetched in parallel ranges.
// It returns the number of bytes of the file written; on error dst may have received part
// of the run, which the caller must discard.
func (k *Keys) DecryptPackages(dst io.Writer, src io.Reader, firstPackage uint64, final bool) (int64, error) {
	opener, err := k.newPackageOpener(firstPackage)
	if err != nil {
		return 0, err
	}
	return opener.decryptRun(dst, src, final)
}

// PlainSize returns the length of the file held in a stream of cipherSize bytes, like
// DecryptedSize; it lets downloads size a file through Decrypter, whatever its format.
func (k *Keys) PlainSize(cipherSize int64) (int64, error) {
	return DecryptedSize(cipherSize)
}

func stripTerminator(payload []byte) ([]byte, error) {
	// sio never opens an empty package, so payload has at least one byte.
	if payload[len(payload)-1] != terminator {
		return nil, fmt.Errorf("%w: bad terminator 0x%02x", ErrAuthentication, payload[len(payload)-1])
	}
	return payload[:len(payload)-1], nil
}

// packageOpener authenticates and decrypts consecutive packages of one stream, one whole
// package at a time: sio's reader alone cannot tell the clean end of a run of non-final
// packages from a cut stream, but it can open a package it is handed in full.
type packageOpener struct {
	pkg   bytes.Reader
	dec   io.Reader
	first uint64 // index of the first package
	next  uint64 // index of the next package
	final bool   // the final package has been opened
	// nonce is the stream nonce N that every package's header must carry (final flag
	// aside). DARE authenticates header bytes 0–3 only, and sio takes its reference
	// nonce from the first package it reads, so without this check a package whose
	// header nonce was relabelled authenticates at another position. pinned is false
	// only for a 2019 run from package 0 whose nonce was not pinned: that run's first
	// header, which is package 0's, pins it.
	nonce  [nonceSize]byte
	pinned bool
	// terminated streams end with the terminator byte, as every stream of this format
	// does. A stream without it (the 2019 format) holds an empty file as no package at all.
	terminated bool
}

func (k *Keys) newPackageOpener(first uint64) (*packageOpener, error) {
	if first >= maxPackages {
		return nil, fmt.Errorf("decrypt from package %d: %w", first, ErrTooLarge)
	}
	defer runtime.KeepAlive(k)
	config, err := k.sioConfig(first)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return newOpener(config, true, &k.nonce)
}

// newOpener returns an opener for the stream config describes, from package
// config.SequenceNumber, whose headers must carry nonce; a nil nonce is taken from the
// run's first header, which must then be package 0's. The caller keeps config.Key alive
// until it returns: sio expands the key here.
func newOpener(config sio.Config, terminated bool, nonce *[nonceSize]byte) (*packageOpener, error) {
	first := uint64(config.SequenceNumber)
	if nonce == nil && first != 0 {
		return nil, fmt.Errorf("decrypt from package %d: %w", first, errNotPinned)
	}
	o := &packageOpener{first: first, next: first, terminated: terminated}
	if nonce != nil {
		o.nonce, o.pinned = *nonce, true
	}
	var err error
	if o.dec, err = sio.DecryptReader(&o.pkg, config); err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return o, nil
}

// runBuffer is the room decryptRun needs for one package and its plaintext.
type runBuffer struct {
	pkg   [MaxPackageLen]byte
	plain [PackageSize]byte
}

// runBuffers lets runs reuse their buffers: a parallel download decrypts one run per
// range, and fresh buffers for each would make its garbage, and so its memory, grow with
// the size of the file.
var runBuffers = sync.Pool{New: func() any { return new(runBuffer) }}

// decryptRun reads whole packages from src until it ends, as DecryptPackages describes.
func (o *packageOpener) decryptRun(dst io.Writer, src io.Reader, final bool) (int64, error) {
	b := runBuffers.Get().(*runBuffer)
	defer func() {
		clear(b.plain[:])
		runBuffers.Put(b)
		o.release()
	}()
	pkg, plain := b.pkg[:], b.plain[:]
	var written int64
	for {
		n, err := io.ReadFull(src, pkg)
		if err == io.EOF {
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return written, fmt.Errorf("read package %d: %w", o.next, err)
		}
		out, err := o.open(plain, pkg[:n])
		if err != nil {
			return written, err
		}
		if o.final {
			if !final {
				return written, fmt.Errorf("package %d: %w: final package inside a run that should not end the stream", o.next-1, ErrAuthentication)
			}
			if o.terminated {
				if out, err = stripTerminator(out); err != nil {
					return written, fmt.Errorf("package %d: %w", o.next-1, err)
				}
			}
		}
		if len(out) > 0 {
			m, err := dst.Write(out)
			written += int64(m)
			if err != nil {
				return written, fmt.Errorf("write plaintext: %w", err)
			}
		}
	}
	switch {
	case o.next == o.first && !o.terminated && o.first == 0 && final:
		return 0, nil // the empty file of a stream without terminator
	case o.next == o.first:
		return 0, fmt.Errorf("package %d: %w: no data", o.first, ErrAuthentication)
	case final && !o.final:
		return written, fmt.Errorf("package %d: %w: stream ends without its final package", o.next, ErrAuthentication)
	}
	return written, nil
}

// release lets sio take back the package buffer of its reader: sio returns it to its
// pool only when a read finds no more data, which one more read of the drained package
// does. Without it every run would leave 64 KiB of garbage. The opener is unusable after.
func (o *packageOpener) release() {
	o.pkg.Reset(nil)
	var one [1]byte
	_, _ = o.dec.Read(one[:])
	o.dec = errorReader{}
}

// errorReader is the reader of a released opener.
type errorReader struct{}

func (errorReader) Read([]byte) (int, error) { return 0, errReleased }

var errReleased = errors.New("package opener used after release")

// open authenticates pkg, the complete ciphertext of the next package, and decrypts it
// into plain, which must have room for PackageSize bytes.
func (o *packageOpener) open(plain, pkg []byte) ([]byte, error) {
	switch {
	case o.final:
		return nil, fmt.Errorf("package %d: %w: data after the final package", o.next, ErrAuthentication)
	case o.next >= maxPackages:
		return nil, fmt.Errorf("package %d: %w: stream longer than the format allows", o.next, ErrAuthentication)
	case len(pkg) <= PackageOverhead || len(pkg) > MaxPackageLen:
		return nil, fmt.Errorf("package %d: %w: impossible length %d", o.next, ErrAuthentication, len(pkg))
	}
	if err := o.checkNonce(pkg[headerNonceOffset:HeaderSize]); err != nil {
		return nil, err
	}
	o.pkg.Reset(pkg)
	out := plain[:len(pkg)-PackageOverhead]
	// Reading exactly one payload keeps sio from looking past the package.
	if _, err := io.ReadFull(o.dec, out); err != nil {
		return nil, fmt.Errorf("package %d: %w: %w", o.next, ErrAuthentication, err)
	}
	// The flag is part of the AEAD nonce, so it is authentic once the package opened.
	o.final = pkg[headerNonceOffset]&finalFlag != 0
	o.next++
	return out, nil
}

// checkNonce requires a package's header nonce to be the stream nonce, its final flag
// aside. The AEAD nonce of package k is the header nonce XOR k; were the header nonce
// free, XORing i⊕j into package i's would make it authenticate at position j.
func (o *packageOpener) checkNonce(h []byte) error {
	if !o.pinned {
		copy(o.nonce[:], h)
		o.pinned = true
	}
	if h[0]&^finalFlag != o.nonce[0]&^finalFlag || !bytes.Equal(h[1:], o.nonce[1:]) {
		return fmt.Errorf("package %d: %w: its header nonce is not the stream's (the package was damaged, or moved and relabelled)", o.next, ErrAuthentication)
	}
	return nil
}

// errNotPinned means a 2019 stream was read from a package other than 0 before its
// nonce was pinned: a bug in the caller, which must call PinStreamNonce first.
var errNotPinned = errors.New("2019 stream nonce not pinned: read package 0's header first")

// sioConfig returns the DARE 2.0 parameters of the stream starting at package first. Its
// key is locked memory: keep k alive until sio has expanded it.
func (k *Keys) sioConfig(first uint64) (sio.Config, error) {
	key, err := k.dataKey()
	if err != nil {
		return sio.Config{}, err
	}
	nonce := k.nonce
	return sio.Config{
		MinVersion:     sio.Version20,
		MaxVersion:     sio.Version20,
		CipherSuites:   []byte{sio.AES_256_GCM},
		Key:            key,
		Nonce:          &nonce,
		SequenceNumber: uint32(first),
	}, nil
}
