package object

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
)

func TestMultipartETag(t *testing.T) {
	// Three parts of 5 MiB of "A", "B" and "C": the ETag that ceph's
	// s3-tests expect of S3 for them.
	var parts []Part
	for _, c := range []byte("ABC") {
		parts = append(parts, Part{ETag: bodyETag(bytes.Repeat([]byte{c}, 5<<20))})
	}
	if got, ok := multipartETag(parts); !ok || got != `"b2add96cc9702bbf4efb0ccdfc6b7747-3"` {
		t.Errorf("multipartETag = %s, %v; want \"b2add96cc9702bbf4efb0ccdfc6b7747-3\"", got, ok)
	}
	// Unquoted and upper-case part ETags are MD5s all the same.
	parts[1].ETag = "3C2E8A1B1E6CBB8C2EAC9A2A6B1F3D4E"
	if _, ok := multipartETag(parts); !ok {
		t.Error("an unquoted upper-case MD5 is not taken for one")
	}
	for _, etag := range []string{`"abc"`, "", `"b2add96cc9702bbf4efb0ccdfc6b7747-3"`, `"zz2e8a1b1e6cbb8c2eac9a2a6b1f3d4e"`} {
		parts[1].ETag = etag
		if got, ok := multipartETag(parts); ok {
			t.Errorf("part ETag %s: multipartETag = %s, want none", etag, got)
		}
	}
}

func TestSameETag(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{`"abc-2"`, `"abc-2"`, true},
		{`"abc-2"`, "abc-2", true},
		{`"ABC-2"`, `"abc-2"`, true},
		{`"abc-2"`, `"abc-3"`, false},
		{`"abc"`, `"abc-1"`, false},
		{"", `"abc"`, false},
	} {
		if got := sameETag(c.a, c.b); got != c.same {
			t.Errorf("sameETag(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

func TestMatchETag(t *testing.T) {
	a, b := md5.Sum([]byte("part one")), md5.Sum([]byte("part two"))
	parts := []Part{{ETag: `"` + hex.EncodeToString(a[:]) + `"`}, {ETag: hex.EncodeToString(b[:])}}
	multi, _ := multipartETag(parts)
	for _, c := range []struct {
		etag     string
		sums     [][md5.Size]byte
		same, ok bool
	}{
		{bodyETag([]byte("part one")), [][md5.Size]byte{a}, true, true},
		{strings.ToUpper(hex.EncodeToString(a[:])), [][md5.Size]byte{a}, true, true},
		{bodyETag([]byte("part one")), [][md5.Size]byte{b}, false, true},
		{bodyETag([]byte("part one")), [][md5.Size]byte{a, b}, false, true},
		{multi, [][md5.Size]byte{a, b}, true, true},
		{multi, [][md5.Size]byte{b, a}, false, true},
		{multi, [][md5.Size]byte{a}, false, true},
		{strings.Replace(multi, "-2", "-3", 1), [][md5.Size]byte{a, b}, false, true},
		{`"kms-opaque-etag"`, [][md5.Size]byte{a}, false, false},
		{"", [][md5.Size]byte{a}, false, false},
		{`"` + hex.EncodeToString(a[:15]) + `"`, [][md5.Size]byte{a}, false, false},
	} {
		if same, ok := MatchETag(c.etag, c.sums); same != c.same || ok != c.ok {
			t.Errorf("MatchETag(%s, %d parts) = %t, %t; want %t, %t", c.etag, len(c.sums), same, ok, c.same, c.ok)
		}
	}
}
