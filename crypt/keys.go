// Package crypt implements ogive's archive format, version 2: per-object keys derived
// from the master key, storage IDs that carry the sealed file name, and the DARE 2.0 data
// stream with its size arithmetic. docs/FORMAT.md describes every byte.
//
// A Keys value belongs to exactly one object. Reusing one salt for two different plaintexts
// (file contents or names) breaks AES-GCM, so callers draw a fresh salt with NewSalt for
// every object and reuse a salt only to re-encrypt the very same source.
package crypt

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/awnumar/memguard"
	"golang.org/x/crypto/hkdf"
)

// Version is the first byte of every storage ID of this format.
const Version byte = 0x02

// MasterKeySize is the length of the master key in bytes.
const MasterKeySize = 32

const (
	keySize   = 32
	nonceSize = 12

	infoDataKey = "ogive v2 data key"
	infoNameKey = "ogive v2 name key"
	infoNonce   = "ogive v2 stream nonce"
	// The index object of a directory archive (FORMAT.md §7.2).
	infoIndexKey   = "ogive v2 index key"
	infoIndexNonce = "ogive v2 index nonce"

	redacted = "crypt.Keys{**redacted**}"
)

var (
	// ErrAuthentication means that data did not authenticate: it was tampered with,
	// truncated, extended, reordered, or is being opened with the wrong keys.
	ErrAuthentication = errors.New("message authentication failed")
	// ErrNotOgive means that a storage ID was not written by ogive with this master key.
	// An object of another profile cannot be told apart from a foreign object.
	ErrNotOgive = errors.New("not an ogive object of this profile")
	// ErrNameTooLong means that the storage ID of a name would not fit in an object key.
	ErrNameTooLong = errors.New("name too long")
	// ErrBadName means that a name cannot be archived: it is empty, "." or "..", contains
	// "/" or NUL, or is not valid UTF-8.
	ErrBadName = errors.New("invalid name")
	// ErrTooLarge means that a stream would exceed the format's limit of MaxPlainSize bytes.
	ErrTooLarge = errors.New("stream too large for the format")
)

// errDestroyed reports use of Keys after Destroy, a bug in the caller rather than a
// condition to handle, hence unexported.
var errDestroyed = errors.New("keys used after destroy")

// Salt makes the keys of one object unique. It is stored in clear in the storage ID.
type Salt [16]byte

// NewSalt draws a fresh salt from the system's secure random source.
func NewSalt() (Salt, error) {
	var s Salt
	if _, err := rand.Read(s[:]); err != nil {
		return Salt{}, fmt.Errorf("draw salt: %w", err)
	}
	return s, nil
}

// Keys are the secrets of one object: the DARE data key and the name key, locked in
// memory, plus the public stream nonce and salt they were derived with. Keys are safe for
// concurrent use until Destroy.
type Keys struct {
	// secret holds the data key followed by the name key: one locked page per object
	// rather than two, because mlock-able memory is scarce when listing many objects.
	secret *memguard.LockedBuffer
	nonce  [nonceSize]byte
	salt   Salt

	// index marks the keys of an index object (DeriveIndexKeys): they have
	// no name key and seal no name.
	index bool

	// mu guards sealedName, the only name these keys may seal: the name key is used with
	// a fixed nonce, so sealing a second, different name would reuse that nonce.
	mu         sync.Mutex
	sealedName *string
}

// DeriveKeys derives an object's keys from the master key and the object's salt with
// HKDF-SHA256. The master key is only read; the caller keeps it in its enclave.
func DeriveKeys(master []byte, salt Salt) (*Keys, error) {
	return deriveKeys(master, salt, infoDataKey, infoNameKey, infoNonce)
}

// DeriveIndexKeys derives the keys of the index object of the directory
// archive whose salt is salt (FORMAT.md §7.2): a data key and a stream nonce
// of their own, so that the index is a DARE stream like any archive's data
// and is bound to that archive. They seal no name.
func DeriveIndexKeys(master []byte, salt Salt) (*Keys, error) {
	k, err := deriveKeys(master, salt, infoIndexKey, "", infoIndexNonce)
	if err != nil {
		return nil, err
	}
	k.index = true
	return k, nil
}

// deriveKeys derives the data key, the name key (none when nameInfo is
// empty) and the stream nonce under the info strings given.
func deriveKeys(master []byte, salt Salt, dataInfo, nameInfo, nonceInfo string) (*Keys, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("derive keys: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	secret := memguard.NewBuffer(2 * keySize)
	if secret.Size() != 2*keySize {
		return nil, errors.New("derive keys: cannot allocate locked memory")
	}
	// Reading straight into the locked buffer keeps the derived keys out of the Go heap,
	// except for what hkdf keeps internally and the garbage collector reclaims.
	k := &Keys{secret: secret, salt: salt}
	outputs := []struct {
		info string
		dst  []byte
	}{
		{dataInfo, secret.Bytes()[:keySize]},
		{nameInfo, secret.Bytes()[keySize:]},
		{nonceInfo, k.nonce[:]},
	}
	for _, o := range outputs {
		if o.info == "" {
			continue // no name key: its bytes stay zero, and nameKey refuses them
		}
		if _, err := io.ReadFull(hkdf.New(sha256.New, master, salt[:], []byte(o.info)), o.dst); err != nil {
			secret.Destroy()
			return nil, fmt.Errorf("derive %s: %w", o.info, err)
		}
	}
	secret.Freeze()
	// A forgotten Destroy would leak locked memory until memguard runs out of it and
	// panics (a long listing opens one Keys per object); the cleanup is the safety net.
	runtime.AddCleanup(k, func(b *memguard.LockedBuffer) { b.Destroy() }, secret)
	return k, nil
}

// Salt returns the salt the keys were derived with.
func (k *Keys) Salt() Salt { return k.salt }

// Destroy wipes the keys. Keys must not be used afterwards; Destroy may be called twice.
func (k *Keys) Destroy() {
	if k == nil || k.secret == nil {
		return
	}
	k.secret.Destroy()
}

// String never reveals the keys.
func (k *Keys) String() string { return redacted }

// GoString never reveals the keys, for %#v.
func (k *Keys) GoString() string { return redacted }

// Format never reveals the keys, whatever the verb.
func (k *Keys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// dataKey and nameKey return slices of locked memory: callers must keep k alive (with
// runtime.KeepAlive) until they are done with them, or the cleanup could unmap it.
func (k *Keys) dataKey() ([]byte, error) {
	if k == nil || k.secret == nil || !k.secret.IsAlive() {
		return nil, errDestroyed
	}
	return k.secret.Bytes()[:keySize], nil
}

func (k *Keys) nameKey() ([]byte, error) {
	if k == nil || k.secret == nil || !k.secret.IsAlive() {
		return nil, errDestroyed
	}
	if k.index {
		return nil, errors.New("the keys of an index object seal no name")
	}
	return k.secret.Bytes()[keySize:], nil
}
