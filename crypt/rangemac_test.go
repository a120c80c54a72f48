package crypt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
)

// rangeMACPattern is the plaintext of the two-package vectors.
func rangeMACPattern() []byte {
	b := make([]byte, 2*PackageSize)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// legacyKeysFrom makes 2019 keys from a data key, as DeriveLegacyKeys does after Argon2i.
func legacyKeysFrom(t *testing.T, key []byte) *LegacyKeys {
	t.Helper()
	b := memguard.NewBufferFromBytes(bytes.Clone(key))
	b.Freeze()
	k := &LegacyKeys{key: b}
	t.Cleanup(k.Destroy)
	return k
}

// TestRangeMACVectors pins the range tags of docs/FORMAT.md §5. The expected tags were
// computed from that section alone, with Python's cryptography package (HKDF and
// AESGCM.encrypt of an empty plaintext with the range as associated data), not with Go:
// the v2 keys are those of §1.5's worked example, the 2019 data key is 60 61 … 7f.
func TestRangeMACVectors(t *testing.T) {
	master := make([]byte, MasterKeySize)
	for i := range master {
		master[i] = byte(i)
	}
	var salt Salt
	for i := range salt {
		salt[i] = 0xa0 + byte(i)
	}
	v2, err := DeriveKeys(master, salt)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Destroy()
	legacyKey := make([]byte, keySize)
	for i := range legacyKey {
		legacyKey[i] = 0x60 + byte(i)
	}
	legacy := legacyKeysFrom(t, legacyKey)

	hello := []byte("hello, world\n")
	pattern := rangeMACPattern()
	cases := []struct {
		name          string
		keys          Decrypter
		chunkPackages uint32
		index         uint64
		data          []byte
		tag           string
	}{
		{"v2/hello", v2, 128, 0, hello, "0b201dfccdda0ecfb7abf388a11e5f05"},
		{"v2/empty", v2, 128, 0, nil, "09cc0851a307e6f0cc4f1aaf2393608f"},
		{"v2/pattern-range-5", v2, 2, 5, pattern, "dee90f040ab2fd296b8a010496a9189c"},
		{"v2/pattern-range-6", v2, 2, 6, pattern, "eb23f8623afb4826e5c6e1a45873fe5a"},
		{"2019/hello", legacy, 128, 0, hello, "d7901e70e0f2fe3f5faafbd29aec0626"},
		{"2019/pattern-range-5", legacy, 2, 5, pattern, "1a2693d36a67e0d3a9f483f6aeaa0711"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.keys.RangeMAC()
			if err != nil {
				t.Fatal(err)
			}
			defer m.Destroy()
			got, err := m.Sum(tc.chunkPackages, tc.index, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got[:]) != tc.tag {
				t.Fatalf("tag %x, want %s", got, tc.tag)
			}
			want, _ := hex.DecodeString(tc.tag)
			if !m.Verify(tc.chunkPackages, tc.index, tc.data, want) {
				t.Error("Verify refuses the vector's tag")
			}
		})
	}
}

// TestRangeMACRefuses: a tag proves one range of one object's plaintext, under one
// cutting into ranges. Anything else fails: other bytes, another range, another cutting,
// another object's keys, a tag anyone could compute (a CRC), a cut tag.
func TestRangeMACRefuses(t *testing.T) {
	master := bytes.Repeat([]byte{7}, MasterKeySize)
	a, err := DeriveKeys(master, Salt{1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Destroy()
	b, err := DeriveKeys(master, Salt{2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Destroy()
	ma, _ := a.RangeMAC()
	defer ma.Destroy()
	mb, _ := b.RangeMAC()
	defer mb.Destroy()
	legacy := legacyKeysFrom(t, bytes.Repeat([]byte{7}, keySize))
	ml, _ := legacy.RangeMAC()
	defer ml.Destroy()

	data := rangeMACPattern()
	tag, err := ma.Sum(128, 3, data)
	if err != nil {
		t.Fatal(err)
	}
	if !ma.Verify(128, 3, data, tag[:]) {
		t.Fatal("the tag does not verify")
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)-1] ^= 1
	var crc [RangeMACSize]byte
	binary.BigEndian.PutUint32(crc[:], crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	cases := []struct {
		name string
		ok   bool
	}{
		{"other bytes", ma.Verify(128, 3, flipped, tag[:])},
		{"a shorter range", ma.Verify(128, 3, data[:len(data)-1], tag[:])},
		{"another range", ma.Verify(128, 4, data, tag[:])},
		{"another cutting", ma.Verify(64, 3, data, tag[:])},
		{"another object", mb.Verify(128, 3, data, tag[:])},
		{"a 2019 key of the same bytes", ml.Verify(128, 3, data, tag[:])},
		{"a CRC-32C", ma.Verify(128, 3, data, crc[:])},
		{"a cut tag", ma.Verify(128, 3, data, tag[:8])},
		{"no tag", ma.Verify(128, 3, data, nil)},
	}
	for _, tc := range cases {
		if tc.ok {
			t.Errorf("%s verifies", tc.name)
		}
	}
}

// TestRangeMACSecrets: the key never prints, and a destroyed key tags nothing.
func TestRangeMACSecrets(t *testing.T) {
	k, err := DeriveKeys(bytes.Repeat([]byte{9}, MasterKeySize), Salt{3})
	if err != nil {
		t.Fatal(err)
	}
	m, err := k.RangeMAC()
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Clone(m.key.Bytes())
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out := fmt.Sprintf(format, m)
		if !strings.Contains(out, "**redacted**") || strings.Contains(out, fmt.Sprintf("%x", key)) {
			t.Errorf("%s prints %q", format, out)
		}
	}
	tag, _ := m.Sum(1, 0, []byte("x"))
	m.Destroy()
	m.Destroy()
	if _, err := m.Sum(1, 0, []byte("x")); err == nil {
		t.Error("a destroyed key still tags")
	}
	if m.Verify(1, 0, []byte("x"), tag[:]) {
		t.Error("a destroyed key still verifies")
	}
	k.Destroy()
	if _, err := k.RangeMAC(); err == nil {
		t.Error("destroyed keys still derive a range key")
	}
	legacy := legacyKeysFrom(t, make([]byte, keySize))
	legacy.Destroy()
	if _, err := legacy.RangeMAC(); err == nil {
		t.Error("destroyed 2019 keys still derive a range key")
	}
	runtime.KeepAlive(k)
}

// BenchmarkRangeMAC tags one 8 MiB download range, what get does for each range it
// writes and again for each it resumes. BenchmarkRangeCRC32C is what it replaced.
func BenchmarkRangeMAC(b *testing.B) {
	k, err := DeriveKeys(bytes.Repeat([]byte{1}, MasterKeySize), Salt{})
	if err != nil {
		b.Fatal(err)
	}
	defer k.Destroy()
	m, err := k.RangeMAC()
	if err != nil {
		b.Fatal(err)
	}
	defer m.Destroy()
	data := make([]byte, 128*PackageSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := m.Sum(128, 1, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRangeCRC32C(b *testing.B) {
	table := crc32.MakeTable(crc32.Castagnoli)
	data := make([]byte, 128*PackageSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		crc32.Checksum(data, table)
	}
}
