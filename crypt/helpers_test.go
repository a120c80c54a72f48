package crypt

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// vectorMaster is the master key of the known-answer vectors: bytes 0x00..0x1f.
func vectorMaster() []byte {
	m := make([]byte, MasterKeySize)
	for i := range m {
		m[i] = byte(i)
	}
	return m
}

// saltFrom returns the salt first, first+1, ..., first+15.
func saltFrom(first byte) Salt {
	var s Salt
	for i := range s {
		s[i] = first + byte(i)
	}
	return s
}

// pattern returns n bytes with byte i = i mod 251: a prime period, so no two packages of
// a long file carry the same plaintext.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func testKeys(t testing.TB, salt Salt) *Keys {
	t.Helper()
	k, err := DeriveKeys(vectorMaster(), salt)
	if err != nil {
		t.Fatalf("DeriveKeys: %v", err)
	}
	t.Cleanup(k.Destroy)
	return k
}

func encryptAll(t testing.TB, k *Keys, plain []byte) []byte {
	t.Helper()
	return encryptFrom(t, k, plain, 0)
}

// encryptFrom encrypts the file plain from package first to its end.
func encryptFrom(t testing.TB, k *Keys, plain []byte, first uint64) []byte {
	t.Helper()
	r, err := k.EncryptReader(bytes.NewReader(plain[first*PackageSize:]), first)
	if err != nil {
		t.Fatalf("EncryptReader: %v", err)
	}
	ct, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read ciphertext: %v", err)
	}
	return ct
}

func decryptAll(k *Keys, ct []byte) ([]byte, error) {
	var out bytes.Buffer
	n, err := k.Decrypt(&out, bytes.NewReader(ct))
	if err == nil && n != int64(out.Len()) {
		return nil, errors.New("Decrypt miscounted")
	}
	return out.Bytes(), err
}

// decryptInRuns decrypts ct the way a parallel download does: cut at package boundaries
// into runs of per packages, each decrypted on its own from its first package index, the
// last one as final. Keys of a format that keeps its nonce in the data are pinned first
// from package 0's header, as the download pins them.
func decryptInRuns(k Decrypter, ct []byte, per int) ([]byte, error) {
	if _, err := k.PlainSize(int64(len(ct))); err != nil {
		return nil, err
	}
	packages := (len(ct) + MaxPackageLen - 1) / MaxPackageLen
	if p, ok := k.(NoncePinner); ok && packages > per {
		if len(ct) < HeaderSize {
			return nil, ErrAuthentication
		}
		if err := p.PinStreamNonce(ct[:HeaderSize]); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	for first := 0; first < packages; first += per {
		last := min(first+per, packages)
		run := ct[first*MaxPackageLen : min(len(ct), last*MaxPackageLen)]
		if _, err := k.DecryptPackages(&out, bytes.NewReader(run), uint64(first), last == packages); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}

// wantAuthFailure fails the test unless err wraps ErrAuthentication.
func wantAuthFailure(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("%s: got error %v, want ErrAuthentication", what, err)
	}
}
