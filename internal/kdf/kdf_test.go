package kdf

import (
	"bytes"
	"testing"

	"golang.org/x/crypto/argon2"
)

// The wrappers must give exactly argon2's output.
func TestSameKeys(t *testing.T) {
	pw, salt := []byte("password"), []byte("somesaltsomesalt")
	if got, want := IDKey(pw, salt, 1, 1024, 4, 32), argon2.IDKey(pw, salt, 1, 1024, 4, 32); !bytes.Equal(got, want) {
		t.Errorf("IDKey = %x, want %x", got, want)
	}
	if got, want := Key(pw, salt, 1, 1024, 4, 32), argon2.Key(pw, salt, 1, 1024, 4, 32); !bytes.Equal(got, want) {
		t.Errorf("Key = %x, want %x", got, want)
	}
}
