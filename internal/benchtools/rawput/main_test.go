package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/object"
)

// recording is a memory store that keeps the size of every part.
type recording struct {
	*object.Memory
	sizes []int
}

func (r *recording) UploadPart(ctx context.Context, key, id string, n int32, body object.PartBody) (object.Part, error) {
	r.sizes = append(r.sizes, int(body.Size)) // Concurrency 1: no race
	return r.Memory.UploadPart(ctx, key, id, n, body)
}

func TestRawputUploadsTheFileAsIs(t *testing.T) {
	data := bytes.Repeat([]byte("rawput "), int(archive.PartSize(-1))/7+1000)
	path := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	store := &recording{Memory: object.NewMemory(nil, nil, 0)}
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-bucket", "b", "-storage-class", "STANDARD", "-concurrency", "1", path}, &stdout, &stderr,
		func(context.Context, options) (object.Store, error) { return store, nil })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := "data.bin " + strconv.Itoa(len(data)) + "\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	// The same part size as ogive put would pick for a file of this size.
	if len(store.sizes) != 2 || int64(store.sizes[0]) != archive.PartSize(int64(len(data))) {
		t.Errorf("part sizes %v, want a first part of %d", store.sizes, archive.PartSize(int64(len(data))))
	}
	rc, err := store.Get(t.Context(), "data.bin", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, data) {
		t.Errorf("stored %d bytes, not the file", len(got))
	}
}

func TestRawputUsage(t *testing.T) {
	newStore := func(context.Context, options) (object.Store, error) { return object.NewMemory(nil, nil, 0), nil }
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{nil, 2, "usage"},
		{[]string{"-bucket", "b"}, 2, "usage"},
		{[]string{"file"}, 2, "usage"},
		{[]string{"-bucket", "b", filepath.Join(t.TempDir(), "missing")}, 1, "no such file"},
		{[]string{"-bucket", "b", "-part-size", "1000", os.Args[0]}, 1, "part 1"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), c.args, &stdout, &stderr, newStore); code != c.code || !strings.Contains(stderr.String(), c.err) {
			t.Errorf("rawput %q: exit %d, %q; want %d and %q", c.args, code, stderr.String(), c.code, c.err)
		}
	}
}
