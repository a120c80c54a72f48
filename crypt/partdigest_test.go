package crypt

import (
	"crypto/sha256"
	"errors"
	"testing"
)

// tagsDigest is PartDigest written the long way: SHA-256 of the last 16 bytes of each
// package.
func tagsDigest(ct []byte) [32]byte {
	var tags []byte
	for off := 0; off < len(ct); off += MaxPackageLen {
		end := min(off+MaxPackageLen, len(ct))
		tags = append(tags, ct[end-16:end]...)
	}
	return sha256.Sum256(tags)
}

func TestPartDigestIsTheTags(t *testing.T) {
	k := testKeys(t, saltFrom(0x40))
	for _, size := range []int{0, 100, PackageSize - 1, PackageSize, 3*PackageSize + 7} {
		ct := encryptAll(t, k, pattern(size))
		got, err := PartDigest(ct)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if got != tagsDigest(ct) {
			t.Errorf("%d bytes: digest is not SHA-256 of the tags", size)
		}
		// A run of whole packages from the middle, as an upload part is.
		if len(ct) > 2*MaxPackageLen {
			if _, err := PartDigest(ct[MaxPackageLen : 3*MaxPackageLen]); err != nil {
				t.Errorf("%d bytes, packages 1-2: %v", size, err)
			}
		}
	}
}

func TestPartDigestSeesEveryChange(t *testing.T) {
	k := testKeys(t, saltFrom(0x50))
	plain := pattern(4*PackageSize + 99)
	ref, err := PartDigest(encryptAll(t, k, plain))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := PartDigest(encryptAll(t, k, plain))
	if again != ref {
		t.Fatal("the same plaintext under the same keys gave another digest")
	}
	for _, at := range []int{0, 15, 16, PackageSize - 1, PackageSize, 2*PackageSize + 12345, len(plain) - 1} {
		changed := append([]byte(nil), plain...)
		changed[at] ^= 0x01
		d, err := PartDigest(encryptAll(t, k, changed))
		if err != nil {
			t.Fatal(err)
		}
		if d == ref {
			t.Errorf("a bit flipped at %d leaves the digest unchanged", at)
		}
	}
}

func TestPartDigestRejectsPartialPackages(t *testing.T) {
	k := testKeys(t, saltFrom(0x60))
	ct := encryptAll(t, k, pattern(3*PackageSize+500))
	for name, b := range map[string][]byte{
		"empty":                   nil,
		"header and tag only":     ct[:PackageOverhead],
		"one package and a byte":  ct[:MaxPackageLen+1],
		"cut inside a package":    ct[:MaxPackageLen+1000],
		"not at a package start":  ct[16 : 16+MaxPackageLen],
		"short package not last":  append(append([]byte(nil), ct[3*MaxPackageLen:]...), ct[:MaxPackageLen]...),
		"full package cut at end": ct[:2*MaxPackageLen-1],
	} {
		if _, err := PartDigest(b); !errors.Is(err, ErrAuthentication) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
