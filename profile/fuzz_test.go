package profile

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// FuzzParse feeds arbitrary bytes to every parser of untrusted input. Each
// input is tried three ways:
//   - as a profile file, as read from disk;
//   - as a file whose checksum is recomputed, so mutations get past the
//     trailer into the header and KDF checks (Argon2 runs only when the
//     header asks for little work, keeping each execution cheap);
//   - as a decrypted payload, which no mutation of a sealed file could
//     reach without the key.
//
// Whatever parses must be a valid profile that can be written back and
// read again; whatever fails must fail with a sentinel.
func FuzzParse(f *testing.F) {
	v, file := loadVector(f)
	payload, err := hex.DecodeString(v.Payload)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(file)
	f.Add(payload)
	pw := []byte(v.Password)

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decode(data, pw)
		checkParsed(t, p, err)

		if len(data) >= trailerSize {
			fixed := withTrailer(data[:len(data)-trailerSize])
			if sf, err := parseFile(fixed); err == nil && cheap(sf.kdf) {
				p, err := decode(fixed, pw)
				checkParsed(t, p, err)
			}
		}

		p, err = decodePayload(bytes.Clone(data))
		checkParsed(t, p, err)
	})
}

func cheap(k KDFParams) bool {
	return uint64(k.Time)*uint64(k.MemoryKiB) <= 256
}

func checkParsed(t *testing.T, p *Profile, err error) {
	t.Helper()
	if err != nil {
		if p != nil {
			t.Fatalf("profile returned with error %v", err)
		}
		if !isFormatError(err) {
			t.Fatalf("error without sentinel: %v", err)
		}
		return
	}
	payload, err := p.encodePayload()
	if err != nil {
		t.Fatalf("parsed profile cannot be written: %v", err)
	}
	defer payload.Destroy()
	again, err := decodePayload(bytes.Clone(payload.Bytes()))
	if err != nil {
		t.Fatalf("written profile cannot be read: %v", err)
	}
	assertSameProfile(t, again, p)
}
