package crypt

// This file proves the ranges of a download that are already on disk, so that an
// interrupted download resumes only from bytes that this user's ogive wrote after they
// authenticated (docs/FORMAT.md §5). The record of those ranges lives beside the file,
// often in a directory others can write, so it is proved by a MAC under a key derived
// from the object's own keys: a forged record, or forged bytes in the file, fail it.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/awnumar/memguard"
	"golang.org/x/crypto/hkdf"
)

// RangeMACSize is the length of a range tag.
const RangeMACSize = 16

const (
	infoRangeMAC       = "ogive v2 partial download mac"
	infoLegacyRangeMAC = "ogive 2019 partial download mac"

	rangeMACRedacted = "crypt.RangeMAC{**redacted**}"
)

// RangeMAC tags ranges of one object's plaintext: GMAC (AES-256-GCM with no plaintext
// and the range as additional data), under a key of its own derived from the object's
// data key. A download cut into ranges of p packages tags range i under the nonce
// BE32(p) ‖ BE64(i), so each (key, nonce) pair only ever covers one fixed range of one
// fixed plaintext. The key is in locked memory; RangeMAC is safe for concurrent use
// until Destroy.
type RangeMAC struct {
	key *memguard.LockedBuffer
}

// RangeMAC derives the range key of a v2 object: HKDF-SHA256 of the data key, with the
// object's salt and the info string "ogive v2 partial download mac". The caller destroys it.
func (k *Keys) RangeMAC() (*RangeMAC, error) {
	defer runtime.KeepAlive(k)
	data, err := k.dataKey()
	if err != nil {
		return nil, fmt.Errorf("derive range mac key: %w", err)
	}
	return newRangeMAC(data, k.salt[:], infoRangeMAC)
}

// RangeMAC derives the range key of a 2019 object: HKDF-SHA256 of its data key, with no
// salt and the info string "ogive 2019 partial download mac". The caller destroys it.
func (k *LegacyKeys) RangeMAC() (*RangeMAC, error) {
	defer runtime.KeepAlive(k)
	if k == nil || k.key == nil || !k.key.IsAlive() {
		return nil, fmt.Errorf("derive range mac key: %w", errDestroyed)
	}
	return newRangeMAC(k.key.Bytes(), nil, infoLegacyRangeMAC)
}

func newRangeMAC(ikm, salt []byte, info string) (*RangeMAC, error) {
	key := memguard.NewBuffer(keySize)
	if key.Size() != keySize {
		return nil, errors.New("derive range mac key: cannot allocate locked memory")
	}
	if _, err := io.ReadFull(hkdf.New(sha256.New, ikm, salt, []byte(info)), key.Bytes()); err != nil {
		key.Destroy()
		return nil, fmt.Errorf("derive range mac key: %w", err)
	}
	key.Freeze()
	m := &RangeMAC{key: key}
	runtime.AddCleanup(m, func(b *memguard.LockedBuffer) { b.Destroy() }, key)
	return m, nil
}

// Sum returns the tag of data as range index of a download cut into ranges of
// chunkPackages packages.
func (m *RangeMAC) Sum(chunkPackages uint32, index uint64, data []byte) ([RangeMACSize]byte, error) {
	var tag [RangeMACSize]byte
	aead, err := m.gcm()
	if err != nil {
		return tag, err
	}
	var nonce [nonceSize]byte
	binary.BigEndian.PutUint32(nonce[:4], chunkPackages)
	binary.BigEndian.PutUint64(nonce[4:], index)
	aead.Seal(tag[:0], nonce[:], nil, data)
	return tag, nil
}

// Verify reports whether tag is the tag of data as range index, in constant time. Keys
// destroyed, or a tag of the wrong length, verify nothing.
func (m *RangeMAC) Verify(chunkPackages uint32, index uint64, data, tag []byte) bool {
	want, err := m.Sum(chunkPackages, index, data)
	return err == nil && subtle.ConstantTimeCompare(want[:], tag) == 1
}

// gcm returns an AES-256-GCM instance of the key. The key schedule it holds is on the Go
// heap for the length of one tag, as sio's is for a run of packages.
func (m *RangeMAC) gcm() (cipher.AEAD, error) {
	defer runtime.KeepAlive(m)
	if m == nil || m.key == nil || !m.key.IsAlive() {
		return nil, fmt.Errorf("range mac: %w", errDestroyed)
	}
	block, err := aes.NewCipher(m.key.Bytes())
	if err != nil {
		return nil, fmt.Errorf("range mac: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("range mac: %w", err)
	}
	return aead, nil
}

// Destroy wipes the key. It must not be used afterwards; Destroy may be called twice.
func (m *RangeMAC) Destroy() {
	if m == nil || m.key == nil {
		return
	}
	m.key.Destroy()
}

// String never reveals the key.
func (m *RangeMAC) String() string { return rangeMACRedacted }

// GoString never reveals the key, for %#v.
func (m *RangeMAC) GoString() string { return rangeMACRedacted }

// Format never reveals the key, whatever the verb.
func (m *RangeMAC) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, rangeMACRedacted) }
