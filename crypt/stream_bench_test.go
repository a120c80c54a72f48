package crypt

import (
	"io"
	"testing"
)

// repeatReader yields left bytes of pattern, over and over: a source that
// stays in the CPU cache however long the stream.
type repeatReader struct {
	pattern []byte
	off     int
	left    int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.pattern[r.off:])
	r.off = (r.off + n) % len(r.pattern)
	r.left -= int64(n)
	return n, nil
}

// BenchmarkEncryptInCache encrypts a 64 MiB stream whose plaintext comes
// from a 256 KiB buffer read again and again, into a 256 KiB buffer: the
// data stays in the CPU cache, as in "openssl speed", which encrypts one
// buffer over and over. make bench compares the two with -cpu 1, so that
// the figure is the cost of the cipher and of DARE's framing rather than of
// memory bandwidth, which BenchmarkEncrypt (64 MiB from main memory) adds.
func BenchmarkEncryptInCache(b *testing.B) {
	k := testKeys(b, saltFrom(0xe2))
	plain := pattern(256 << 10)
	out := make([]byte, 256<<10)
	b.SetBytes(benchSize)
	for b.Loop() {
		r, err := k.EncryptReader(&repeatReader{pattern: plain, left: benchSize}, 0)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Read(out)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
