package archive_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

var master = bytes.Repeat([]byte{0x42}, crypt.MasterKeySize)

// noGets is a store on which any read of object data fails the test:
// verify must prove a match without downloading anything.
type noGets struct {
	*object.Memory
	t *testing.T
}

func (s noGets) Get(context.Context, string, int64, int64) (io.ReadCloser, error) {
	s.t.Error("verify read object data")
	return nil, errors.New("no reads")
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i/7)
	}
	return b
}

// verify runs archive.Verify with the keys of a under master.
func verify(ctx context.Context, s object.PartChecksummer, master []byte, a *archive.Archive, src io.Reader, size int64) (archive.Verified, error) {
	keys, err := a.Keys(master)
	if err != nil {
		return archive.Verified{}, err
	}
	defer keys.Destroy()
	return archive.Verify(ctx, s, a, keys, src, size, archive.VerifyOptions{})
}

func putArchive(t *testing.T, s object.Store, name string, data []byte) *archive.Archive {
	t.Helper()
	id, _, err := archive.Put(t.Context(), s, lend(master), archive.Source{R: bytes.NewReader(data), Name: name, Size: int64(len(data))}, archive.PutOptions{})
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	a, err := archive.Identify(t.Context(), s, master, id, false)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestVerify(t *testing.T) {
	s := noGets{object.NewMemory(nil, nil, 0), t}
	// Two parts: the first of archive.PartSize bytes of ciphertext.
	big := pattern(int(archive.PartSize(-1)/crypt.MaxPackageLen*crypt.PackageSize) + 100000)
	bigArchive := putArchive(t, s, "big.bin", big)
	small := []byte("hello, world\n")
	smallArchive := putArchive(t, s, "hello.txt", small)
	empty := putArchive(t, s, "empty", nil)

	for _, c := range []struct {
		name  string
		a     *archive.Archive
		data  []byte
		size  int64 // -1: as a stream
		parts int
	}{
		{"two parts", bigArchive, big, int64(len(big)), 2},
		{"two parts as a stream", bigArchive, big, -1, 2},
		{"one part", smallArchive, small, int64(len(small)), 1},
		{"empty file", empty, nil, 0, 1},
	} {
		v, err := verify(t.Context(), s, master, c.a, bytes.NewReader(c.data), c.size)
		if err != nil || v.Parts != c.parts || v.Size != int64(len(c.data)) {
			t.Errorf("%s: %+v, %v; want %d parts of %d bytes", c.name, v, err, c.parts, len(c.data))
		}
	}

	changed := func(at int) []byte {
		b := bytes.Clone(big)
		b[at] ^= 1
		return b
	}
	firstPart := int(archive.PartSize(-1) / crypt.MaxPackageLen * crypt.PackageSize)
	for _, c := range []struct {
		name string
		a    *archive.Archive
		data []byte
		size int64
		want string
	}{
		{"first byte", bigArchive, changed(0), int64(len(big)), "part 1 of 2 (file bytes 0 to 16777215) differs"},
		{"last byte of the first part", bigArchive, changed(firstPart - 1), int64(len(big)), "part 1 of 2"},
		{"first byte of the second part", bigArchive, changed(firstPart), int64(len(big)), "part 2 of 2 (file bytes 16777216 to 16877215) differs"},
		{"last byte", bigArchive, changed(len(big) - 1), -1, "part 2 of 2"},
		{"shorter, size known", bigArchive, big[:len(big)-1], int64(len(big) - 1), "the file has 16877215 bytes, the archive 16877216"},
		{"longer, size known", smallArchive, append(bytes.Clone(small), '!'), int64(len(small) + 1), "the file has 14 bytes, the archive 13"},
		{"shorter stream", bigArchive, big[:firstPart], -1, "the file has 16777216 bytes, the archive 16877216"},
		{"much shorter stream", bigArchive, big[:1000], -1, "the file has 1000 bytes, the archive 16877216"},
		{"longer stream", smallArchive, append(bytes.Clone(small), '!'), -1, "part 1 of 1"},
		{"another file of the same size", smallArchive, []byte("hello, World\n"), 13, "part 1 of 1 (file bytes 0 to 12) differs"},
		{"not empty", empty, []byte{0}, -1, "part 1 of 1"},
	} {
		_, err := verify(t.Context(), s, master, c.a, bytes.NewReader(c.data), c.size)
		if !errors.Is(err, archive.ErrMismatch) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrMismatch saying %q", c.name, err, c.want)
		}
	}
}

func TestVerifyReportsBytes(t *testing.T) {
	s := object.NewMemory(nil, nil, 0)
	data := pattern(300000)
	a := putArchive(t, s, "f", data)
	keys, err := a.Keys(master)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	var read int64
	_, err = archive.Verify(t.Context(), s, a, keys, bytes.NewReader(data), int64(len(data)),
		archive.VerifyOptions{OnBytes: func(n int64) { read += n }})
	if err != nil || read != int64(len(data)) {
		t.Errorf("reported %d bytes, %v; want %d", read, err, len(data))
	}
}

// A source that grows while it is read is a changed source, not a match.
func TestVerifySourceChanged(t *testing.T) {
	s := noGets{object.NewMemory(nil, nil, 0), t}
	data := []byte("hello, world\n")
	a := putArchive(t, s, "hello.txt", data)
	_, err := verify(t.Context(), s, master, a, io.MultiReader(bytes.NewReader(data), strings.NewReader("more")), int64(len(data)))
	if !errors.Is(err, archive.ErrSourceChanged) {
		t.Errorf("growing source: %v, want ErrSourceChanged", err)
	}
}

// legacyKeys decrypts but is not a *crypt.Keys, like the 2019 format's keys.
type legacyKeys struct{ crypt.Decrypter }

type fakeChecksums struct {
	parts []object.PartChecksum
	err   error
}

func (f fakeChecksums) PartChecksums(context.Context, string) ([]object.PartChecksum, error) {
	return f.parts, f.err
}

func (f fakeChecksums) Head(context.Context, string) (object.Info, error) {
	return object.Info{}, f.err
}

func TestVerifyRefuses(t *testing.T) {
	s := object.NewMemory(nil, nil, 0)
	a := putArchive(t, s, "hello.txt", []byte("hello"))
	src := func() io.Reader { return strings.NewReader("hello") }

	keys, err := a.Keys(master)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	legacy := &archive.Archive{ID: a.ID, Name: a.Name, Legacy: true}
	if _, err := archive.Verify(t.Context(), s, legacy, keys, src(), 5, archive.VerifyOptions{}); !errors.Is(err, archive.ErrLegacyVerify) {
		t.Errorf("2019 archive: %v, want ErrLegacyVerify", err)
	}
	// 2019 keys cannot re-encrypt: their stream nonce was random.
	if _, err := archive.Verify(t.Context(), s, a, legacyKeys{keys}, src(), 5, archive.VerifyOptions{}); !errors.Is(err, archive.ErrLegacyVerify) {
		t.Errorf("keys that cannot encrypt: %v, want ErrLegacyVerify", err)
	}
	if _, err := verify(t.Context(), fakeChecksums{err: object.ErrNoChecksums}, master, a, src(), 5); !errors.Is(err, object.ErrNoChecksums) {
		t.Errorf("no checksums: %v, want ErrNoChecksums", err)
	}
	// A stored size no stream can have: the archive was cut.
	cut := fakeChecksums{parts: []object.PartChecksum{{Number: 1, Size: crypt.MaxPackageLen + 5}}}
	if _, err := verify(t.Context(), cut, master, a, src(), 5); !errors.Is(err, crypt.ErrAuthentication) {
		t.Errorf("impossible size: %v, want ErrAuthentication", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := verify(ctx, s, master, a, src(), 5); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v, want context.Canceled", err)
	}
}

// lend gives archive.Put a master key held in plain memory, as tests hold it.
func lend(master []byte) archive.MasterKey {
	return func(use func([]byte) error) error { return use(master) }
}
