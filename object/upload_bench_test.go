package object_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ogive-project/ogive/object"
)

// discardParts is a store that accepts every part and keeps nothing, so
// that BenchmarkUpload measures Upload itself: reading into part buffers,
// handing parts out, and the memory that takes.
type discardParts struct{ *object.Memory }

func (discardParts) UploadPart(_ context.Context, _, _ string, n int32, body object.PartBody) (object.Part, error) {
	return object.Part{Number: n, Size: body.Size, ETag: "e"}, nil
}

func (discardParts) CompleteUpload(context.Context, string, string, []object.Part) error { return nil }

func BenchmarkUpload(b *testing.B) {
	const size = 256 << 20
	src := bytes.Repeat([]byte{1}, size)
	s := discardParts{object.NewMemory(nil, nil, 0)}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := object.Upload(b.Context(), s, "k", bytes.NewReader(src), object.UploadOptions{PartSize: 16 << 20, Concurrency: 3}); err != nil {
			b.Fatal(err)
		}
	}
}
