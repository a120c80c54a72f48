package object_test

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/ogive-project/ogive/object"
)

// TestUploadGrowingParts gives parts the sizes PartSizes asks for, in
// order, and keeps no more than Concurrency of them in memory at a time,
// whatever their size: reading stops until a part is done.
func TestUploadGrowingParts(t *testing.T) {
	const min = object.MinPartSize
	sizes := func(n int32) int64 { return min * int64(n) } // 5, 10, 15 MiB...
	for _, c := range []struct {
		name      string
		size      int
		wantSizes []int64
	}{
		{"within the first part", min - 1, []int64{min - 1}},
		{"first part and a byte", min + 1, []int64{min, 1}},
		{"three growing parts", 6 * min, []int64{min, 2 * min, 3 * min}},
		{"four parts, the last short", 7 * min, []int64{min, 2 * min, 3 * min, min}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := object.NewMemory(nil, nil, 0)
			var mu sync.Mutex
			var got []object.Part
			src := randomBytes(c.size)
			n, err := object.Upload(t.Context(), mem, "k", onlyReader{bytes.NewReader(src)}, object.UploadOptions{
				PutOptions:  object.PutOptions{StorageClass: "STANDARD"},
				PartSize:    object.MaxPartSize + 1, // ignored: PartSizes wins
				PartSizes:   sizes,
				Concurrency: 2,
				OnPart: func(p object.Part) {
					mu.Lock()
					got = append(got, p)
					mu.Unlock()
				},
			})
			if err != nil || n != int64(c.size) {
				t.Fatalf("Upload = %d, %v; want %d bytes", n, err, c.size)
			}
			slices.SortFunc(got, func(a, b object.Part) int { return int(a.Number - b.Number) })
			var gotSizes []int64
			for _, p := range got {
				gotSizes = append(gotSizes, p.Size)
			}
			if !slices.Equal(gotSizes, c.wantSizes) {
				t.Errorf("part sizes %v, want %v", gotSizes, c.wantSizes)
			}
			if stored := readAll(t, mem, "k"); !bytes.Equal(stored, src) {
				t.Errorf("stored %d bytes, not the input", len(stored))
			}
		})
	}
}

// TestUploadGrowingPartsMemory holds the first part until the second is in
// flight: with Concurrency 2 and growing parts, the input read by then must
// fit in those two parts, and the third, larger part gets a buffer of its
// own size once one is free.
func TestUploadGrowingPartsMemory(t *testing.T) {
	const min = object.MinPartSize
	mem := object.NewMemory(nil, nil, 0)
	src := randomBytes(10 * min)
	in := &countingReader{r: bytes.NewReader(src)}
	release := make(chan struct{})
	var readAt int64
	s := &counting{Store: mem, partHook: func(n int32) error {
		switch n {
		case 1:
			<-release
		case 2:
			readAt = in.n.Load()
			close(release)
		}
		return nil
	}}
	sizes := func(n int32) int64 { return min * int64(n) } // 5, 10, 15, 20 MiB
	_, err := object.Upload(t.Context(), s, "k", in, object.UploadOptions{
		PutOptions:  object.PutOptions{StorageClass: "STANDARD"},
		PartSizes:   sizes,
		Concurrency: 2,
	})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	// bufio reads ahead at most its 4 KiB buffer.
	if limit := int64(3*min + 4096); readAt > limit {
		t.Errorf("%d bytes read with parts 1 and 2 in flight, more than %d", readAt, limit)
	}
	if got := readAll(t, mem, "k"); !bytes.Equal(got, src) {
		t.Errorf("stored %d bytes, not the input", len(got))
	}
}

func TestUploadRejectsBadPartSizes(t *testing.T) {
	const min = object.MinPartSize
	for _, c := range []struct {
		name  string
		sizes func(int32) int64
		size  int
	}{
		{"first part too small", func(int32) int64 { return min - 1 }, 10},
		{"first part too large", func(int32) int64 { return object.MaxPartSize + 1 }, 10},
		{"later part too small", func(n int32) int64 {
			if n == 3 {
				return 1000
			}
			return min
		}, 4 * min},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := object.NewMemory(nil, nil, 0)
			s := &counting{Store: mem}
			_, err := object.Upload(t.Context(), s, "k", bytes.NewReader(randomBytes(c.size)), object.UploadOptions{PartSizes: c.sizes})
			if err == nil {
				t.Fatal("Upload succeeded")
			}
			if s.creates.Load() > 0 {
				assertAborted(t, s, mem)
			}
			if _, err := mem.Head(t.Context(), "k"); !errors.Is(err, object.ErrNotFound) {
				t.Errorf("Head after a refused upload: %v, want ErrNotFound", err)
			}
		})
	}
}
