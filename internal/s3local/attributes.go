package s3local

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// defaultMaxParts is how many parts GetObjectAttributes lists when
// x-amz-max-parts does not say, as on AWS.
const defaultMaxParts = 1000

// completeRequest is the body of CompleteMultipartUpload, as far as the
// layer reads it: which parts, in which order.
type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int32 `xml:"PartNumber"`
	} `xml:"Part"`
}

// readCompleteBody reads the body of a CompleteMultipartUpload, a short
// list of parts, and puts an identical one back: it goes on to versitygw
// byte for byte, so its signature holds.
func readCompleteBody(r *http.Request) ([]byte, *s3Error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRewrittenBody+1))
	if err != nil {
		return nil, &s3Error{Status: http.StatusBadRequest, Code: "IncompleteBody",
			Message: "You did not provide the number of bytes specified by the Content-Length HTTP header."}
	}
	if len(body) > maxRewrittenBody {
		return nil, &s3Error{Status: http.StatusBadRequest, Code: "MaxMessageLengthExceeded",
			Message: "Your request was too big."}
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return body, nil
}

// collectParts learns, before a CompleteMultipartUpload with the given body
// goes to versitygw, the size and CRC-32C of every part it names: versitygw
// keeps neither once the upload is complete, and GetObjectAttributes must
// report them. The parts are listed with the layer's own credentials;
// versitygw still checks the client's request as usual. A request the layer
// cannot make sense of (malformed, unknown upload, unknown part) is
// forwarded without parts, and versitygw refuses it.
func (l *layer) collectParts(r *http.Request, c *call, body []byte) *s3Error {
	var req completeRequest
	if xml.Unmarshal(body, &req) != nil || len(req.Parts) == 0 {
		return nil
	}
	uploaded, err := l.listParts(r, c)
	var nf *types.NoSuchUpload
	var ae smithy.APIError
	switch {
	case errors.As(err, &nf), errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload":
		// versitygw answers the Complete itself: 404 NoSuchUpload, as AWS
		// does for an upload already completed or aborted, or 200 when the
		// key holds an object (see refuseExisting).
		return nil
	case err != nil:
		l.log.Printf("complete %s/%s: list parts: %v", c.id.bucket, c.id.key, err)
		return errInternal("s3local: list parts: " + err.Error())
	}
	parts := make([]partRecord, 0, len(req.Parts))
	for _, p := range req.Parts {
		found, ok := uploaded[p.PartNumber]
		if !ok {
			return nil
		}
		parts = append(parts, found)
	}
	c.parts = parts
	return nil
}

// listParts lists every uploaded part of the upload c completes.
func (l *layer) listParts(r *http.Request, c *call) (map[int32]partRecord, error) {
	in := &s3.ListPartsInput{
		Bucket:   aws.String(c.id.bucket),
		Key:      aws.String(c.id.key),
		UploadId: aws.String(c.uploadID),
	}
	parts := make(map[int32]partRecord)
	pages := s3.NewListPartsPaginator(l.direct, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(r.Context())
		if err != nil {
			return nil, err
		}
		for _, p := range page.Parts {
			n := aws.ToInt32(p.PartNumber)
			parts[n] = partRecord{Number: n, Size: aws.ToInt64(p.Size), CRC32C: aws.ToString(p.ChecksumCRC32C)}
		}
	}
	return parts, nil
}

// attributesQuery is what a GetObjectAttributes request asks for.
type attributesQuery struct {
	attributes map[string]bool
	maxParts   int
	marker     int32
}

func parseAttributesQuery(h http.Header) attributesQuery {
	q := attributesQuery{attributes: make(map[string]bool), maxParts: defaultMaxParts}
	for _, v := range h.Values("X-Amz-Object-Attributes") {
		for a := range strings.SplitSeq(v, ",") {
			q.attributes[strings.TrimSpace(a)] = true
		}
	}
	// versitygw has already refused malformed numbers; anything it let
	// through that does not parse keeps the default.
	if n, err := strconv.Atoi(h.Get("X-Amz-Max-Parts")); err == nil && n >= 0 {
		q.maxParts = min(n, defaultMaxParts)
	}
	if n, err := strconv.ParseInt(h.Get("X-Amz-Part-Number-Marker"), 10, 32); err == nil && n > 0 {
		q.marker = int32(n)
	}
	return q
}

// rewriteAttributes completes versitygw's GetObjectAttributes answer with
// what the layer knows: the key's storage class, and the parts of an object
// completed from a multipart upload, paged as S3 pages them. versitygw
// reports STANDARD and no parts at all. Like HEAD, GetObjectAttributes
// answers for archived objects.
func (l *layer) rewriteAttributes(resp *http.Response, c *call) error {
	body, err := readBody(resp)
	if err != nil {
		return err
	}
	class, _ := l.state.lookup(c.id)
	var parts []partRecord
	if c.attributes.attributes["ObjectParts"] {
		parts = l.state.parts(c.id)
	}
	out, err := rewriteAttributesBody(body, class, parts, c.attributes)
	if err != nil {
		return err
	}
	setBody(resp, out)
	return nil
}

// rewriteAttributesBody replaces StorageClass and ObjectParts among the
// root's children and re-emits every other token as it came.
func rewriteAttributesBody(body []byte, class string, parts []partRecord, q attributesQuery) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	depth := 0
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse object attributes: %w", err)
		}
		var tokens []xml.Token
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 1 && (t.Name.Local == "StorageClass" || t.Name.Local == "ObjectParts") {
				if err := skipRaw(dec); err != nil {
					return nil, fmt.Errorf("parse object attributes: %w", err)
				}
				continue
			}
			depth++
			tokens = []xml.Token{tok}
		case xml.EndElement:
			depth--
			if depth == 0 {
				tokens = append(tokens, objectParts(parts, q)...)
				if q.attributes["StorageClass"] {
					tokens = append(tokens, textElement("StorageClass", class)...)
				}
			}
			tokens = append(tokens, tok)
		default:
			tokens = []xml.Token{tok}
		}
		for _, t := range tokens {
			if err := enc.EncodeToken(t); err != nil {
				return nil, fmt.Errorf("write object attributes: %w", err)
			}
		}
	}
	if err := enc.Flush(); err != nil {
		return nil, fmt.Errorf("write object attributes: %w", err)
	}
	if depth != 0 {
		return nil, errors.New("parse object attributes: unexpected end of document")
	}
	return out.Bytes(), nil
}

// objectParts is the ObjectParts element of one page of parts. As on AWS,
// the parts themselves are listed only when every one has a checksum; the
// count is always given.
func objectParts(parts []partRecord, q attributesQuery) []xml.Token {
	if len(parts) == 0 {
		return nil
	}
	var page []partRecord
	for _, p := range parts {
		if p.Number > q.marker {
			page = append(page, p)
		}
	}
	truncated := len(page) > q.maxParts
	page = page[:min(len(page), q.maxParts)]
	name := xml.Name{Local: "ObjectParts"}
	tokens := []xml.Token{xml.StartElement{Name: name}}
	tokens = append(tokens, textElement("PartsCount", strconv.Itoa(len(parts)))...)
	tokens = append(tokens, textElement("PartNumberMarker", strconv.Itoa(int(q.marker)))...)
	if len(page) > 0 {
		tokens = append(tokens, textElement("NextPartNumberMarker", strconv.Itoa(int(page[len(page)-1].Number)))...)
	}
	tokens = append(tokens, textElement("MaxParts", strconv.Itoa(q.maxParts))...)
	tokens = append(tokens, textElement("IsTruncated", strconv.FormatBool(truncated))...)
	checksummed := true
	for _, p := range parts {
		checksummed = checksummed && p.CRC32C != ""
	}
	if checksummed {
		partName := xml.Name{Local: "Part"}
		for _, p := range page {
			tokens = append(tokens, xml.StartElement{Name: partName})
			tokens = append(tokens, textElement("ChecksumCRC32C", p.CRC32C)...)
			tokens = append(tokens, textElement("PartNumber", strconv.Itoa(int(p.Number)))...)
			tokens = append(tokens, textElement("Size", strconv.FormatInt(p.Size, 10))...)
			tokens = append(tokens, xml.EndElement{Name: partName})
		}
	}
	return append(tokens, xml.EndElement{Name: name})
}

// skipRaw reads up to the end of the element whose start was just read.
// Decoder.Skip cannot be used: it reads with Token, which checks end tags
// against starts that RawToken never recorded.
func skipRaw(dec *xml.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.RawToken()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}
