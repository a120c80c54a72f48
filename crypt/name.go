package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"
)

// MaxIDLen is the longest storage ID: S3 limits object keys to 1024 bytes.
const MaxIDLen = 1024

const (
	idHeaderLen = 1 + len(Salt{})
	idTagLen    = 16
	// minIDRawLen is a header, a one-byte name and a tag.
	minIDRawLen = idHeaderLen + 1 + idTagLen
)

// idEncoding is strict so that every ID has exactly one spelling: an ID read back from a
// listing re-seals to itself.
var idEncoding = base64.RawURLEncoding.Strict()

// SealName returns the storage ID of name: the version, the salt and the name sealed with
// the name key. maxLen is the room left for the ID in the object key, MaxIDLen minus the
// length of any key prefix; an ID never exceeds MaxIDLen whatever maxLen says. With the
// full MaxIDLen, names of up to 735 bytes fit.
//
// The keys may seal only one name, any number of times: the name key is used with a fixed
// nonce, which is safe only while it protects a single plaintext.
func SealName(k *Keys, name string, maxLen int) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	limit := min(maxLen, MaxIDLen)
	rawLen := idHeaderLen + len(name) + idTagLen
	if idEncoding.EncodedLen(rawLen) > limit {
		return "", fmt.Errorf("name %q: %w: %d bytes, at most %d fit", name, ErrNameTooLong, len(name), maxNameLen(limit))
	}
	aead, err := k.nameAEAD()
	if err != nil {
		return "", fmt.Errorf("seal name: %w", err)
	}
	if err := k.claimName(name); err != nil {
		return "", err
	}
	raw := make([]byte, idHeaderLen, rawLen)
	raw[0] = Version
	copy(raw[1:], k.salt[:])
	raw = aead.Seal(raw, make([]byte, aead.NonceSize()), []byte(name), raw[:idHeaderLen])
	return idEncoding.EncodeToString(raw), nil
}

// OpenID authenticates a storage ID with the master key and returns the name it carries
// and the object's keys, which the caller must Destroy. Anything that is not an ID written
// with this master key, including an ID of another profile, gives ErrNotOgive.
func OpenID(master []byte, id string) (name string, k *Keys, err error) {
	raw, err := decodeID(id)
	if err != nil {
		return "", nil, err
	}
	var salt Salt
	copy(salt[:], raw[1:idHeaderLen])
	k, err = DeriveKeys(master, salt)
	if err != nil {
		return "", nil, fmt.Errorf("open id: %w", err)
	}
	aead, err := k.nameAEAD()
	if err != nil {
		k.Destroy()
		return "", nil, fmt.Errorf("open id: %w", err)
	}
	plain, err := aead.Open(nil, make([]byte, aead.NonceSize()), raw[idHeaderLen:], raw[:idHeaderLen])
	if err != nil {
		k.Destroy()
		return "", nil, fmt.Errorf("%w: id does not authenticate", ErrNotOgive)
	}
	name = string(plain)
	if err := checkName(name); err != nil {
		// Only a holder of the master key could have sealed it, but not ogive.
		k.Destroy()
		return "", nil, fmt.Errorf("%w: %w", ErrNotOgive, err)
	}
	if err := k.claimName(name); err != nil {
		k.Destroy()
		return "", nil, err
	}
	return name, k, nil
}

// ParseID checks the layout of a storage ID, without authenticating it, and returns the
// salt it carries.
func ParseID(id string) (Salt, error) {
	raw, err := decodeID(id)
	if err != nil {
		return Salt{}, err
	}
	var salt Salt
	copy(salt[:], raw[1:idHeaderLen])
	return salt, nil
}

func decodeID(id string) ([]byte, error) {
	// Bounding the length first bounds the work spent on foreign keys.
	if len(id) > MaxIDLen {
		return nil, fmt.Errorf("%w: id longer than %d bytes", ErrNotOgive, MaxIDLen)
	}
	raw, err := idEncoding.DecodeString(id)
	if err != nil {
		return nil, fmt.Errorf("%w: id is not base64url: %w", ErrNotOgive, err)
	}
	// The decoder skips line breaks; a second spelling of an ID must not be accepted.
	if idEncoding.EncodedLen(len(raw)) != len(id) {
		return nil, fmt.Errorf("%w: id is not canonical base64url", ErrNotOgive)
	}
	if len(raw) < minIDRawLen {
		return nil, fmt.Errorf("%w: id too short", ErrNotOgive)
	}
	if raw[0] != Version {
		return nil, fmt.Errorf("%w: version 0x%02x", ErrNotOgive, raw[0])
	}
	return raw, nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadName)
	case name == "." || name == "..":
		return fmt.Errorf("name %q: %w: not a file name", name, ErrBadName)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("name %q: %w: contains a slash", name, ErrBadName)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("name %q: %w: contains a NUL byte", name, ErrBadName)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q: %w: not valid UTF-8", name, ErrBadName)
	}
	return nil
}

// maxNameLen is the longest name whose ID fits in limit characters.
func maxNameLen(limit int) int {
	return max(limit*3/4-idHeaderLen-idTagLen, 0)
}

// claimName records the one name these keys may seal, or checks that name is that one.
func (k *Keys) claimName(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sealedName == nil {
		k.sealedName = &name
		return nil
	}
	if *k.sealedName != name {
		return fmt.Errorf("seal name %q: keys already seal another name; use a fresh salt per object", name)
	}
	return nil
}

func (k *Keys) nameAEAD() (cipher.AEAD, error) {
	defer runtime.KeepAlive(k)
	key, err := k.nameKey()
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("name cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
