// Package storetest is the conformance suite every object.Store passes: the
// in-memory store and the S3 store against a local Deep Archive server run
// the same cases, so that tests written against the memory store hold for S3.
package storetest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ogive-project/ogive/object"
)

// Harness tells the suite how to get stores and how time passes for them.
type Harness struct {
	// New returns an empty store that no other store New returns can see.
	New func(t *testing.T) object.Store
	// Wait lets d pass for the stores New returned for t: a fake clock
	// moves, a real server is waited for.
	Wait func(t *testing.T, d time.Duration)
	// RestoreDelay is how long a restore of tier Standard takes, and Day
	// how long one day of a restored copy lasts, as the stores are set up.
	// Against a server, Day needs to exceed RestoreDelay by a few seconds
	// for the suite to see a restored copy before it expires.
	RestoreDelay time.Duration
	Day          time.Duration
	// Prefixed, if not nil, returns two stores on one bucket whose key
	// prefixes are a and b. Stores without prefixes leave it nil.
	Prefixed func(t *testing.T, a, b string) (object.Store, object.Store)
}

// Run runs the suite. Its subtests run in parallel.
func Run(t *testing.T, h Harness) {
	if h.New == nil || h.Wait == nil || h.RestoreDelay <= 0 || h.Day <= 0 {
		t.Fatal("storetest: harness needs New, Wait, RestoreDelay and Day")
	}
	cases := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"PutHeadGetDelete", testPutHeadGetDelete},
		{"GetRanges", testGetRanges},
		{"DefaultStorageClass", testDefaultStorageClass},
		{"Metadata", testMetadata},
		{"Multipart", testMultipart},
		{"PutNeverReplaces", testPutNeverReplaces},
		{"CompleteNeverReplaces", testCompleteNeverReplaces},
		{"CompleteTwice", testCompleteTwice},
		{"MultipartDefaults", testMultipartDefaults},
		{"AbortUpload", testAbortUpload},
		{"CompleteRejectsWrongParts", testCompleteRejectsWrongParts},
		{"ListUploads", testListUploads},
		{"Restore", testRestore},
		{"RestoreNotArchived", testRestoreNotArchived},
		{"Missing", testMissing},
		{"InvalidRequests", testInvalidRequests},
		{"ListPages", testListPages},
		{"ListStops", testListStops},
		{"ListPrefix", testListPrefix},
		{"PrefixIsolation", testPrefixIsolation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, h)
		})
	}
}

var standard = object.PutOptions{StorageClass: "STANDARD"}

// data returns n bytes that differ with seed, so that a mixed-up part or
// range shows.
func data(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	_, _ = r.Read(b)
	return b
}

func testPutHeadGetDelete(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	body := data(1, 3000)
	if err := s.Put(ctx, "obj", body, standard); err != nil {
		t.Fatalf("Put: %v", err)
	}
	info := head(t, s, "obj")
	if info.Key != "obj" || info.Size != int64(len(body)) || info.StorageClass != "STANDARD" {
		t.Errorf("Head = %+v, want key obj, size %d, class STANDARD", info, len(body))
	}
	if info.ContentType != "application/x-ogive" {
		t.Errorf("Head content type = %q, want the default application/x-ogive", info.ContentType)
	}
	if info.Status != (object.RestoreStatus{State: object.StateAvailable}) {
		t.Errorf("Head status = %+v, want available", info.Status)
	}
	if info.LastModified.IsZero() {
		t.Error("Head has no LastModified")
	}
	if got := get(t, s, "obj", 0, -1); !bytes.Equal(got, body) {
		t.Errorf("Get returned %d bytes, not what was put", len(got))
	}

	if want := md5ETag(body); info.ETag != want {
		t.Errorf("Head ETag = %s, want the body's MD5 %s", info.ETag, want)
	}

	// An empty object is an object.
	if err := s.Put(ctx, "empty", nil, standard); err != nil {
		t.Fatalf("Put empty: %v", err)
	}
	if info := head(t, s, "empty"); info.Size != 0 {
		t.Errorf("empty object has size %d", info.Size)
	}
	if got := get(t, s, "empty", 0, -1); len(got) != 0 {
		t.Errorf("Get of empty object returned %d bytes", len(got))
	}

	if err := s.Delete(ctx, "obj"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Head(ctx, "obj"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Head after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "obj"); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil as in S3", err)
	}
	want := []string{"empty"}
	if got := keys(list(t, s)); !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

func testGetRanges(t *testing.T, h Harness) {
	s := h.New(t)
	body := data(3, 1000)
	if err := s.Put(t.Context(), "r", body, standard); err != nil {
		t.Fatalf("Put: %v", err)
	}
	for _, c := range []struct {
		offset, length int64
		want           []byte
	}{
		{0, -1, body},
		{0, 1000, body},
		{0, 1, body[:1]},
		{10, 100, body[10:110]},
		{999, -1, body[999:]},
		{500, -1, body[500:]},
		{990, 100, body[990:]}, // a range past the end stops at the end
		{42, 0, nil},
	} {
		if got := get(t, s, "r", c.offset, c.length); !bytes.Equal(got, c.want) {
			t.Errorf("Get(%d, %d) returned %d bytes, want %d", c.offset, c.length, len(got), len(c.want))
		}
	}
	if rc, err := s.Get(t.Context(), "r", 1000, -1); err == nil {
		rc.Close()
		t.Error("Get from offset 1000 of 1000 bytes succeeded")
	}
	if rc, err := s.Get(t.Context(), "r", -1, 10); err == nil {
		rc.Close()
		t.Error("Get from offset -1 succeeded")
	}
}

func testDefaultStorageClass(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	if err := s.Put(ctx, "deep", data(4, 100), object.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Put(ctx, "flex", data(5, 100), object.PutOptions{StorageClass: "GLACIER"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	archived := object.RestoreStatus{State: object.StateArchived}
	for key, class := range map[string]string{"deep": "DEEP_ARCHIVE", "flex": "GLACIER"} {
		info := head(t, s, key)
		if info.StorageClass != class || info.Status != archived {
			t.Errorf("Head %s: class %s, status %+v; want %s, archived", key, info.StorageClass, info.Status, class)
		}
		if _, err := s.Get(ctx, key, 0, -1); !errors.Is(err, object.ErrNotRestored) {
			t.Errorf("Get of archived %s: %v, want ErrNotRestored", key, err)
		}
		if _, err := s.Get(ctx, key, 10, 10); !errors.Is(err, object.ErrNotRestored) {
			t.Errorf("ranged Get of archived %s: %v, want ErrNotRestored", key, err)
		}
	}
	infos := list(t, s)
	if len(infos) != 2 {
		t.Fatalf("List returned %d objects, want 2", len(infos))
	}
	for _, info := range infos {
		want := map[string]string{"deep": "DEEP_ARCHIVE", "flex": "GLACIER"}[info.Key]
		if info.StorageClass != want || info.Status != archived || info.Size != 100 {
			t.Errorf("List entry %+v, want class %s, archived, 100 bytes", info, want)
		}
	}
}

func testMetadata(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	meta := map[string]string{"Ogive-Version": "1", "salt": "c2FsdA"}
	want := map[string]string{"ogive-version": "1", "salt": "c2FsdA"}
	if err := s.Put(ctx, "m", []byte("x"), object.PutOptions{Metadata: meta}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got := head(t, s, "m").Metadata; !maps.Equal(got, want) {
		t.Errorf("Head metadata after Put = %v, want %v", got, want)
	}
	id, err := s.CreateUpload(ctx, "mp", object.PutOptions{Metadata: meta})
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	p, err := s.UploadPart(ctx, "mp", id, 1, object.BytesPart([]byte("y")))
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	if err := s.CompleteUpload(ctx, "mp", id, []object.Part{p}); err != nil {
		t.Fatalf("CompleteUpload: %v", err)
	}
	if got := head(t, s, "mp").Metadata; !maps.Equal(got, want) {
		t.Errorf("Head metadata after multipart upload = %v, want %v", got, want)
	}
	if err := s.Put(ctx, "none", []byte("z"), object.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got := head(t, s, "none").Metadata; len(got) != 0 {
		t.Errorf("Head metadata of an object put without = %v", got)
	}
}

func testMultipart(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	bodies := [][]byte{data(6, object.MinPartSize), data(7, object.MinPartSize), data(8, 1234)}
	id, err := s.CreateUpload(ctx, "big", standard)
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	parts := make([]object.Part, len(bodies))
	for _, i := range []int{1, 0, 2} { // out of order, as concurrent uploads finish
		n := int32(i + 1)
		p, err := s.UploadPart(ctx, "big", id, n, object.BytesPart(bodies[i]))
		if err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
		if p.Number != n || p.Size != int64(len(bodies[i])) || p.ETag == "" {
			t.Errorf("UploadPart %d = %+v", n, p)
		}
		if want := crc32c(bodies[i]); p.ChecksumCRC32C != want {
			t.Errorf("part %d checksum %q, want %q", n, p.ChecksumCRC32C, want)
		}
		parts[i] = p
	}
	got, err := s.ListParts(ctx, "big", id)
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	if !slices.Equal(got, parts) {
		t.Errorf("ListParts = %+v, want %+v", got, parts)
	}
	if err := s.CompleteUpload(ctx, "big", id, parts); err != nil {
		t.Fatalf("CompleteUpload: %v", err)
	}
	if uploads := listUploads(t, s); len(uploads) != 0 {
		t.Errorf("ListUploads after CompleteUpload = %+v", uploads)
	}
	whole := bytes.Join(bodies, nil)
	info := head(t, s, "big")
	if info.Size != int64(len(whole)) || info.StorageClass != "STANDARD" {
		t.Errorf("Head = %+v, want size %d, STANDARD", info, len(whole))
	}
	if want := multipartETag(bodies); info.ETag != want {
		t.Errorf("Head ETag = %s, want S3's multipart ETag %s", info.ETag, want)
	}
	if l := listed(t, s, "big"); l.ETag != info.ETag {
		t.Errorf("List ETag = %s, Head ETag %s", l.ETag, info.ETag)
	}
	if got := get(t, s, "big", 0, -1); !bytes.Equal(got, whole) {
		t.Error("Get of the whole object differs from the parts")
	}
	// A range across the boundary of parts 1 and 2.
	off := int64(object.MinPartSize - 100)
	if got := get(t, s, "big", off, 300); !bytes.Equal(got, whole[off:off+300]) {
		t.Error("Get across a part boundary differs")
	}
}

// testPutNeverReplaces puts onto a key that holds an object: the Put is
// refused with ErrExists and the object stays as it was, every byte and
// attribute. Once the key is free again, a Put succeeds.
func testPutNeverReplaces(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	old := data(30, 3000)
	meta := map[string]string{"salt": "first"}
	if err := s.Put(ctx, "k", old, object.PutOptions{StorageClass: "STANDARD", Metadata: meta}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	before := head(t, s, "k")
	for name, body := range map[string][]byte{"other bytes": data(31, 10), "the same bytes": old, "nothing": nil} {
		err := s.Put(ctx, "k", body, object.PutOptions{StorageClass: "GLACIER", ContentType: "text/plain", Metadata: map[string]string{"salt": "second"}})
		if !errors.Is(err, object.ErrExists) {
			t.Errorf("Put of %s onto an existing key: %v, want ErrExists", name, err)
		}
	}
	unchanged(t, s, "k", before, old)

	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Put(ctx, "k", data(32, 10), standard); err != nil {
		t.Errorf("Put onto a deleted key: %v", err)
	}
}

// testCompleteNeverReplaces completes a multipart upload onto a key that
// an object took while the upload ran. The Complete is refused with
// ErrExists, the object stays as it was, and the upload is still there to
// be aborted: S3 says to start a new upload only after a 409, and its
// lifecycle rule for incomplete uploads is what removes one left behind.
func testCompleteNeverReplaces(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	bodies := [][]byte{data(33, object.MinPartSize), data(34, 100)}
	id, parts := uploadParts(t, s, "k", object.PutOptions{Metadata: map[string]string{"salt": "upload"}}, bodies)

	old := data(35, 500)
	if err := s.Put(ctx, "k", old, object.PutOptions{StorageClass: "STANDARD", Metadata: map[string]string{"salt": "first"}}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	before := head(t, s, "k")
	if err := s.CompleteUpload(ctx, "k", id, parts); !errors.Is(err, object.ErrExists) {
		t.Errorf("CompleteUpload onto an existing key: %v, want ErrExists", err)
	}
	unchanged(t, s, "k", before, old)
	if uploads := listUploads(t, s); len(uploads) != 1 || uploads[0].UploadID != id {
		t.Errorf("ListUploads after the refused Complete = %+v, want the upload %s", uploads, id)
	}
	if listed, err := s.ListParts(ctx, "k", id); err != nil || len(listed) != len(parts) {
		t.Errorf("ListParts after the refused Complete = %d parts, %v; want %d", len(listed), err, len(parts))
	}
	if err := s.AbortUpload(ctx, "k", id); err != nil {
		t.Errorf("AbortUpload after the refused Complete: %v", err)
	}
	unchanged(t, s, "k", before, old)
}

// testCompleteTwice completes two uploads of one key, then sends the first
// Complete again, as the SDK does when the answer to a Complete is lost.
// Only the first upload makes the object; the others are refused with
// ErrExists and change nothing.
func testCompleteTwice(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	first := [][]byte{data(36, object.MinPartSize), data(37, 10)}
	second := [][]byte{data(38, object.MinPartSize), data(39, 10)}
	id1, parts1 := uploadParts(t, s, "k", standard, first)
	id2, parts2 := uploadParts(t, s, "k", standard, second)
	if err := s.CompleteUpload(ctx, "k", id1, parts1); err != nil {
		t.Fatalf("CompleteUpload: %v", err)
	}
	before := head(t, s, "k")
	if before.ETag != multipartETag(first) {
		t.Errorf("ETag = %s, want the first upload's %s", before.ETag, multipartETag(first))
	}
	if err := s.CompleteUpload(ctx, "k", id2, parts2); !errors.Is(err, object.ErrExists) {
		t.Errorf("CompleteUpload of a second upload of the key: %v, want ErrExists", err)
	}
	if err := s.CompleteUpload(ctx, "k", id1, parts1); !errors.Is(err, object.ErrExists) {
		t.Errorf("CompleteUpload sent again: %v, want ErrExists", err)
	}
	unchanged(t, s, "k", before, bytes.Join(first, nil))
	if err := s.AbortUpload(ctx, "k", id2); err != nil {
		t.Errorf("AbortUpload of the refused upload: %v", err)
	}
}

// uploadParts creates an upload of key and uploads bodies as its parts.
func uploadParts(t *testing.T, s object.Store, key string, o object.PutOptions, bodies [][]byte) (string, []object.Part) {
	t.Helper()
	id, err := s.CreateUpload(t.Context(), key, o)
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	parts := make([]object.Part, len(bodies))
	for i, body := range bodies {
		if parts[i], err = s.UploadPart(t.Context(), key, id, int32(i+1), object.BytesPart(body)); err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
	}
	return id, parts
}

// unchanged checks that key still holds body, as Head described it before.
func unchanged(t *testing.T, s object.Store, key string, before object.Info, body []byte) {
	t.Helper()
	after := head(t, s, key)
	if after.Size != before.Size || after.ETag != before.ETag || after.StorageClass != before.StorageClass ||
		after.ContentType != before.ContentType || !maps.Equal(after.Metadata, before.Metadata) ||
		!after.LastModified.Equal(before.LastModified) {
		t.Errorf("Head %s = %+v, was %+v", key, after, before)
	}
	if got := get(t, s, key, 0, -1); !bytes.Equal(got, body) {
		t.Errorf("%s holds %d other bytes, want the %d it held", key, len(got), len(body))
	}
}

func testMultipartDefaults(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	id, err := s.CreateUpload(ctx, "deep", object.PutOptions{})
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	p, err := s.UploadPart(ctx, "deep", id, 1, object.BytesPart(data(9, 2000)))
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	if err := s.CompleteUpload(ctx, "deep", id, []object.Part{p}); err != nil {
		t.Fatalf("CompleteUpload: %v", err)
	}
	info := head(t, s, "deep")
	if info.StorageClass != "DEEP_ARCHIVE" || info.ContentType != "application/x-ogive" || info.Status.State != object.StateArchived {
		t.Errorf("Head = %+v, want DEEP_ARCHIVE, application/x-ogive, archived", info)
	}
	infos := list(t, s)
	if len(infos) != 1 || infos[0].StorageClass != "DEEP_ARCHIVE" || infos[0].Status.State != object.StateArchived {
		t.Errorf("List = %+v, want one archived DEEP_ARCHIVE object", infos)
	}
}

func testAbortUpload(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	id, err := s.CreateUpload(ctx, "gone", object.PutOptions{})
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	if _, err := s.UploadPart(ctx, "gone", id, 1, object.BytesPart(data(10, 100))); err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	if err := s.AbortUpload(ctx, "gone", id); err != nil {
		t.Fatalf("AbortUpload: %v", err)
	}
	if uploads := listUploads(t, s); len(uploads) != 0 {
		t.Errorf("ListUploads after AbortUpload = %+v", uploads)
	}
	if _, err := s.ListParts(ctx, "gone", id); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("ListParts of an aborted upload: %v, want ErrNotFound", err)
	}
	if _, err := s.UploadPart(ctx, "gone", id, 2, object.BytesPart(data(11, 100))); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("UploadPart to an aborted upload: %v, want ErrNotFound", err)
	}
	if _, err := s.Head(ctx, "gone"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Head of an aborted upload's key: %v, want ErrNotFound", err)
	}
}

func testCompleteRejectsWrongParts(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	id, err := s.CreateUpload(ctx, "k", standard)
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	p1, err := s.UploadPart(ctx, "k", id, 1, object.BytesPart(data(12, 100)))
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	p2, err := s.UploadPart(ctx, "k", id, 2, object.BytesPart(data(13, 100)))
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	wrongETag := p1
	wrongETag.ETag = `"00000000000000000000000000000000"`
	missing := p1
	missing.Number = 3
	for name, parts := range map[string][]object.Part{
		"wrong etag":             {wrongETag},
		"part never uploaded":    {p1, missing},
		"part under 5 MiB first": {p1, p2},
	} {
		if err := s.CompleteUpload(ctx, "k", id, parts); err == nil {
			t.Errorf("CompleteUpload with %s succeeded", name)
		}
	}
	if _, err := s.Head(ctx, "k"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Head after failed completions: %v, want ErrNotFound", err)
	}
	if err := s.AbortUpload(ctx, "k", id); err != nil {
		t.Errorf("AbortUpload: %v", err)
	}
}

func testListUploads(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	if uploads := listUploads(t, s); len(uploads) != 0 {
		t.Fatalf("ListUploads of a new store = %+v", uploads)
	}
	want := map[string]string{}
	for _, key := range []string{"b", "a", "c"} {
		id, err := s.CreateUpload(ctx, key, object.PutOptions{})
		if err != nil {
			t.Fatalf("CreateUpload %s: %v", key, err)
		}
		want[key] = id
	}
	got := map[string]string{}
	for _, u := range listUploads(t, s) {
		got[u.Key] = u.UploadID
		if u.Initiated.IsZero() {
			t.Errorf("upload %s has no Initiated time", u.Key)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("ListUploads = %v, want %v", got, want)
	}
	for key, id := range want {
		if err := s.AbortUpload(ctx, key, id); err != nil {
			t.Errorf("AbortUpload %s: %v", key, err)
		}
	}
}

func testRestore(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	body := data(14, 500)
	if err := s.Put(ctx, "a", body, object.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	// Time for a server to act on a restore that is due. Expiry dates
	// travel as HTTP dates, in whole seconds, so a second more is waited
	// out before expecting a copy to be gone.
	slack := h.RestoreDelay/4 + 250*time.Millisecond

	restore(t, s, "a", 1, object.RestoreAccepted)
	if st := head(t, s, "a").Status; st.State != object.StateRestoring {
		t.Errorf("Head just after Restore: %+v, want restoring", st)
	}
	if st := listed(t, s, "a").Status; st.State != object.StateRestoring {
		t.Errorf("List just after Restore: %+v, want restoring", st)
	}
	restore(t, s, "a", 1, object.RestoreInProgress)
	if _, err := s.Get(ctx, "a", 0, -1); !errors.Is(err, object.ErrNotRestored) {
		t.Errorf("Get while restoring: %v, want ErrNotRestored", err)
	}

	h.Wait(t, h.RestoreDelay+slack)
	st := head(t, s, "a").Status
	if st.State != object.StateRestored || st.Expiry.IsZero() {
		t.Fatalf("Head after the restore delay: %+v, want restored with an expiry", st)
	}
	if ls := listed(t, s, "a").Status; ls.State != object.StateRestored || ls.Expiry.Sub(st.Expiry).Abs() > time.Second {
		t.Errorf("List after the restore delay: %+v, want restored until about %v", ls, st.Expiry)
	}
	if got := get(t, s, "a", 0, -1); !bytes.Equal(got, body) {
		t.Error("Get of the restored copy differs from what was put")
	}
	if got := get(t, s, "a", 100, 50); !bytes.Equal(got, body[100:150]) {
		t.Error("ranged Get of the restored copy differs from what was put")
	}
	if info := head(t, s, "a"); info.StorageClass != "DEEP_ARCHIVE" {
		t.Errorf("a restored object reports class %s, want DEEP_ARCHIVE", info.StorageClass)
	}

	restore(t, s, "a", 2, object.RestoreExtended)
	extended := head(t, s, "a").Status
	if extended.State != object.StateRestored || !extended.Expiry.After(st.Expiry) {
		t.Errorf("Head after extending: %+v, want restored until after %v", extended, st.Expiry)
	}

	h.Wait(t, 2*h.Day+slack+time.Second)
	if _, err := s.Get(ctx, "a", 0, -1); !errors.Is(err, object.ErrNotRestored) {
		t.Errorf("Get after the copy expired: %v, want ErrNotRestored", err)
	}
	if st := head(t, s, "a").Status; st.State != object.StateArchived {
		t.Errorf("Head after the copy expired: %+v, want archived", st)
	}
	restore(t, s, "a", 1, object.RestoreAccepted)
}

func testRestoreNotArchived(t *testing.T, h Harness) {
	s := h.New(t)
	if err := s.Put(t.Context(), "std", []byte("x"), standard); err != nil {
		t.Fatalf("Put: %v", err)
	}
	restore(t, s, "std", 1, object.RestoreNotArchived)
	if st := head(t, s, "std").Status; st.State != object.StateAvailable {
		t.Errorf("Head after Restore of a STANDARD object: %+v, want available", st)
	}
}

func testMissing(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	if _, err := s.Head(ctx, "nope"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Head: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "nope", 0, -1); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Get: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "nope", 5, 10); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("ranged Get: %v, want ErrNotFound", err)
	}
	if _, err := s.Restore(ctx, "nope", 1, object.TierBulk); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("Restore: %v, want ErrNotFound", err)
	}
	if _, err := s.ListParts(ctx, "nope", "no-such-upload"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("ListParts: %v, want ErrNotFound", err)
	}
	if err := s.AbortUpload(ctx, "nope", "no-such-upload"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("AbortUpload: %v, want ErrNotFound", err)
	}
	if infos := list(t, s); len(infos) != 0 {
		t.Errorf("List of a new store = %+v", infos)
	}
}

func testInvalidRequests(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	bad := object.PutOptions{StorageClass: "DEEP_FREEZE"}
	if err := s.Put(ctx, "k", []byte("x"), bad); !errors.Is(err, object.ErrInvalidStorageClass) {
		t.Errorf("Put with class DEEP_FREEZE: %v, want ErrInvalidStorageClass", err)
	}
	if _, err := s.CreateUpload(ctx, "k", bad); !errors.Is(err, object.ErrInvalidStorageClass) {
		t.Errorf("CreateUpload with class DEEP_FREEZE: %v, want ErrInvalidStorageClass", err)
	}
	if err := s.Put(ctx, "k", []byte("x"), object.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := s.Restore(ctx, "k", 1, "Glacial"); !errors.Is(err, object.ErrInvalidTier) {
		t.Errorf("Restore with tier Glacial: %v, want ErrInvalidTier", err)
	}
	if _, err := s.Restore(ctx, "k", 1, object.TierExpedited); !errors.Is(err, object.ErrInvalidTier) {
		t.Errorf("Expedited restore of a DEEP_ARCHIVE object: %v, want ErrInvalidTier", err)
	}
	if _, err := s.Restore(ctx, "k", 0, object.TierBulk); err == nil {
		t.Error("Restore for 0 days succeeded")
	}
	if err := s.Put(ctx, "", []byte("x"), object.PutOptions{}); err == nil {
		t.Error("Put with an empty key succeeded")
	}
	if err := s.Delete(ctx, ""); err == nil {
		t.Error("Delete with an empty key succeeded")
	}
	id, err := s.CreateUpload(ctx, "mp", object.PutOptions{})
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	for _, n := range []int32{0, object.MaxParts + 1} {
		if _, err := s.UploadPart(ctx, "mp", id, n, object.BytesPart([]byte("x"))); err == nil {
			t.Errorf("UploadPart number %d succeeded", n)
		}
	}
	if err := s.AbortUpload(ctx, "mp", id); err != nil {
		t.Errorf("AbortUpload: %v", err)
	}
	if infos := list(t, s); len(infos) != 1 || infos[0].Key != "k" {
		t.Errorf("List after invalid requests = %+v, want only k", infos)
	}
}

// testListPages lists more objects than S3 returns in one page.
func testListPages(t *testing.T, h Harness) {
	const n = 1100
	s := h.New(t)
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("obj-%04d", i)
	}
	parallel(t, want, func(key string) error {
		return s.Put(t.Context(), key, []byte(key), standard)
	})
	infos := list(t, s)
	if got := keys(infos); !slices.Equal(got, want) {
		t.Fatalf("List returned %d keys (first %q), want %d in order", len(got), first(got), n)
	}
	for _, info := range infos {
		if info.Size != int64(len(info.Key)) || info.StorageClass != "STANDARD" || info.Status.State != object.StateAvailable {
			t.Fatalf("List entry %+v, want size %d, STANDARD, available", info, len(info.Key))
		}
	}
	if got := keys(listPrefix(t, s, "obj-")); !slices.Equal(got, want) {
		t.Fatalf("ListPrefix(obj-) returned %d keys (first %q), want %d in order", len(got), first(got), n)
	}
	if got := keys(listPrefix(t, s, "obj-10")); !slices.Equal(got, want[1000:]) {
		t.Fatalf("ListPrefix(obj-10) returned %d keys (first %q), want %d from obj-1000", len(got), first(got), n-1000)
	}
}

func testListStops(t *testing.T, h Harness) {
	s := h.New(t)
	for _, key := range []string{"a", "b", "c"} {
		if err := s.Put(t.Context(), key, nil, standard); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	stop := errors.New("stop")
	var seen []string
	err := s.List(t.Context(), func(info object.Info) error {
		seen = append(seen, info.Key)
		if info.Key == "b" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("List called back for %q, want a, b", seen)
	}
}

func testListPrefix(t *testing.T, h Harness) {
	s := h.New(t)
	all := []string{"a", "ab", "ab-", "abc", "abd", "ac", "b", "ba"}
	for _, key := range all {
		if err := s.Put(t.Context(), key, []byte(key), standard); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"ab", []string{"ab", "ab-", "abc", "abd"}},
		{"abc", []string{"abc"}},
		{"b", []string{"b", "ba"}},
		{"abe", nil},
		{"z", nil},
		{"", all},
	} {
		infos := listPrefix(t, s, c.prefix)
		if got := keys(infos); !slices.Equal(got, c.want) {
			t.Errorf("ListPrefix(%q) returned %q, want %q", c.prefix, got, c.want)
		}
		for _, info := range infos {
			if info.Size != int64(len(info.Key)) || info.StorageClass != "STANDARD" || info.Status.State != object.StateAvailable {
				t.Errorf("ListPrefix entry %+v, want size %d, STANDARD, available", info, len(info.Key))
			}
		}
	}
	stop := errors.New("stop")
	var seen []string
	err := s.ListPrefix(t.Context(), "ab", func(info object.Info) error {
		seen = append(seen, info.Key)
		if info.Key == "ab-" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(seen, []string{"ab", "ab-"}) {
		t.Errorf("ListPrefix returned %v after %q, want the callback's error after ab, ab-", err, seen)
	}
}

func testPrefixIsolation(t *testing.T, h Harness) {
	if h.Prefixed == nil {
		t.Skip("store has no key prefix")
	}
	ctx := t.Context()
	a, ab := h.Prefixed(t, "a", "ab")
	if err := a.Put(ctx, "x", []byte("in a"), standard); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := ab.Put(ctx, "x", []byte("in ab"), standard); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := ab.Put(ctx, "only-ab", nil, standard); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := ab.CreateUpload(ctx, "up", object.PutOptions{}); err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	if got := string(get(t, a, "x", 0, -1)); got != "in a" {
		t.Errorf("store a reads %q", got)
	}
	if got := string(get(t, ab, "x", 0, -1)); got != "in ab" {
		t.Errorf("store ab reads %q", got)
	}
	if got := keys(list(t, a)); !slices.Equal(got, []string{"x"}) {
		t.Errorf("store a lists %q, want only x", got)
	}
	if got := keys(list(t, ab)); !slices.Equal(got, []string{"only-ab", "x"}) {
		t.Errorf("store ab lists %q, want only-ab, x", got)
	}
	if got := keys(listPrefix(t, a, "")); !slices.Equal(got, []string{"x"}) {
		t.Errorf("store a lists %q by the empty prefix, want only x", got)
	}
	if got := keys(listPrefix(t, a, "b")); len(got) != 0 {
		t.Errorf("store a lists %q by prefix b, want none (ab's keys are not a's)", got)
	}
	if got := keys(listPrefix(t, ab, "o")); !slices.Equal(got, []string{"only-ab"}) {
		t.Errorf("store ab lists %q by prefix o, want only-ab", got)
	}
	if _, err := a.Head(ctx, "only-ab"); !errors.Is(err, object.ErrNotFound) {
		t.Errorf("store a sees only-ab: %v", err)
	}
	if uploads := listUploads(t, a); len(uploads) != 0 {
		t.Errorf("store a lists uploads %+v", uploads)
	}
	if uploads := listUploads(t, ab); len(uploads) != 1 || uploads[0].Key != "up" {
		t.Errorf("store ab lists uploads %+v, want one of key up", uploads)
	}
}

func head(t *testing.T, s object.Store, key string) object.Info {
	t.Helper()
	info, err := s.Head(t.Context(), key)
	if err != nil {
		t.Fatalf("Head %s: %v", key, err)
	}
	return info
}

func get(t *testing.T, s object.Store, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key, offset, length)
	if err != nil {
		t.Fatalf("Get %s [%d, %d]: %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get %s [%d, %d]: read: %v", key, offset, length, err)
	}
	return b
}

func restore(t *testing.T, s object.Store, key string, days int32, want object.RestoreResult) {
	t.Helper()
	got, err := s.Restore(t.Context(), key, days, object.TierStandard)
	if err != nil {
		t.Fatalf("Restore %s: %v", key, err)
	}
	if got != want {
		t.Errorf("Restore %s = %v, want %v", key, got, want)
	}
}

func list(t *testing.T, s object.Store) []object.Info {
	t.Helper()
	var infos []object.Info
	if err := s.List(t.Context(), func(info object.Info) error {
		infos = append(infos, info)
		return nil
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	return infos
}

func listPrefix(t *testing.T, s object.Store, prefix string) []object.Info {
	t.Helper()
	var infos []object.Info
	if err := s.ListPrefix(t.Context(), prefix, func(info object.Info) error {
		infos = append(infos, info)
		return nil
	}); err != nil {
		t.Fatalf("ListPrefix(%q): %v", prefix, err)
	}
	return infos
}

func listed(t *testing.T, s object.Store, key string) object.Info {
	t.Helper()
	for _, info := range list(t, s) {
		if info.Key == key {
			return info
		}
	}
	t.Fatalf("List has no %s", key)
	return object.Info{}
}

func listUploads(t *testing.T, s object.Store) []object.MultipartUpload {
	t.Helper()
	uploads, err := s.ListUploads(t.Context())
	if err != nil {
		t.Fatalf("ListUploads: %v", err)
	}
	return uploads
}

func keys(infos []object.Info) []string {
	ks := make([]string, len(infos))
	for i, info := range infos {
		ks[i] = info.Key
	}
	return ks
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// parallel runs fn for every key, 16 at a time, which keeps a suite run
// against a server quick.
func parallel(t *testing.T, keys []string, fn func(key string) error) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		limit = make(chan struct{}, 16)
	)
	for _, key := range keys {
		limit <- struct{}{}
		wg.Go(func() {
			defer func() { <-limit }()
			if err := fn(key); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// md5ETag is the ETag S3 gives an object put in one request, computed
// apart from the package.
func md5ETag(b []byte) string {
	sum := md5.Sum(b)
	return fmt.Sprintf(`"%x"`, sum)
}

// multipartETag is the ETag S3 gives an object completed from parts with
// the given bodies: the MD5 of their MD5s, a dash and their number.
func multipartETag(bodies [][]byte) string {
	var sums []byte
	for _, b := range bodies {
		sum := md5.Sum(b)
		sums = append(sums, sum[:]...)
	}
	return fmt.Sprintf(`"%x-%d"`, md5.Sum(sums), len(bodies))
}

// crc32c is the checksum S3 reports for b, computed apart from the package.
func crc32c(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return base64.StdEncoding.EncodeToString(sum[:])
}
