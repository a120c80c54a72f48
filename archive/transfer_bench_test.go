package archive

import (
	"bytes"
	"io"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

const benchSize = 64 << 20

// discardAt is a WriterAt that keeps nothing.
type discardAt struct{}

func (discardAt) WriteAt(p []byte, _ int64) (int, error) { return len(p), nil }

// BenchmarkPut encrypts and uploads 64 MiB into the in-memory store: the
// client's work for a put, without a network. Run it with -benchmem to see
// what an upload allocates besides its part buffers.
func BenchmarkPut(b *testing.B) {
	master := bytes.Repeat([]byte{1}, crypt.MasterKeySize)
	plain := bytes.Repeat([]byte{0x5a}, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		s := object.NewMemory(nil, nil, 0)
		src := Source{R: bytes.NewReader(plain), Name: "bench", Size: benchSize}
		if _, _, err := Put(b.Context(), s, lend(master), src, PutOptions{StorageClass: "STANDARD"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDownloadAt downloads and decrypts 64 MiB from the in-memory
// store in parallel ranges. Its allocations per op are the garbage a
// download makes per 64 MiB, which bounds how its memory grows with size.
func BenchmarkDownloadAt(b *testing.B) {
	s, keys, id, cipherSize := benchArchive(b)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DownloadAt(b.Context(), s, keys, id, cipherSize, discardAt{}, DownloadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDownloadStream downloads and decrypts 64 MiB in order, as get
// does to stdout.
func BenchmarkDownloadStream(b *testing.B) {
	s, keys, id, cipherSize := benchArchive(b)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DownloadStream(b.Context(), s, keys, id, cipherSize, io.Discard, DownloadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchArchive(b *testing.B) (object.Store, *crypt.Keys, string, int64) {
	b.Helper()
	master := bytes.Repeat([]byte{1}, crypt.MasterKeySize)
	s := object.NewMemory(nil, nil, 0)
	id, _, err := Put(b.Context(), s, lend(master), Source{R: bytes.NewReader(make([]byte, benchSize)), Name: "bench", Size: benchSize}, PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		b.Fatal(err)
	}
	_, keys, err := crypt.OpenID(master, id)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(keys.Destroy)
	return s, keys, id, crypt.EncryptedSize(benchSize)
}

// BenchmarkVerify checks 64 MiB against its archive in the in-memory store:
// the file encrypted again, with a CRC-32C and an MD5 of every part.
func BenchmarkVerify(b *testing.B) {
	master := bytes.Repeat([]byte{1}, crypt.MasterKeySize)
	plain := bytes.Repeat([]byte{0x5a}, benchSize)
	s := object.NewMemory(nil, nil, 0)
	id, _, err := Put(b.Context(), s, lend(master), Source{R: bytes.NewReader(plain), Name: "bench", Size: benchSize}, PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		b.Fatal(err)
	}
	a := &Archive{ID: id, Name: "bench"}
	keys, err := a.Keys(master)
	if err != nil {
		b.Fatal(err)
	}
	defer keys.Destroy()
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := Verify(b.Context(), s, a, keys, bytes.NewReader(plain), benchSize, VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
