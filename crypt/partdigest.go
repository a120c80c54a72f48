package crypt

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/minio/sio"
)

const (
	headerLen = 16
	tagLen    = 16
)

// PartDigest returns the digest that an upload record keeps of one part of an upload: the
// SHA-256 of the concatenated 16-byte GCM tags of the part's DARE packages, in order.
// ciphertext must be whole packages as EncryptReader makes them, every one full but the
// last, which may be short (the stream's final package); anything else is an error.
//
// The digest commits to the part's plaintext, though it reads 16 bytes of every 65,568.
// It is only ever compared between two encryptions under the same object keys and the
// same package indexes, hence the same GCM key K and the same nonce per package. There,
// a package's ciphertext is its plaintext XOR a keystream that depends on K and the nonce
// only, so two different plaintexts of a package give two different ciphertexts C ≠ C' of
// the same length. Their tags are GHASH_H(A, C) ⊕ E_K(J0) and GHASH_H(A, C') ⊕ E_K(J0),
// with the same associated data A (header bytes 0–3) and the same mask E_K(J0), so they are
// equal only if H = E_K(0¹²⁸) is a root of GHASH_H(A, C) ⊕ GHASH_H(A, C'): a nonzero
// polynomial in H of degree at most 4,097 (a full package is 4,096 blocks), with at most
// 4,097 roots among 2¹²⁸ values. Whoever changes the source does not know H: it comes from
// the data key, and GCM under distinct nonces reveals nothing of it. A changed package thus
// keeps its tag with probability at most 4,097 / 2¹²⁸, whatever the change, and a mismatch
// retires the key for good (the upload restarts under a new salt), so no key is tried
// twice. SHA-256 then binds the tags of the part in their order. The digest is not
// secret: anyone who can read the bucket sees the tags.
//
// Hashing the tags rather than the plaintext costs 16 bytes of SHA-256 per 64 KiB, which
// matters on CPUs without SHA instructions, where SHA-256 of the data would be a large
// share of a put's time.
func PartDigest(ciphertext []byte) ([32]byte, error) {
	var sum [32]byte
	if len(ciphertext) == 0 {
		return sum, fmt.Errorf("part digest: %w: no package", ErrAuthentication)
	}
	h := sha256.New()
	for off := 0; off < len(ciphertext); off += MaxPackageLen {
		pkg := ciphertext[off:min(off+MaxPackageLen, len(ciphertext))]
		if len(pkg) <= PackageOverhead {
			return sum, fmt.Errorf("part digest: %w: %d bytes at offset %d are not a package", ErrAuthentication, len(pkg), off)
		}
		payload := len(pkg) - PackageOverhead
		if pkg[0] != sio.Version20 || int(binary.LittleEndian.Uint16(pkg[2:4]))+1 != payload {
			return sum, fmt.Errorf("part digest: %w: no package header at offset %d", ErrAuthentication, off)
		}
		h.Write(pkg[headerLen+payload:])
	}
	h.Sum(sum[:0])
	return sum, nil
}
