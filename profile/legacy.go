package profile

// This file reads profiles written by the original ogive (2019), described in
// docs/FORMAT.md §3. ogive never writes them: a profile opened from one is saved in the
// current format, with LegacyArchives set so that its 2019 archives stay readable.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"unicode/utf8"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/internal/kdf"
)

const (
	legacyMagic    = "OGPROF"
	legacyVersion  = 1
	legacySaltSize = 32

	// The 2019 format fixes its Argon2i work factors; the file does not state them.
	legacyTime      = 3
	legacyMemoryKiB = 32 * 1024
	legacyThreads   = 4
	legacyKeySize   = 32

	legacyNonceSize = 12 // AES-GCM's standard nonce
	legacyTagSize   = 16
	legacyFields    = 6 // master key, AWS key ID, AWS secret, bucket, endpoint, region
	legacyLengths   = 4 * legacyFields
)

// legacyFile is the gob value of a 2019 profile. gob matches fields by name, so the
// names are those of the original's type and must not change.
type legacyFile struct {
	Magic   string
	Version uint32
	Salt    []byte
	Inner   []byte // AES-GCM nonce, then the sealed payload
}

// parseLegacy decodes the gob value and checks everything that can be checked without the
// password.
func parseLegacy(data []byte) (*legacyFile, error) {
	// gob allocates no more than the input holds; bounding the input bounds it all.
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, maxFileSize)
	}
	r := bytes.NewReader(data)
	var f legacyFile
	if err := gob.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: not an ogive profile", ErrCorrupt)
	}
	switch {
	case f.Magic != legacyMagic:
		return nil, fmt.Errorf("%w: not an ogive profile", ErrCorrupt)
	case f.Version != legacyVersion:
		return nil, fmt.Errorf("%w: 2019 profile format version %d", ErrUnsupported, f.Version)
	case r.Len() > 0:
		return nil, fmt.Errorf("%w: %d bytes after the 2019 profile", ErrCorrupt, r.Len())
	case len(f.Salt) != legacySaltSize:
		return nil, fmt.Errorf("%w: 2019 profile salt is %d bytes, want %d", ErrCorrupt, len(f.Salt), legacySaltSize)
	case len(f.Inner) < legacyNonceSize+legacyLengths+legacyTagSize:
		return nil, fmt.Errorf("%w: 2019 profile payload too short", ErrCorrupt)
	}
	return &f, nil
}

// openLegacy decrypts a 2019 profile.
func openLegacy(data, password []byte) (*Profile, error) {
	f, err := parseLegacy(data)
	if err != nil {
		return nil, err
	}
	// kdf.Key is Argon2i, the variant the original used.
	key := kdf.Key(password, f.Salt, legacyTime, legacyMemoryKiB, legacyThreads, legacyKeySize)
	defer clear(key)
	return f.unseal(key)
}

// unseal decrypts the payload with the key derived from the password.
func (f *legacyFile) unseal(key []byte) (*Profile, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("2019 profile cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("2019 profile cipher: %w", err)
	}
	nonce, sealed := f.Inner[:legacyNonceSize], f.Inner[legacyNonceSize:]
	// Decrypt straight into locked memory, as openSealed does.
	n := len(sealed) - legacyTagSize
	plain := memguard.NewBuffer(n)
	defer plain.Destroy()
	// The file has no checksum: a damaged payload cannot be told from a wrong password.
	if _, err := aead.Open(plain.Bytes()[:0:n], nonce, sealed, nil); err != nil {
		return nil, ErrWrongPassword
	}
	return decodeLegacyPayload(plain.Bytes())
}

// decodeLegacyPayload reads six little-endian uint32 lengths, then the six fields. b must
// be mutable: secret values are moved into enclaves, which wipes them in place.
func decodeLegacyPayload(b []byte) (*Profile, error) {
	if len(b) < legacyLengths {
		return nil, fmt.Errorf("%w: 2019 profile payload too short", ErrCorrupt)
	}
	var fields [legacyFields][]byte
	off := uint64(legacyLengths)
	for i := range fields {
		n := uint64(binary.LittleEndian.Uint32(b[4*i:]))
		// Sums of uint32 lengths fit a uint64, so off cannot overflow.
		if n > maxValueSize || off+n > uint64(len(b)) {
			return nil, fmt.Errorf("%w: 2019 profile field %d has bad length %d", ErrCorrupt, i+1, n)
		}
		fields[i] = b[off : off+n]
		off += n
	}
	if off != uint64(len(b)) {
		return nil, fmt.Errorf("%w: %d bytes after the 2019 profile fields", ErrCorrupt, uint64(len(b))-off)
	}
	master, keyID, secret, bucket, endpoint, region := fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]
	switch {
	case len(master) != masterKeySize:
		return nil, fmt.Errorf("%w: master key is %d bytes, want %d", ErrCorrupt, len(master), masterKeySize)
	case len(bucket) == 0:
		return nil, fmt.Errorf("%w: no bucket", ErrCorrupt)
	case (len(keyID) == 0) != (len(secret) == 0):
		return nil, fmt.Errorf("%w: AWS access key ID and secret access key must come together", ErrCorrupt)
	}
	for _, text := range [][]byte{bucket, endpoint, region} {
		if !utf8.Valid(text) {
			return nil, fmt.Errorf("%w: 2019 profile text field is not UTF-8", ErrCorrupt)
		}
	}
	p := &Profile{
		Bucket:         string(bucket),
		Endpoint:       string(endpoint),
		Region:         string(region),
		Legacy:         true,
		LegacyArchives: true,
		MasterKey:      memguard.NewEnclave(master),
	}
	if len(keyID) > 0 {
		p.AccessKeyID = memguard.NewEnclave(keyID)
		p.SecretAccessKey = memguard.NewEnclave(secret)
	}
	return p, nil
}
