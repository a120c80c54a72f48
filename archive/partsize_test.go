package archive

import (
	"bytes"
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// s3MaxObject is S3's largest object, 5 TiB.
const s3MaxObject = 5 << 40

func TestPartSizeKnownSize(t *testing.T) {
	pkg := int64(crypt.MaxPackageLen)
	for _, c := range []struct {
		name       string
		cipherSize int64
		want       int64
	}{
		{"unknown", -1, defaultPartPackages * pkg},
		{"empty", 0, defaultPartPackages * pkg},
		{"1 GiB", crypt.EncryptedSize(1 << 30), defaultPartPackages * pkg},
		{"exactly MaxParts default parts", MaxParts * defaultPartPackages * pkg, defaultPartPackages * pkg},
		{"a byte more", MaxParts*defaultPartPackages*pkg + 1, (defaultPartPackages + 1) * pkg},
		{"S3's largest object", s3MaxObject, 8385 * pkg},
	} {
		got := PartSize(c.cipherSize)
		if got != c.want {
			t.Errorf("%s: PartSize(%d) = %d, want %d", c.name, c.cipherSize, got, c.want)
		}
		if c.cipherSize > 0 && (c.cipherSize+got-1)/got > MaxParts {
			t.Errorf("%s: %d bytes need more than %d parts of %d", c.name, c.cipherSize, MaxParts, got)
		}
	}
}

// TestStreamPartSizes checks the whole schedule of a stream of unknown
// length: whole packages, within S3's part limits, never shrinking, small
// at first, and enough room in MaxParts parts for S3's largest object.
func TestStreamPartSizes(t *testing.T) {
	if got, want := streamPartSize(1), PartSize(-1); got != want {
		t.Errorf("first part %d bytes, want PartSize(-1) = %d", got, want)
	}
	var total, prev int64
	for n := int32(1); n <= MaxParts; n++ {
		size := streamPartSize(n)
		switch {
		case size%crypt.MaxPackageLen != 0:
			t.Fatalf("part %d: %d bytes is not whole packages", n, size)
		case size < MinPartSize || size > object.MaxPartSize:
			t.Fatalf("part %d: %d bytes outside S3's part sizes", n, size)
		case size < prev:
			t.Fatalf("part %d: %d bytes, smaller than part %d's %d", n, size, n-1, prev)
		}
		prev = size
		total += size
		if n == streamDoubling {
			// The first stretch must be as cheap in memory as a file's parts.
			if want := streamDoubling * PartSize(-1); total != want {
				t.Errorf("first %d parts hold %d bytes, want %d", n, total, want)
			}
		}
	}
	if total < s3MaxObject {
		t.Errorf("%d parts hold %d bytes, less than S3's largest object (%d)", MaxParts, total, int64(s3MaxObject))
	}
	if last := streamPartSize(MaxParts); last != maxStreamPartPackages*crypt.MaxPackageLen {
		t.Errorf("last part %d bytes, want the 1 GiB cap", last)
	}
}

// partSizes records the size of every part uploaded.
type partSizes struct {
	object.Store
	mu    sync.Mutex
	sizes map[int32]int64
}

func (p *partSizes) UploadPart(ctx context.Context, key, id string, n int32, body object.PartBody) (object.Part, error) {
	p.mu.Lock()
	p.sizes[n] = body.Size
	p.mu.Unlock()
	return p.Store.UploadPart(ctx, key, id, n, body)
}

// TestPutStreamUsesSchedule puts a stream of unknown length just over one
// part: its parts must follow streamPartSize and hold the whole stream.
func TestPutStreamUsesSchedule(t *testing.T) {
	master := bytes.Repeat([]byte{7}, crypt.MasterKeySize)
	plain := bytes.Repeat([]byte("stream "), int(PartSize(-1)/crypt.MaxPackageLen*crypt.PackageSize)/7+5000)
	s := &partSizes{Store: object.NewMemory(nil, nil, 0), sizes: map[int32]int64{}}
	id, n, err := Put(t.Context(), s, lend(master), Source{R: bytes.NewReader(plain), Name: "stream", Size: -1}, PutOptions{StorageClass: "STANDARD"})
	if err != nil || n != int64(len(plain)) {
		t.Fatalf("Put = %d, %v; want %d bytes", n, err, len(plain))
	}
	want := map[int32]int64{1: streamPartSize(1), 2: crypt.EncryptedSize(int64(len(plain))) - streamPartSize(1)}
	if !maps.Equal(s.sizes, want) {
		t.Errorf("part sizes %v, want %v", s.sizes, want)
	}

	_, keys, err := crypt.OpenID(master, id)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Destroy()
	var got bytes.Buffer
	if _, err := DownloadStream(t.Context(), s, keys, id, crypt.EncryptedSize(int64(len(plain))), &got, DownloadOptions{}); err != nil {
		t.Fatalf("DownloadStream: %v", err)
	}
	if !bytes.Equal(got.Bytes(), plain) {
		t.Errorf("downloaded %d bytes, not the stream put", got.Len())
	}
}
