package crypt

import (
	"bytes"
	"io"
	"testing"
)

const benchSize = 64 << 20

// benchCopy moves r to io.Discard through a 1 MiB buffer, as an upload part or a file
// write would, rather than through io.Discard's small ReadFrom buffer.
func benchCopy(b *testing.B, r io.Reader) {
	buf := make([]byte, 1<<20)
	for {
		_, err := r.Read(buf)
		if err == io.EOF {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncrypt(b *testing.B) {
	k := testKeys(b, saltFrom(0xe0))
	plain := pattern(benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		r, err := k.EncryptReader(bytes.NewReader(plain), 0)
		if err != nil {
			b.Fatal(err)
		}
		benchCopy(b, r)
	}
}

func BenchmarkDecrypt(b *testing.B) {
	k := testKeys(b, saltFrom(0xe1))
	ct := encryptAll(b, k, pattern(benchSize))
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := k.Decrypt(io.Discard, bytes.NewReader(ct)); err != nil {
			b.Fatal(err)
		}
	}
}
