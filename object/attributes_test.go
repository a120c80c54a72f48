package object_test

import (
	"bytes"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/ogive-project/ogive/object"
)

// partChecksummers are the stores under test: the in-memory one and the
// S3 store against the local Deep Archive server.
func partChecksummers(t *testing.T) map[string]interface {
	object.Store
	object.PartChecksummer
} {
	srv := startServer(t)
	return map[string]interface {
		object.Store
		object.PartChecksummer
	}{
		"memory": object.NewMemory(nil, nil, 0),
		"s3":     newS3(t, serverConfig(srv, "attributes")),
	}
}

func TestPartChecksums(t *testing.T) {
	var castagnoli = crc32.MakeTable(crc32.Castagnoli)
	src := make([]byte, 2*object.MinPartSize+12345)
	for i := range src {
		src[i] = byte(i * 7 / 5)
	}
	for name, s := range partChecksummers(t) {
		t.Run(name, func(t *testing.T) {
			// A multipart object, in DEEP_ARCHIVE and never restored: its
			// parts are known all the same.
			n, err := object.Upload(t.Context(), s, "multi", bytes.NewReader(src), object.UploadOptions{PartSize: object.MinPartSize})
			if err != nil || n != int64(len(src)) {
				t.Fatalf("upload: %d bytes, %v", n, err)
			}
			if _, err := s.Get(t.Context(), "multi", 0, 1); !errors.Is(err, object.ErrNotRestored) {
				t.Fatalf("get of the archived object: %v, want ErrNotRestored", err)
			}
			parts, err := s.PartChecksums(t.Context(), "multi")
			if err != nil {
				t.Fatal(err)
			}
			bounds := []int{0, object.MinPartSize, 2 * object.MinPartSize, len(src)}
			if len(parts) != 3 {
				t.Fatalf("%d parts, want 3: %+v", len(parts), parts)
			}
			for i, p := range parts {
				body := src[bounds[i]:bounds[i+1]]
				want := object.PartChecksum{Number: int32(i + 1), Size: int64(len(body)), CRC32C: crc32.Checksum(body, castagnoli)}
				if p != want {
					t.Errorf("part %d: %+v, want %+v", i, p, want)
				}
			}

			// An object stored with one Put is one part.
			small := []byte("stored in one request")
			if err := s.Put(t.Context(), "single", small, object.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			parts, err = s.PartChecksums(t.Context(), "single")
			want := object.PartChecksum{Number: 1, Size: int64(len(small)), CRC32C: crc32.Checksum(small, castagnoli)}
			if err != nil || len(parts) != 1 || parts[0] != want {
				t.Errorf("single: %+v, %v; want %+v", parts, err, want)
			}

			if _, err := s.PartChecksums(t.Context(), "missing"); !errors.Is(err, object.ErrNotFound) {
				t.Errorf("missing key: %v, want ErrNotFound", err)
			}
			if _, err := s.PartChecksums(t.Context(), ""); err == nil {
				t.Error("empty key accepted")
			}
		})
	}
}
