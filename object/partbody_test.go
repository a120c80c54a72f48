package object_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
)

// streamed is a part that counts its openings and makes its bytes as it is
// read, never holding them: as archive's parts of a file do.
func streamed(data []byte, opened *atomic.Int32) object.PartBody {
	return object.PartBody{
		Size:   int64(len(data)),
		CRC32C: object.ChecksumCRC32C(data),
		Open: func() (io.Reader, error) {
			opened.Add(1)
			return io.MultiReader(bytes.NewReader(data)), nil
		},
	}
}

// TestS3StreamedPartSentAgain: the connection of a part's first attempt is
// reset half-way through its body; the SDK sends it again, which opens the
// body again from its first byte, and the server stores the part whole.
func TestS3StreamedPartSentAgain(t *testing.T) {
	t.Parallel()
	s, proxy := proxiedS3(t)
	ctx := t.Context()

	data := make([]byte, object.MinPartSize+12345)
	for i := range data {
		data[i] = byte(rand.N(256))
	}
	id, err := s.CreateUpload(ctx, "streamed", object.PutOptions{StorageClass: "STANDARD"})
	if err != nil {
		t.Fatal(err)
	}
	isPart := func(r *http.Request) bool { return r.Method == http.MethodPut && r.URL.Query().Get("partNumber") != "" }
	proxy.SetRules(faultproxy.Rule{Fault: faultproxy.ResetRequest, Match: isPart, Limit: 1})
	var opened atomic.Int32
	var sent atomic.Int64
	p, err := s.UploadPart(ctx, "streamed", id, 1, object.CountingPart(streamed(data, &opened), func(n int64) { sent.Add(n) }))
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	if proxy.Injected(faultproxy.ResetRequest) != 1 {
		t.Fatal("no attempt was reset")
	}
	if opened.Load() < 2 {
		t.Fatalf("body opened %d times for two attempts", opened.Load())
	}
	if sent.Load() != int64(len(data)) {
		t.Errorf("counted %d bytes sent for a part of %d sent twice, want each byte once", sent.Load(), len(data))
	}
	if err := s.CompleteUpload(ctx, "streamed", id, []object.Part{p}); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "streamed", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, data) {
		t.Fatal("the part stored is not the body")
	}
}

// TestS3PartBodyThatFails: a body that fails part-way (archive's answer to
// a source changed since its scan) fails the part, with its error, and
// nothing is stored under the part.
func TestS3PartBodyThatFails(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	c := serverConfig(srv, testPrefix(t))
	c.MaxBackoff = time.Millisecond
	s := newS3(t, c)
	ctx := t.Context()
	errChanged := errors.New("source changed")
	data := make([]byte, object.MinPartSize)
	body := object.PartBody{
		Size:   int64(len(data)),
		CRC32C: object.ChecksumCRC32C(data),
		Open: func() (io.Reader, error) {
			return io.MultiReader(bytes.NewReader(data[:1<<20]), iotestErr{errChanged}), nil
		},
	}
	id, err := s.CreateUpload(ctx, "fails", object.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadPart(ctx, "fails", id, 1, body); !errors.Is(err, errChanged) {
		t.Fatalf("UploadPart: %v, want the body's error", err)
	}
	parts, err := s.ListParts(ctx, "fails", id)
	if err != nil || len(parts) != 0 {
		t.Fatalf("ListParts: %v, %v; want none", parts, err)
	}
	_ = s.AbortUpload(ctx, "fails", id)
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// TestCountingPartOnce: a part opened again counts only past where it had
// reached; ReadPart checks the size.
func TestCountingPartOnce(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	var sent int64
	body := object.CountingPart(object.BytesPart(data), func(n int64) { sent += n })
	r, _ := body.Open()
	io.CopyN(io.Discard, r, 4000)
	r, _ = body.Open() // sent again from the start
	io.CopyN(io.Discard, r, 3000)
	if sent != 4000 {
		t.Fatalf("counted %d after 4000 then 3000 from the start, want 4000", sent)
	}
	io.Copy(io.Discard, r)
	if sent != int64(len(data)) {
		t.Fatalf("counted %d of %d", sent, len(data))
	}
	if b, err := object.ReadPart(body); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("ReadPart: %v", err)
	}
	short := object.PartBody{Size: 10, Open: func() (io.Reader, error) { return bytes.NewReader(data[:5]), nil }}
	if _, err := object.ReadPart(short); err == nil {
		t.Fatal("ReadPart of a body shorter than its size succeeded")
	}
}
