package object

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
)

// S3's ETags, which are all the store says of an object's content: a HEAD
// gives the ETag but no checksum unless asked for one.

// bodyETag is the ETag S3 gives an object stored with one PutObject
// without SSE-KMS or SSE-C: the hex MD5 of its body, in quotes.
func bodyETag(body []byte) string {
	sum := md5.Sum(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// multipartETag is the ETag S3 gives an object completed from parts: the
// MD5 of the parts' binary MD5s one after the other, a dash and the number
// of parts. ok is false when a part's ETag is not a hex MD5, as some
// servers make them; nothing can then be computed.
func multipartETag(parts []Part) (etag string, ok bool) {
	sums, ok := partMD5s(parts)
	if !ok {
		return "", false
	}
	return `"` + compositeMD5(sums) + "-" + strconv.Itoa(len(parts)) + `"`, true
}

// partMD5s reads the parts' ETags as the MD5s of their bodies; ok is false
// when one is not a hex MD5.
func partMD5s(parts []Part) (sums [][md5.Size]byte, ok bool) {
	sums = make([][md5.Size]byte, len(parts))
	for i, p := range parts {
		sum, err := hex.DecodeString(strings.Trim(p.ETag, `"`))
		if err != nil || len(sum) != md5.Size {
			return nil, false
		}
		copy(sums[i][:], sum)
	}
	return sums, true
}

// compositeMD5 is the hex MD5 of the parts' binary MD5s one after the other,
// the first half of a multipart ETag.
func compositeMD5(sums [][md5.Size]byte) string {
	h := md5.New()
	for _, sum := range sums {
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameETag compares two ETags, quoted or not, hex in either case.
func sameETag(a, b string) bool {
	return strings.EqualFold(strings.Trim(a, `"`), strings.Trim(b, `"`))
}

// MatchETag reports whether etag, as a store reported it for an object or a
// part, is the ETag S3 gives content cut into parts of those MD5s: the hex
// MD5 itself for one part stored with one request, the multipart ETag for
// an object completed from parts. ok is false when etag is not MD5-based
// (SSE-KMS, SSE-C and some servers make opaque ones): it then proves
// nothing either way. Unlike a CRC-32C, which anyone can make a chosen
// body match, an MD5-based ETag cannot be met by other bytes in practice.
func MatchETag(etag string, partMD5s [][md5.Size]byte) (same, ok bool) {
	e := strings.ToLower(strings.Trim(etag, `"`))
	hexPart, count, multipart := strings.Cut(e, "-")
	if sum, err := hex.DecodeString(hexPart); err != nil || len(sum) != md5.Size {
		return false, false
	}
	if !multipart {
		return len(partMD5s) == 1 && hexPart == hex.EncodeToString(partMD5s[0][:]), true
	}
	if n, err := strconv.Atoi(count); err != nil || n != len(partMD5s) {
		return false, true
	}
	return hexPart == compositeMD5(partMD5s), true
}
