package crypt

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/awnumar/memguard"
	"golang.org/x/crypto/hkdf"
)

// infoRecordMAC is the HKDF info string of the key that authenticates upload resume
// records (docs/FORMAT.md §6).
const infoRecordMAC = "ogive v2 upload record mac"

// RecordMACSize is the length of a record MAC.
const RecordMACSize = sha256.Size

const recordKeyRedacted = "crypt.RecordKey{**redacted**}"

// RecordKey authenticates the records of interrupted uploads. A record decides which salt,
// hence which key and nonces, a resumed upload encrypts under; only a holder of the master
// key may write one. The key lives in locked memory until Destroy.
type RecordKey struct {
	secret *memguard.LockedBuffer
}

// DeriveRecordKey derives the record key from the master key: HKDF-SHA256 with the master
// key as input keying material, no salt, and the info "ogive v2 upload record mac". The
// master key is only read.
func DeriveRecordKey(master []byte) (*RecordKey, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("derive record key: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	secret := memguard.NewBuffer(keySize)
	if secret.Size() != keySize {
		return nil, errors.New("derive record key: cannot allocate locked memory")
	}
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte(infoRecordMAC)), secret.Bytes()); err != nil {
		secret.Destroy()
		return nil, fmt.Errorf("derive record key: %w", err)
	}
	secret.Freeze()
	k := &RecordKey{secret: secret}
	runtime.AddCleanup(k, func(b *memguard.LockedBuffer) { b.Destroy() }, secret)
	return k, nil
}

// MAC returns HMAC-SHA256 of msg under the record key. HMAC keeps its padded key in the Go
// heap while it runs, as AES keeps its schedule: the locked buffer protects the key at
// rest, for the length of an upload.
func (k *RecordKey) MAC(msg []byte) ([RecordMACSize]byte, error) {
	var sum [RecordMACSize]byte
	if k == nil || k.secret == nil || !k.secret.IsAlive() {
		return sum, errDestroyed
	}
	h := hmac.New(sha256.New, k.secret.Bytes())
	runtime.KeepAlive(k)
	h.Write(msg)
	h.Sum(sum[:0])
	return sum, nil
}

// Destroy wipes the key; it may be called twice.
func (k *RecordKey) Destroy() {
	if k == nil || k.secret == nil {
		return
	}
	k.secret.Destroy()
}

// String never reveals the key.
func (k *RecordKey) String() string { return recordKeyRedacted }

// GoString never reveals the key, for %#v.
func (k *RecordKey) GoString() string { return recordKeyRedacted }

// Format never reveals the key, whatever the verb.
func (k *RecordKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, recordKeyRedacted) }
