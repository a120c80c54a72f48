package s3local

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"
	"unicode"
)

// isoTime is the timestamp format of S3's XML bodies.
const isoTime = "2006-01-02T15:04:05.000Z"

// describeFunc tells the listing rewriter what the layer knows of a key.
type describeFunc func(key string) (class string, restore *restoreWindow)

// rewriteListing rewrites a ListObjects(V2) result: every Contents element
// gets the key's real StorageClass, and, when withRestore is set, archived
// keys with a live restore get a RestoreStatus. It works token by token and
// re-emits every other token as it came, so no element it does not know
// about (continuation tokens, owners, checksums, ...) is lost.
func rewriteListing(body []byte, describe describeFunc, now time.Time, withRestore bool) ([]byte, error) {
	// versitygw ignores encoding-type and sends raw keys; decode only when
	// the answer says it encoded them.
	encoded := bytes.Contains(body, []byte("<EncodingType>url</EncodingType>"))
	dec := xml.NewDecoder(bytes.NewReader(body))
	var out bytes.Buffer
	out.Grow(len(body) + len(body)/4)
	enc := xml.NewEncoder(&out)
	depth := 0
	for {
		// RawToken leaves namespaces alone, so xmlns comes back out as the
		// attribute it went in as.
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse listing: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			// encoding/xml reads names it cannot write back ("A0:0"):
			// such a document is refused rather than rewritten malformed.
			if !xmlNames(t) {
				return nil, fmt.Errorf("parse listing: element %q: not an XML name", t.Name.Local)
			}
			if depth == 1 && t.Name.Local == "Contents" {
				if err := rewriteContents(dec, enc, t, describe, now, withRestore, encoded); err != nil {
					return nil, err
				}
				continue
			}
			depth++
		case xml.EndElement:
			depth--
		}
		if err := enc.EncodeToken(tok); err != nil {
			return nil, fmt.Errorf("write listing: %w", err)
		}
	}
	if err := enc.Flush(); err != nil {
		return nil, fmt.Errorf("write listing: %w", err)
	}
	if depth != 0 {
		return nil, errors.New("parse listing: unexpected end of document")
	}
	return out.Bytes(), nil
}

// rewriteContents reads one Contents element (its start already read),
// then writes it back with StorageClass replaced in place and RestoreStatus
// appended.
func rewriteContents(dec *xml.Decoder, enc *xml.Encoder, start xml.StartElement, describe describeFunc, now time.Time, withRestore, encoded bool) error {
	var children []xml.Token
	var key []byte
	depth, inKey := 1, false
	for depth > 0 {
		tok, err := dec.RawToken()
		if err != nil {
			return fmt.Errorf("parse listing entry: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			inKey = depth == 2 && t.Name.Local == "Key"
		case xml.EndElement:
			depth--
			inKey = false
		case xml.CharData:
			if inKey {
				key = append(key, t...)
			}
		}
		if depth > 0 {
			children = append(children, xml.CopyToken(tok))
		}
	}
	name := string(key)
	if encoded {
		var err error
		if name, err = url.QueryUnescape(name); err != nil {
			return fmt.Errorf("listing key %q: %w", key, err)
		}
	}
	class, restore := describe(name)

	tokens := []xml.Token{start}
	wroteClass := false
	for i := 0; i < len(children); i++ {
		if s, ok := children[i].(xml.StartElement); ok {
			switch s.Name.Local {
			case "StorageClass", "RestoreStatus":
				i = skipElement(children, i)
				if s.Name.Local == "StorageClass" {
					tokens = append(tokens, textElement("StorageClass", class)...)
					wroteClass = true
				}
				continue
			}
		}
		tokens = append(tokens, children[i])
	}
	if !wroteClass {
		tokens = append(tokens, textElement("StorageClass", class)...)
	}
	if withRestore && isArchived(class) {
		switch restore.phase(now) {
		case phaseOngoing:
			tokens = append(tokens, restoreStatus(true, time.Time{})...)
		case phaseRestored:
			tokens = append(tokens, restoreStatus(false, restore.Expiry)...)
		}
	}
	tokens = append(tokens, start.End())
	for _, t := range tokens {
		if err := enc.EncodeToken(t); err != nil {
			return fmt.Errorf("write listing entry: %w", err)
		}
	}
	return nil
}

// skipElement returns the index of the end token matching the start at i.
func skipElement(tokens []xml.Token, i int) int {
	depth := 0
	for ; i < len(tokens); i++ {
		switch tokens[i].(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

func textElement(name, text string) []xml.Token {
	n := xml.Name{Local: name}
	return []xml.Token{xml.StartElement{Name: n}, xml.CharData(text), xml.EndElement{Name: n}}
}

// restoreStatus is the RestoreStatus element S3 adds to listings asked for
// it; an ongoing restore has no expiry yet.
func restoreStatus(ongoing bool, expiry time.Time) []xml.Token {
	n := xml.Name{Local: "RestoreStatus"}
	tokens := []xml.Token{xml.StartElement{Name: n}}
	tokens = append(tokens, textElement("IsRestoreInProgress", strconv.FormatBool(ongoing))...)
	if !ongoing {
		tokens = append(tokens, textElement("RestoreExpiryDate", expiry.UTC().Format(isoTime))...)
	}
	return append(tokens, xml.EndElement{Name: n})
}

// xmlNames reports whether the element's name and its attributes' names
// are XML names (prefix and local part each), as an encoder writes them.
func xmlNames(t xml.StartElement) bool {
	names := []xml.Name{t.Name}
	for _, a := range t.Attr {
		names = append(names, a.Name)
	}
	for _, n := range names {
		if !xmlName(n.Local) || n.Space != "" && !xmlName(n.Space) {
			return false
		}
	}
	return true
}

func xmlName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return s != ""
}
