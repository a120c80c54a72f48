package crypt

// This file reads objects archived by the original ogive (2019), described in
// docs/FORMAT.md §3. ogive never writes them: their per-object key comes from a nonce in
// the object's metadata, their name is sealed under the master key itself, and their
// stream carries no terminator, so an emptied object passes for an empty file.

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/awnumar/memguard"
	"github.com/minio/sio"

	"github.com/ogive-project/ogive/internal/kdf"
)

// LegacyNonceSize is the length of the per-object nonce of a 2019 object, which its
// metadata carries hex-encoded.
const LegacyNonceSize = 32

// The 2019 format fixes its Argon2i work factors; nothing in an object states them.
const (
	legacyTime      = 3
	legacyMemoryKiB = 32 * 1024
	legacyThreads   = 4

	// minLegacyIDLen is the length of a GCM tag and a one-byte name in unpadded base64.
	minLegacyIDLen = ((idTagLen+1)*8 + 5) / 6

	legacyRedacted = "crypt.LegacyKeys{**redacted**}"
)

// legacyIDEncoding is strict so that an ID has one spelling, as in the v2 format.
var legacyIDEncoding = base64.RawStdEncoding.Strict()

// legacyToBase64 undoes the substitutions that made base64 safe in an object key.
var legacyToBase64 = strings.NewReplacer(".", "/", "-", "+")

// Decrypter decrypts the stream of one object, whatever its format: *Keys for objects
// of this version, *LegacyKeys for 2019 objects. Downloads take either.
type Decrypter interface {
	// Decrypt authenticates and decrypts a whole stream, as (*Keys).Decrypt.
	Decrypt(dst io.Writer, src io.Reader) (int64, error)
	// DecryptPackages decrypts a run of whole packages, as (*Keys).DecryptPackages.
	DecryptPackages(dst io.Writer, src io.Reader, firstPackage uint64, final bool) (int64, error)
	// PlainSize returns the size of the file held in a stream of cipherSize bytes, or
	// ErrAuthentication for a length no stream of the format can have.
	PlainSize(cipherSize int64) (int64, error)
	// RangeMAC derives the key that proves the ranges of a download already on disk.
	RangeMAC() (*RangeMAC, error)
	// Destroy wipes the keys.
	Destroy()
}

var (
	_ Decrypter = (*Keys)(nil)
	_ Decrypter = (*LegacyKeys)(nil)
)

// NoncePinner is implemented by the keys of formats whose stream nonce is stored only in
// the data (2019 archives): before decrypting ranges in parallel, the caller pins it from
// package 0's header (see (*LegacyKeys).PinStreamNonce).
type NoncePinner interface {
	PinStreamNonce(header []byte) error
}

var _ NoncePinner = (*LegacyKeys)(nil)

// ParseLegacyNonce decodes the nonce metadata of a 2019 object.
func ParseLegacyNonce(hexString string) ([]byte, error) {
	// Checking the length first keeps a huge header from being decoded.
	if len(hexString) != 2*LegacyNonceSize {
		return nil, fmt.Errorf("%w: legacy nonce is %d hex digits, want %d", ErrNotOgive, len(hexString), 2*LegacyNonceSize)
	}
	nonce, err := hex.DecodeString(hexString)
	if err != nil {
		return nil, fmt.Errorf("%w: legacy nonce is not hex: %w", ErrNotOgive, err)
	}
	return nonce, nil
}

// LooksLegacyID reports whether id could be the storage ID of a 2019 object, without
// any cryptography, so that a listing fetches the metadata of those keys only. Many v2
// IDs look like legacy IDs too; only OpenLegacyID tells them apart.
func LooksLegacyID(id string) bool {
	if len(id) < minLegacyIDLen || len(id) > MaxIDLen || len(id)%4 == 1 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// OpenLegacyID authenticates the storage ID of a 2019 object with the master key and the
// object's nonce, and returns the file name it seals. Anything that is not such an ID
// gives ErrNotOgive.
func OpenLegacyID(master []byte, id string, nonce []byte) (name string, err error) {
	if len(master) != MasterKeySize {
		return "", fmt.Errorf("open legacy id: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	if len(nonce) != LegacyNonceSize {
		return "", fmt.Errorf("%w: legacy nonce is %d bytes, want %d", ErrNotOgive, len(nonce), LegacyNonceSize)
	}
	if !LooksLegacyID(id) {
		return "", fmt.Errorf("%w: not a legacy id", ErrNotOgive)
	}
	raw, err := legacyIDEncoding.DecodeString(legacyToBase64.Replace(id))
	if err != nil {
		return "", fmt.Errorf("%w: legacy id is not base64: %w", ErrNotOgive, err)
	}
	// The 2019 format seals names under the master key itself, with the object's nonce
	// as a 32-byte GCM nonce, which GCM hashes into its counter block.
	block, err := aes.NewCipher(master)
	if err != nil {
		return "", fmt.Errorf("open legacy id: %w", err)
	}
	aead, err := cipher.NewGCMWithNonceSize(block, LegacyNonceSize)
	if err != nil {
		return "", fmt.Errorf("open legacy id: %w", err)
	}
	plain, err := aead.Open(nil, nonce, raw, nil)
	if err != nil {
		return "", fmt.Errorf("%w: legacy id does not authenticate", ErrNotOgive)
	}
	name = string(plain)
	// Only a holder of the master key could have sealed it; refuse what no file is called.
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotOgive, err)
	}
	return name, nil
}

// LegacyKeys hold the data key of one 2019 object in locked memory. They are safe for
// concurrent use until Destroy.
type LegacyKeys struct {
	key *memguard.LockedBuffer

	// nonce is the stream nonce, pinned from package 0's header (PinStreamNonce): a 2019
	// stream's nonce is random and stored only in its headers.
	mu     sync.Mutex
	nonce  [nonceSize]byte
	pinned bool
}

// DeriveLegacyKeys derives the data key of a 2019 object with Argon2i from the master key
// and the object's nonce. It costs 32 MiB and a few tenths of a second: derive it only
// for objects that are downloaded. The master key is only read.
func DeriveLegacyKeys(master, nonce []byte) (*LegacyKeys, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("derive legacy keys: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	if len(nonce) != LegacyNonceSize {
		return nil, fmt.Errorf("derive legacy keys: %w: nonce is %d bytes, want %d", ErrNotOgive, len(nonce), LegacyNonceSize)
	}
	// NewBufferFromBytes wipes the heap copy that argon2 returns.
	key := memguard.NewBufferFromBytes(kdf.Key(master, nonce, legacyTime, legacyMemoryKiB, legacyThreads, keySize))
	if key.Size() != keySize {
		return nil, errors.New("derive legacy keys: cannot allocate locked memory")
	}
	key.Freeze()
	k := &LegacyKeys{key: key}
	// The same safety net as for Keys: a forgotten Destroy must not exhaust locked memory.
	runtime.AddCleanup(k, func(b *memguard.LockedBuffer) { b.Destroy() }, key)
	return k, nil
}

// Destroy wipes the keys. They must not be used afterwards; Destroy may be called twice.
func (k *LegacyKeys) Destroy() {
	if k == nil || k.key == nil {
		return
	}
	k.key.Destroy()
}

// String never reveals the keys.
func (k *LegacyKeys) String() string { return legacyRedacted }

// GoString never reveals the keys, for %#v.
func (k *LegacyKeys) GoString() string { return legacyRedacted }

// Format never reveals the keys, whatever the verb.
func (k *LegacyKeys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, legacyRedacted) }

// Decrypt authenticates and decrypts a whole 2019 stream from src into dst and returns the
// number of bytes written. An empty stream is an empty file. On error dst may have
// received a prefix of the file, which the caller must discard.
func (k *LegacyKeys) Decrypt(dst io.Writer, src io.Reader) (int64, error) {
	return k.DecryptPackages(dst, src, 0, true)
}

// PinStreamNonce fixes the stream nonce of the object from header, the first HeaderSize
// bytes of its package 0. Every package decrypted afterwards must carry that nonce, so
// that a range cannot be relabelled to authenticate at another position. A run that
// starts at package 0 pins itself; any other run needs the pin first. Pinning a
// different nonce later fails with ErrAuthentication: the object changed between reads.
func (k *LegacyKeys) PinStreamNonce(header []byte) error {
	if len(header) < HeaderSize {
		return fmt.Errorf("pin stream nonce: %w: header of %d bytes", ErrAuthentication, len(header))
	}
	var n [nonceSize]byte
	copy(n[:], header[headerNonceOffset:HeaderSize])
	n[0] &^= finalFlag
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pinned && n != k.nonce {
		return fmt.Errorf("pin stream nonce: %w: package 0 changed between reads", ErrAuthentication)
	}
	k.nonce, k.pinned = n, true
	return nil
}

// DecryptPackages authenticates and decrypts a run of whole packages of a 2019 stream,
// with the same contract as (*Keys).DecryptPackages; packages are framed alike. Their
// stream nonce is the pinned one (PinStreamNonce); a run from package 0 without a pin
// takes it from its own first header.
func (k *LegacyKeys) DecryptPackages(dst io.Writer, src io.Reader, firstPackage uint64, final bool) (int64, error) {
	if firstPackage >= maxPackages {
		return 0, fmt.Errorf("decrypt from package %d: %w", firstPackage, ErrTooLarge)
	}
	opener, err := k.newPackageOpener(firstPackage)
	if err != nil {
		return 0, err
	}
	return opener.decryptRun(dst, src, final)
}

func (k *LegacyKeys) newPackageOpener(first uint64) (*packageOpener, error) {
	defer runtime.KeepAlive(k)
	if k == nil || k.key == nil || !k.key.IsAlive() {
		return nil, fmt.Errorf("decrypt: %w", errDestroyed)
	}
	var nonce *[nonceSize]byte
	k.mu.Lock()
	if k.pinned {
		pinned := k.nonce
		nonce = &pinned
	}
	k.mu.Unlock()
	return newOpener(sio.Config{
		MinVersion:     sio.Version20,
		MaxVersion:     sio.Version20,
		CipherSuites:   []byte{sio.AES_256_GCM},
		Key:            k.key.Bytes(),
		SequenceNumber: uint32(first),
	}, false, nonce)
}

// PlainSize returns the size of the file held in a 2019 stream of cipherSize bytes. Such a
// stream has no terminator: 0 bytes is the empty file.
func (k *LegacyKeys) PlainSize(cipherSize int64) (int64, error) {
	return LegacyPlainSize(cipherSize)
}

// LegacyPlainSize is the plaintext size of a 2019 object of cipherSize bytes;
// it needs no key, so listings can show it without deriving one.
func LegacyPlainSize(cipherSize int64) (int64, error) {
	if cipherSize < 0 {
		return 0, fmt.Errorf("stream of %d bytes: %w: impossible length", cipherSize, ErrAuthentication)
	}
	plain, err := sio.DecryptedSize(uint64(cipherSize))
	if err != nil {
		return 0, fmt.Errorf("stream of %d bytes: %w: %w", cipherSize, ErrAuthentication, err)
	}
	return int64(plain), nil
}
