package s3local

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func listAll(t *testing.T, c *s3.Client, bucket, prefix string, withRestore bool) (objects []types.Object, pages []*s3.ListObjectsV2Output) {
	t.Helper()
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if withRestore {
		in.OptionalObjectAttributes = []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus}
	}
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, out)
		objects = append(objects, out.Contents...)
	}
	return objects, pages
}

func TestListingRestoreStatus(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	ctx := t.Context()
	keys := map[string]types.StorageClass{
		"never":    types.StorageClassDeepArchive,
		"ongoing":  types.StorageClassDeepArchive,
		"restored": types.StorageClassDeepArchive,
		"glacier":  types.StorageClassGlacier,
		"standard": "",
	}
	for name, class := range keys {
		put(t, c, s.Bucket, testKey(t, name), class, []byte(name))
	}
	status, restoredAt, err := timedRestore(ctx, c, s.Bucket, testKey(t, "restored"), restoreOpts{days: 1, tier: types.TierStandard})
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("restore: %d %v", status, err)
	}
	waitUntil(restoredAt.add(testTiers[tierStandard]).to.Add(200 * time.Millisecond))
	status, ongoingAt, err := timedRestore(ctx, c, s.Bucket, testKey(t, "ongoing"), restoreOpts{days: 1, tier: types.TierBulk})
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("restore: %d %v", status, err)
	}

	// Both restores are in the state wanted until the earlier of the
	// ongoing one finishing and the restored one expiring.
	deadline := ongoingAt.add(testTiers[tierBulk]).from
	if exp := restoredAt.add(testTiers[tierStandard] + testDay).from; exp.Before(deadline) {
		deadline = exp
	}
	wantExpiry := restoredAt.add(testTiers[tierStandard] + testDay)
	var objects []types.Object
	before(t, deadline, "listing with RestoreStatus", func() (problems []string) {
		objects, _ = listAll(t, c, s.Bucket, testKey(t, ""), true)
		if len(objects) != len(keys) {
			return []string{fmt.Sprintf("listed %d objects, want %d", len(objects), len(keys))}
		}
		for _, o := range objects {
			name := strings.TrimPrefix(*o.Key, testKey(t, ""))
			rs := o.RestoreStatus
			switch name {
			case "ongoing":
				if rs == nil || !aws.ToBool(rs.IsRestoreInProgress) || rs.RestoreExpiryDate != nil {
					problems = append(problems, fmt.Sprintf("ongoing: RestoreStatus %+v, want in progress without expiry", rs))
				}
			case "restored":
				// Milliseconds in the XML.
				if rs == nil || rs.IsRestoreInProgress == nil || *rs.IsRestoreInProgress || rs.RestoreExpiryDate == nil ||
					!wantExpiry.holds(*rs.RestoreExpiryDate, time.Millisecond) {
					problems = append(problems, fmt.Sprintf("restored: RestoreStatus %+v, want done, expiring within %v", rs, wantExpiry))
				}
			default:
				if rs != nil {
					problems = append(problems, fmt.Sprintf("%s: RestoreStatus %+v, want none", name, rs))
				}
			}
		}
		return problems
	})
	for _, o := range objects {
		name := strings.TrimPrefix(*o.Key, testKey(t, ""))
		wantClass := types.ObjectStorageClass(keys[name])
		if wantClass == "" {
			wantClass = types.ObjectStorageClassStandard
		}
		if o.StorageClass != wantClass {
			t.Errorf("%s: class %q, want %q", name, o.StorageClass, wantClass)
		}
	}

	// Without the optional attribute, no RestoreStatus, as in S3.
	objects, _ = listAll(t, c, s.Bucket, testKey(t, ""), false)
	for _, o := range objects {
		if o.RestoreStatus != nil {
			t.Errorf("%s: RestoreStatus %+v without asking for it", *o.Key, o.RestoreStatus)
		}
	}
}

func TestListingOf1100KeysPages(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	const n = 1100
	prefix := testKey(t, "")
	key := func(i int) string { return fmt.Sprintf("%sk%05d", prefix, i) }
	class := func(i int) types.StorageClass {
		if i%3 == 0 {
			return types.StorageClassDeepArchive
		}
		return ""
	}
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
					Bucket: aws.String(s.Bucket), Key: aws.String(key(i)),
					Body: strings.NewReader("x"), StorageClass: class(i),
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// One restore on the second page shows RestoreStatus survives paging.
	// Five days (15 s) outlast the listing however slow the machine.
	if _, err := restore(t.Context(), c, s.Bucket, key(1050), restoreOpts{days: 5, tier: types.TierBulk}); err != nil {
		t.Fatal(err)
	}

	objects, pages := listAll(t, c, s.Bucket, prefix, true)
	if len(pages) != 2 {
		t.Fatalf("%d pages, want 2", len(pages))
	}
	first, second := pages[0], pages[1]
	if !aws.ToBool(first.IsTruncated) || aws.ToString(first.NextContinuationToken) == "" || aws.ToInt32(first.KeyCount) != 1000 {
		t.Errorf("first page: truncated %v, next token %q, key count %d",
			aws.ToBool(first.IsTruncated), aws.ToString(first.NextContinuationToken), aws.ToInt32(first.KeyCount))
	}
	if aws.ToBool(second.IsTruncated) || aws.ToString(second.ContinuationToken) != aws.ToString(first.NextContinuationToken) ||
		aws.ToInt32(second.KeyCount) != n-1000 || aws.ToString(second.Prefix) != prefix {
		t.Errorf("second page: truncated %v, token %q, key count %d, prefix %q",
			aws.ToBool(second.IsTruncated), aws.ToString(second.ContinuationToken), aws.ToInt32(second.KeyCount), aws.ToString(second.Prefix))
	}
	if len(objects) != n {
		t.Fatalf("listed %d keys, want %d", len(objects), n)
	}
	for i, o := range objects {
		if *o.Key != key(i) {
			t.Fatalf("key %d is %s, want %s", i, *o.Key, key(i))
		}
		want := types.ObjectStorageClass(class(i))
		if want == "" {
			want = types.ObjectStorageClassStandard
		}
		if o.StorageClass != want {
			t.Errorf("%s: class %q, want %q", *o.Key, o.StorageClass, want)
		}
		if got := o.RestoreStatus != nil; got != (i == 1050) {
			t.Errorf("%s: RestoreStatus %+v", *o.Key, o.RestoreStatus)
		}
	}
}

func TestListingKeepsCommonPrefixes(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	for _, k := range []string{"d1/a", "d1/b", "d2/c", "top"} {
		put(t, c, s.Bucket, testKey(t, k), types.StorageClassDeepArchive, []byte(k))
	}
	out, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{
		Bucket: aws.String(s.Bucket), Prefix: aws.String(testKey(t, "")), Delimiter: aws.String("/"),
		OptionalObjectAttributes: []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus},
	})
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, p := range out.CommonPrefixes {
		prefixes = append(prefixes, strings.TrimPrefix(aws.ToString(p.Prefix), testKey(t, "")))
	}
	if strings.Join(prefixes, ",") != "d1/,d2/" || aws.ToString(out.Delimiter) != "/" {
		t.Errorf("common prefixes %v, delimiter %q", prefixes, aws.ToString(out.Delimiter))
	}
	if len(out.Contents) != 1 || out.Contents[0].StorageClass != types.ObjectStorageClassDeepArchive {
		t.Errorf("contents %+v, want the one DEEP_ARCHIVE top-level key", out.Contents)
	}
}

// A listing with every element S3 may send.
const fullListing = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>ogive</Name><Prefix>p/</Prefix><ContinuationToken>tok1</ContinuationToken><NextContinuationToken>tok2</NextContinuationToken><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><StartAfter>p/0</StartAfter>
<Contents><Key>p/a &amp; b</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&#34;abc-2&#34;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType><Size>10</Size><StorageClass>STANDARD</StorageClass><Owner><ID>o1</ID><DisplayName>me</DisplayName></Owner></Contents>
<Contents><Key>p/ongoing</Key><Size>0</Size><Owner><ID>o1</ID></Owner></Contents>
<Contents><Key>p/restored</Key><Size>1</Size><StorageClass>STANDARD</StorageClass><RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress></RestoreStatus></Contents>
<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes><EncodingType>plain</EncodingType></ListBucketResult>`

func TestRewriteListingKeepsEveryOtherElement(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	expiry := now.Add(time.Hour)
	records := map[string]struct {
		class   string
		restore *restoreWindow
	}{
		"p/a & b":    {classDeepArchive, nil},
		"p/ongoing":  {classGlacier, &restoreWindow{Ready: now.Add(time.Minute), Expiry: expiry}},
		"p/restored": {classDeepArchive, &restoreWindow{Ready: now.Add(-time.Minute), Expiry: expiry}},
	}
	describe := func(key string) (string, *restoreWindow) {
		r, ok := records[key]
		if !ok {
			t.Errorf("asked about unknown key %q", key)
			return classStandard, nil
		}
		return r.class, r.restore
	}
	out, err := rewriteListing([]byte(fullListing), describe, now, true)
	if err != nil {
		t.Fatal(err)
	}

	// Apart from StorageClass and RestoreStatus, the documents match
	// element for element.
	in, got := elementTree(t, []byte(fullListing)), elementTree(t, out)
	if strings.Join(in, "\n") != strings.Join(got, "\n") {
		t.Errorf("elements changed:\n got %q\nwant %q", got, in)
	}

	var res struct {
		XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
		Contents []struct {
			Key           string
			StorageClass  string
			RestoreStatus *struct {
				IsRestoreInProgress bool
				RestoreExpiryDate   string
			}
		}
	}
	if err := xml.Unmarshal(out, &res); err != nil {
		t.Fatalf("rewritten listing does not parse: %v\n%s", err, out)
	}
	want := []string{
		"p/a & b DEEP_ARCHIVE <nil>",
		"p/ongoing GLACIER &{true }",
		"p/restored DEEP_ARCHIVE &{false 2026-05-01T13:00:00.000Z}",
	}
	for i, c := range res.Contents {
		if got := fmt.Sprintf("%s %s %v", c.Key, c.StorageClass, c.RestoreStatus); got != want[i] {
			t.Errorf("entry %d: %s, want %s", i, got, want[i])
		}
	}
	if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)) {
		t.Errorf("header or namespace changed: %.120s", out)
	}

	// Without the optional attribute, RestoreStatus goes, including the one
	// that came in.
	out, err = rewriteListing([]byte(fullListing), describe, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("RestoreStatus")) {
		t.Errorf("RestoreStatus without the optional attribute:\n%s", out)
	}
}

func TestRewriteListingDecodesURLEncodedKeys(t *testing.T) {
	doc := `<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%20b%2Bc</Key></Contents></ListBucketResult>`
	var asked string
	_, err := rewriteListing([]byte(doc), func(key string) (string, *restoreWindow) {
		asked = key
		return classStandard, nil
	}, time.Now(), false)
	if err != nil || asked != "a b+c" {
		t.Fatalf("looked up %q (%v), want %q", asked, err, "a b+c")
	}
}

func TestRewriteListingRejectsBrokenDocuments(t *testing.T) {
	none := func(string) (string, *restoreWindow) { return classStandard, nil }
	for _, doc := range []string{
		`<ListBucketResult><Contents><Key>a</Key>`,
		`<ListBucketResult><Contents><Key>a</Contents></ListBucketResult>`,
		`<ListBucketResult>`,
		`<ListBucketResult></Other>`,
	} {
		if out, err := rewriteListing([]byte(doc), none, time.Now(), true); err == nil {
			t.Errorf("%s: accepted, gave %s", doc, out)
		}
	}
}

// elementTree lists a document's elements with their paths and text,
// leaving out StorageClass and RestoreStatus.
func elementTree(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var path, lines []string
	skip := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return lines
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			path = append(path, tk.Name.Local)
			if skip > 0 || tk.Name.Local == "StorageClass" || tk.Name.Local == "RestoreStatus" {
				skip++
			}
		case xml.EndElement:
			path = path[:len(path)-1]
			if skip > 0 {
				skip--
			}
		case xml.CharData:
			if skip == 0 && len(bytes.TrimSpace(tk)) > 0 {
				lines = append(lines, strings.Join(path, "/")+"="+string(tk))
			}
		}
	}
}

// A listing answer must keep a correct Content-Length after the rewrite.
func TestListingContentLength(t *testing.T) {
	t.Parallel()
	s := shared(t)
	put(t, clientFor(s), s.Bucket, testKey(t, "obj"), types.StorageClassDeepArchive, []byte("x"))
	resp := sendSigned(t, s, s.SecretKey, http.MethodGet, "/"+s.Bucket+"?list-type=2&prefix="+testKey(t, ""), nil, "")
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(b)) || !bytes.Contains(b, []byte("<StorageClass>DEEP_ARCHIVE</StorageClass>")) {
		t.Fatalf("status %d, Content-Length %d for %d bytes:\n%s", resp.StatusCode, resp.ContentLength, len(b), b)
	}
}
