package archive

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// memWriterAt is a WriterAt of a fixed size that is not a file, so
// DownloadAt cannot ask the kernel to write it back.
type memWriterAt struct{ b []byte }

func (m *memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, errors.New("write past the end")
	}
	return copy(m.b[off:], p), nil
}

// TestDownloadAtFile downloads, in small parallel ranges, into a file,
// where each range is handed to the kernel's writeback as it lands, and
// into a plain WriterAt: both must hold the file.
func TestDownloadAtFile(t *testing.T) {
	master := bytes.Repeat([]byte{3}, crypt.MasterKeySize)
	plain := bytes.Repeat([]byte("0123456789abcdef"), 10*crypt.PackageSize/16+123)
	s := object.NewMemory(nil, nil, 0)
	id, _, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(plain), Name: "f", Size: int64(len(plain))}, PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		t.Fatal(err)
	}
	_, keys, err := crypt.OpenID(master, id)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	cipherSize := crypt.EncryptedSize(int64(len(plain)))
	o := DownloadOptions{Concurrency: 3, ChunkPackages: 2}

	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := DownloadAt(t.Context(), s, keys, id, cipherSize, f, o); err != nil || n != int64(len(plain)) {
		t.Fatalf("DownloadAt into a file = %d, %v; want %d bytes", n, err, len(plain))
	}
	if got, err := os.ReadFile(f.Name()); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("file holds %d bytes (%v), not the plaintext", len(got), err)
	}

	m := memWriterAt{b: make([]byte, len(plain))}
	if n, err := DownloadAt(t.Context(), s, keys, id, cipherSize, &m, o); err != nil || n != int64(len(plain)) {
		t.Fatalf("DownloadAt into memory = %d, %v; want %d bytes", n, err, len(plain))
	}
	if !bytes.Equal(m.b, plain) {
		t.Errorf("memory holds %d bytes, not the plaintext", len(m.b))
	}
}

// TestDownloadStreamRecyclesBuffers streams many small ranges with few
// buffers, so each buffer carries several ranges in turn: the output must
// still be the file, in order.
func TestDownloadStreamRecyclesBuffers(t *testing.T) {
	master := bytes.Repeat([]byte{4}, crypt.MasterKeySize)
	plain := make([]byte, 13*crypt.PackageSize+77)
	for i := range plain {
		plain[i] = byte(i / crypt.PackageSize * 31)
	}
	s := object.NewMemory(nil, nil, 0)
	id, _, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(plain), Name: "s", Size: int64(len(plain))}, PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		t.Fatal(err)
	}
	_, keys, err := crypt.OpenID(master, id)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	var got bytes.Buffer
	n, err := DownloadStream(t.Context(), s, keys, id, crypt.EncryptedSize(int64(len(plain))), &got, DownloadOptions{Concurrency: 2, ChunkPackages: 1})
	if err != nil || n != int64(len(plain)) {
		t.Fatalf("DownloadStream = %d, %v; want %d bytes", n, err, len(plain))
	}
	if !bytes.Equal(got.Bytes(), plain) {
		t.Error("streamed bytes differ from the file")
	}
}
