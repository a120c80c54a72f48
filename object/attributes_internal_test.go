package object

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

// attributesServer answers GetObjectAttributes with the page stored for the
// request's part number marker ("" for the first page), so tests can hand
// the client answers AWS could give, and answers it must not trust.
func attributesServer(t *testing.T, pages map[string]string) *S3 {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.Query().Has("attributes") {
			http.Error(w, "not GetObjectAttributes", http.StatusBadRequest)
			return
		}
		if got := r.Header.Get("X-Amz-Max-Parts"); got != "1000" {
			http.Error(w, "max parts "+got, http.StatusBadRequest)
			return
		}
		body, ok := pages[r.Header.Get("X-Amz-Part-Number-Marker")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<Error><Code>NoSuchKey</Code><Message>no page</Message></Error>`)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`+
			body+`</GetObjectAttributesResponse>`)
	}))
	t.Cleanup(srv.Close)
	s, err := NewS3(t.Context(), S3Config{Bucket: "b", Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("id", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(sum uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
}

func partXML(n int, size int64, sum uint32) string {
	return fmt.Sprintf(`<Part><ChecksumCRC32C>%s</ChecksumCRC32C><PartNumber>%d</PartNumber><Size>%d</Size></Part>`, b64(sum), n, size)
}

// composite is S3's checksum of a multipart object: the CRC-32C of the
// parts' big-endian CRC-32Cs, then "-" and the part count.
func composite(sums ...uint32) string {
	var b []byte
	for _, s := range sums {
		b = binary.BigEndian.AppendUint32(b, s)
	}
	return fmt.Sprintf("%s-%d", b64(crc32.Checksum(b, castagnoli)), len(sums))
}

func TestPartChecksumsPagesAndChecks(t *testing.T) {
	sums := []uint32{0x11111111, 0x22222222, 0x33333333}
	good := composite(sums...)
	header := func(size int64, checksum, typ string) string {
		return fmt.Sprintf(`<Checksum><ChecksumCRC32C>%s</ChecksumCRC32C><ChecksumType>%s</ChecksumType></Checksum><ObjectSize>%d</ObjectSize>`, checksum, typ, size)
	}
	parts := func(count, marker, next int, truncated bool, ps ...string) string {
		return fmt.Sprintf(`<ObjectParts><PartsCount>%d</PartsCount><PartNumberMarker>%d</PartNumberMarker><NextPartNumberMarker>%d</NextPartNumberMarker>`+
			`<MaxParts>1000</MaxParts><IsTruncated>%t</IsTruncated>%s</ObjectParts>`, count, marker, next, truncated, strings.Join(ps, ""))
	}
	p1, p2, p3 := partXML(1, 10, sums[0]), partXML(2, 20, sums[1]), partXML(3, 5, sums[2])

	// Three parts over three pages, as S3 pages them past 1,000 parts.
	s := attributesServer(t, map[string]string{
		"":  header(35, good, "COMPOSITE") + parts(3, 0, 1, true, p1),
		"1": header(35, good, "COMPOSITE") + parts(3, 1, 2, true, p2),
		"2": header(35, good, "COMPOSITE") + parts(3, 2, 3, false, p3),
	})
	got, err := s.PartChecksums(t.Context(), "k")
	want := []PartChecksum{{1, 10, sums[0]}, {2, 20, sums[1]}, {3, 5, sums[2]}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged parts: %v, %v; want %v", got, err, want)
	}

	// One object stored with PutObject: its full-object checksum.
	s = attributesServer(t, map[string]string{"": header(7, b64(0xdeadbeef), "FULL_OBJECT")})
	got, err = s.PartChecksums(t.Context(), "k")
	if err != nil || len(got) != 1 || got[0] != (PartChecksum{1, 7, 0xdeadbeef}) {
		t.Errorf("single part: %v, %v", got, err)
	}

	for _, c := range []struct {
		name, page string
		noSums     bool // the error is ErrNoChecksums
	}{
		{"no checksum at all", `<ObjectSize>7</ObjectSize>`, true},
		{"composite checksum without parts", header(35, good, "COMPOSITE"), true},
		{"parts without checksums", header(35, good, "COMPOSITE") + parts(3, 0, 0, false), true},
		{"a part without its checksum", header(35, good, "COMPOSITE") +
			parts(3, 0, 3, false, p1, p2, `<Part><PartNumber>3</PartNumber><Size>5</Size></Part>`), true},
		{"a part missing", header(35, good, "COMPOSITE") + parts(3, 0, 2, false, p1, p2), false},
		{"sizes that do not add up", header(36, good, "COMPOSITE") + parts(3, 0, 3, false, p1, p2, p3), false},
		{"parts out of order", header(35, good, "COMPOSITE") + parts(3, 0, 3, false, p2, p1, p3), false},
		{"a part checksum that is not in the composite", header(35, good, "COMPOSITE") +
			parts(3, 0, 3, false, p1, p2, partXML(3, 5, 0x33333334)), false},
		{"a composite of another part count", header(35, composite(sums[0], sums[1]), "COMPOSITE") + parts(3, 0, 3, false, p1, p2, p3), false},
		{"a malformed checksum", header(7, "not base64!", "FULL_OBJECT"), false},
		{"a checksum of the wrong length", header(7, "AAAA", "FULL_OBJECT"), false},
		{"no size", ``, false},
		{"paging that does not move", header(35, good, "COMPOSITE") + parts(3, 0, 0, true, p1), false},
	} {
		s := attributesServer(t, map[string]string{"": c.page})
		got, err := s.PartChecksums(t.Context(), "k")
		if err == nil {
			t.Errorf("%s: accepted: %v", c.name, got)
			continue
		}
		if errors.Is(err, ErrNoChecksums) != c.noSums {
			t.Errorf("%s: %v; ErrNoChecksums %v, want %v", c.name, err, errors.Is(err, ErrNoChecksums), c.noSums)
		}
	}
}
