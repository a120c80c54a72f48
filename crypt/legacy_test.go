package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/sio"
)

const legacyDir = "../testdata/legacy"

type legacyManifest struct {
	Objects []legacyObject `json:"objects"`
}

type legacyObject struct {
	StorageID   string            `json:"storage_id"`
	ContentType string            `json:"content_type"`
	Metadata    map[string]string `json:"metadata"`
	Ciphertext  string            `json:"ciphertext"`
	CipherSize  int64             `json:"ciphertext_size"`
	Filename    string            `json:"filename"`
	PlainSHA256 string            `json:"plaintext_sha256"`
}

// loadLegacyFixture returns the master key of the 2019 fixture profile and its objects.
func loadLegacyFixture(t testing.TB) ([]byte, []legacyObject) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(legacyDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m legacyManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Objects) == 0 {
		t.Fatal("manifest lists no objects")
	}
	hexKey, err := os.ReadFile(filepath.Join(legacyDir, "master_key.hex"))
	if err != nil {
		t.Fatal(err)
	}
	master, err := hex.DecodeString(strings.TrimSpace(string(hexKey)))
	if err != nil || len(master) != MasterKeySize {
		t.Fatalf("master_key.hex: %d bytes, %v", len(master), err)
	}
	return master, m.Objects
}

func (o legacyObject) body(t testing.TB) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(legacyDir, o.Ciphertext))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(body)) != o.CipherSize {
		t.Fatalf("%s: %d bytes, manifest says %d", o.Ciphertext, len(body), o.CipherSize)
	}
	return body
}

func (o legacyObject) nonce(t testing.TB) []byte {
	t.Helper()
	nonce, err := ParseLegacyNonce(o.Metadata["nonce"])
	if err != nil {
		t.Fatalf("%s: %v", o.StorageID, err)
	}
	return nonce
}

func legacyKeys(t testing.TB, master, nonce []byte) *LegacyKeys {
	t.Helper()
	k, err := DeriveLegacyKeys(master, nonce)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Destroy)
	return k
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sealLegacyName is the 2019 writer of storage IDs, which ogive no longer has.
func sealLegacyName(t testing.TB, master, nonce []byte, name string) string {
	t.Helper()
	block, err := aes.NewCipher(master)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCMWithNonceSize(block, LegacyNonceSize)
	if err != nil {
		t.Fatal(err)
	}
	sealed := aead.Seal(nil, nonce, []byte(name), nil)
	return strings.NewReplacer("/", ".", "+", "-").Replace(base64.RawStdEncoding.EncodeToString(sealed))
}

// encryptLegacy is the 2019 writer of data streams: DARE 2.0 with sio's random nonce.
func encryptLegacy(t testing.TB, k *LegacyKeys, plain []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := sio.Encrypt(&out, bytes.NewReader(plain), sio.Config{
		MinVersion:   sio.Version20,
		MaxVersion:   sio.Version20,
		CipherSuites: []byte{sio.AES_256_GCM},
		Key:          k.key.Bytes(),
	}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// pinnedTo returns keys that share k's data key, pinned to the nonce of stream ct as a
// download pins them; the tests reuse one key for several streams, which real objects
// never do.
func pinnedTo(t testing.TB, k *LegacyKeys, ct []byte) *LegacyKeys {
	t.Helper()
	p := &LegacyKeys{key: k.key}
	if err := p.PinStreamNonce(ct[:HeaderSize]); err != nil {
		t.Fatal(err)
	}
	return p
}

func decryptLegacy(k *LegacyKeys, ct []byte) ([]byte, error) {
	var out bytes.Buffer
	n, err := k.Decrypt(&out, bytes.NewReader(ct))
	if err == nil && n != int64(out.Len()) {
		return nil, errors.New("Decrypt miscounted")
	}
	return out.Bytes(), err
}

// TestLegacyFixtures opens every object the 2019 ogive wrote: its ID gives the file name
// and its body the file, byte for byte.
func TestLegacyFixtures(t *testing.T) {
	master, objects := loadLegacyFixture(t)
	sawEmpty := false
	for _, o := range objects {
		t.Run(o.Filename, func(t *testing.T) {
			if o.ContentType != ContentType {
				t.Errorf("content type %q, want %q", o.ContentType, ContentType)
			}
			if !LooksLegacyID(o.StorageID) {
				t.Errorf("LooksLegacyID(%q) = false", o.StorageID)
			}
			nonce := o.nonce(t)
			name, err := OpenLegacyID(master, o.StorageID, nonce)
			if err != nil || name != o.Filename {
				t.Fatalf("OpenLegacyID = %q, %v; want %q", name, err, o.Filename)
			}
			if again := sealLegacyName(t, master, nonce, name); again != o.StorageID {
				t.Errorf("name re-seals to %q", again)
			}

			body := o.body(t)
			k := legacyKeys(t, master, nonce)
			size, err := k.PlainSize(int64(len(body)))
			if err != nil {
				t.Fatalf("PlainSize(%d): %v", len(body), err)
			}
			plain, err := decryptLegacy(k, body)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if int64(len(plain)) != size {
				t.Errorf("PlainSize says %d bytes, Decrypt gave %d", size, len(plain))
			}
			if got := sha256Hex(plain); got != o.PlainSHA256 {
				t.Fatalf("plaintext SHA-256 %s, want %s", got, o.PlainSHA256)
			}
			sawEmpty = sawEmpty || len(body) == 0
		})
	}
	if !sawEmpty {
		t.Error("the fixture has no empty file")
	}
}

// TestLegacyFixtureEveryPackage decrypts the largest fixture object from every package
// index, to its end and one package at a time, as parallel ranged downloads do.
func TestLegacyFixtureEveryPackage(t *testing.T) {
	master, objects := loadLegacyFixture(t)
	o := objects[0]
	for _, c := range objects {
		if c.CipherSize > o.CipherSize {
			o = c
		}
	}
	body := o.body(t)
	if len(body) <= 2*MaxPackageLen {
		t.Fatalf("largest fixture object is %d bytes, too small to span several packages", len(body))
	}
	k := legacyKeys(t, master, o.nonce(t))
	plain, err := decryptLegacy(k, body)
	if err != nil || sha256Hex(plain) != o.PlainSHA256 {
		t.Fatalf("Decrypt: %v", err)
	}
	checkEveryPackage(t, k, body, plain)
	checkLegacyTampering(t, k, body, 8191)
}

// checkEveryPackage runs DecryptPackages from every package of a legacy stream.
func checkEveryPackage(t *testing.T, k *LegacyKeys, ct, plain []byte) {
	t.Helper()
	k = pinnedTo(t, k, ct)
	packages := uint64((int64(len(ct)) + MaxPackageLen - 1) / MaxPackageLen)
	for i := range packages {
		start, end := CipherOffset(i), min(CipherOffset(i+1), int64(len(ct)))
		plainStart, plainEnd := int(i)*PackageSize, min(int(i+1)*PackageSize, len(plain))
		final := i == packages-1

		var out bytes.Buffer
		n, err := k.DecryptPackages(&out, bytes.NewReader(ct[start:]), i, true)
		if err != nil || n != int64(len(plain)-plainStart) || !bytes.Equal(out.Bytes(), plain[plainStart:]) {
			t.Fatalf("DecryptPackages from %d to the end: %d bytes, %v", i, n, err)
		}
		out.Reset()
		n, err = k.DecryptPackages(&out, bytes.NewReader(ct[start:end]), i, final)
		if err != nil || n != int64(plainEnd-plainStart) || !bytes.Equal(out.Bytes(), plain[plainStart:plainEnd]) {
			t.Fatalf("DecryptPackages of package %d alone: %d bytes, %v", i, n, err)
		}
		if !final {
			_, err := k.DecryptPackages(io.Discard, bytes.NewReader(ct[start:end]), i, true)
			wantAuthFailure(t, fmt.Sprintf("package %d as the end of the stream", i), err)
			_, err = k.DecryptPackages(io.Discard, bytes.NewReader(ct[start:end]), i+1, false)
			wantAuthFailure(t, fmt.Sprintf("package %d at index %d", i, i+1), err)
		} else {
			_, err := k.DecryptPackages(io.Discard, bytes.NewReader(ct[start:end]), i, false)
			wantAuthFailure(t, "final package in a run that should not end the stream", err)
		}
	}
}

// checkLegacyTampering requires ErrAuthentication from every damaged copy of a stream:
// headers and tags flipped everywhere, package bodies every flipEvery bytes.
func checkLegacyTampering(t *testing.T, k *LegacyKeys, ct []byte, flipEvery int) {
	t.Helper()
	for what, damaged := range tamperedStreams(ct, flipEvery) {
		if len(damaged) == 0 {
			continue // the emptied object, which this format cannot detect
		}
		_, err := decryptLegacy(k, damaged)
		wantAuthFailure(t, what, err)
	}
	for _, l := range truncations(ct, flipEvery == 1) {
		if l == 0 {
			continue
		}
		_, err := decryptLegacy(k, ct[:l])
		wantAuthFailure(t, fmt.Sprintf("truncated to %d bytes", l), err)
	}
	if len(ct) > 2*MaxPackageLen {
		p0, p1, rest := ct[:MaxPackageLen], ct[MaxPackageLen:2*MaxPackageLen], ct[2*MaxPackageLen:]
		for what, parts := range map[string][][]byte{
			"swap packages 0 and 1": {p1, p0, rest},
			"drop package 0":        {p1, rest},
			"repeat package 0":      {p0, p0, p1, rest},
		} {
			_, err := decryptLegacy(k, bytes.Join(parts, nil))
			wantAuthFailure(t, what, err)
		}
	}
}

func TestLegacyFixtureTampering(t *testing.T) {
	master, objects := loadLegacyFixture(t)
	for _, o := range objects {
		if o.CipherSize == 0 || o.CipherSize > MaxPackageLen {
			continue
		}
		t.Run(o.Filename, func(t *testing.T) {
			body := o.body(t)
			k := legacyKeys(t, master, o.nonce(t))
			checkLegacyTampering(t, k, body, 1)
			other := legacyKeys(t, master, bytes.Repeat([]byte{0x5a}, LegacyNonceSize))
			_, err := decryptLegacy(other, body)
			wantAuthFailure(t, "another object's keys", err)
		})
	}
}

// TestLegacyEmptiedObject pins the weakness docs/FORMAT.md §3 documents: an object
// someone emptied reads as an empty file.
func TestLegacyEmptiedObject(t *testing.T) {
	k := legacyKeys(t, vectorMaster(), bytes.Repeat([]byte{1}, LegacyNonceSize))
	got, err := decryptLegacy(k, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty object: %d bytes, %v; want the empty file", len(got), err)
	}
	if size, err := k.PlainSize(0); err != nil || size != 0 {
		t.Fatalf("PlainSize(0) = %d, %v", size, err)
	}
	// Only a run that starts the stream and ends it may be empty.
	for _, c := range []struct {
		first uint64
		final bool
	}{{0, false}, {1, true}, {1, false}} {
		_, err := pinnedTo(t, k, make([]byte, HeaderSize)).DecryptPackages(io.Discard, bytes.NewReader(nil), c.first, c.final)
		wantAuthFailure(t, fmt.Sprintf("empty run from %d, final %t", c.first, c.final), err)
	}
}

// TestLegacyRoundTrip decrypts streams written as the 2019 ogive wrote them, around the
// package boundaries the fixtures do not reach.
func TestLegacyRoundTrip(t *testing.T) {
	k := legacyKeys(t, vectorMaster(), bytes.Repeat([]byte{2}, LegacyNonceSize))
	for _, size := range []int{1, 13, PackageSize - 1, PackageSize, PackageSize + 1, 3 * PackageSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			plain := pattern(size)
			ct := encryptLegacy(t, k, plain)
			if got, err := k.PlainSize(int64(len(ct))); err != nil || got != int64(size) {
				t.Fatalf("PlainSize(%d) = %d, %v; want %d", len(ct), got, err, size)
			}
			got, err := decryptLegacy(k, ct)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("Decrypt: %d bytes, %v", len(got), err)
			}
			checkEveryPackage(t, k, ct, plain)
			if size == PackageSize {
				// A stream cut at a package boundary lacks its final package.
				last := encryptLegacy(t, k, pattern(2*PackageSize))
				_, err := decryptLegacy(k, last[:MaxPackageLen])
				wantAuthFailure(t, "stream cut after its first package", err)
			}
		})
	}
	if _, err := k.DecryptPackages(io.Discard, bytes.NewReader(nil), 1<<32, true); !errors.Is(err, ErrTooLarge) {
		t.Errorf("package index beyond the format: %v, want ErrTooLarge", err)
	}
}

// TestLegacyRefusesOtherStreams: a v2 stream, or DARE 1.0, is not a legacy stream.
func TestLegacyRefusesOtherStreams(t *testing.T) {
	k := legacyKeys(t, vectorMaster(), bytes.Repeat([]byte{3}, LegacyNonceSize))
	v10 := sio.Config{MinVersion: sio.Version10, MaxVersion: sio.Version10, Key: k.key.Bytes()}
	var dare10 bytes.Buffer
	if _, err := sio.Encrypt(&dare10, strings.NewReader("hello"), v10); err != nil {
		t.Fatal(err)
	}
	_, err := decryptLegacy(k, dare10.Bytes())
	wantAuthFailure(t, "DARE 1.0 stream", err)

	v2 := testKeys(t, saltFrom(0x70))
	_, err = decryptLegacy(k, encryptAll(t, v2, []byte("hello")))
	wantAuthFailure(t, "v2 stream", err)
}

func TestLegacyPlainSize(t *testing.T) {
	var k *LegacyKeys // PlainSize needs no key
	for _, c := range []struct{ cipher, plain int64 }{
		{0, 0}, {33, 1}, {62, 30}, {MaxPackageLen, PackageSize}, {MaxPackageLen + 33, PackageSize + 1},
		{300160, 300000}, {(1 << 32) * MaxPackageLen, 1 << 48},
	} {
		if got, err := k.PlainSize(c.cipher); err != nil || got != c.plain {
			t.Errorf("PlainSize(%d) = %d, %v; want %d", c.cipher, got, err, c.plain)
		}
	}
	for _, bad := range []int64{-1, 1, 32, MaxPackageLen + 1, MaxPackageLen + 32, (1<<32)*MaxPackageLen + 1} {
		if _, err := k.PlainSize(bad); !errors.Is(err, ErrAuthentication) {
			t.Errorf("PlainSize(%d): %v, want ErrAuthentication", bad, err)
		}
	}
	v2 := testKeys(t, saltFrom(0x71))
	for _, c := range []int64{0, 33, 46, MaxPackageLen + 33} {
		want, wantErr := DecryptedSize(c)
		if got, err := v2.PlainSize(c); got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("(*Keys).PlainSize(%d) = %d, %v; DecryptedSize says %d, %v", c, got, err, want, wantErr)
		}
	}
}

func TestParseLegacyNonce(t *testing.T) {
	valid := strings.Repeat("0123456789abcdef", 4)
	nonce, err := ParseLegacyNonce(valid)
	if err != nil || hex.EncodeToString(nonce) != valid {
		t.Fatalf("ParseLegacyNonce(%q) = %x, %v", valid, nonce, err)
	}
	if _, err := ParseLegacyNonce(strings.ToUpper(valid)); err != nil {
		t.Errorf("upper-case hex: %v", err)
	}
	for _, bad := range []string{"", valid[:62], valid[:63], valid + "00", "zz" + valid[2:], strings.Repeat("é", 32)} {
		if n, err := ParseLegacyNonce(bad); !errors.Is(err, ErrNotOgive) || n != nil {
			t.Errorf("ParseLegacyNonce(%q) = %x, %v; want ErrNotOgive", bad, n, err)
		}
	}
}

func TestLooksLegacyID(t *testing.T) {
	v2, err := SealName(testKeys(t, saltFrom(0xa0)), "hello.txt", MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{
		strings.Repeat("A", 23):              true,
		strings.Repeat("A", 22):              false,
		strings.Repeat("A", 25):              false, // no base64 length
		strings.Repeat("A", MaxIDLen):        true,
		strings.Repeat("A", MaxIDLen+4):      false,
		"abcdefghijklmnopqrstuvw.-..":        true,
		"abcdefghijklmnopqrstuvwx/+":         false,
		"abcdefghijklmnopqrstuvwx_A":         false,
		"photos/cat.jpg":                     false,
		"":                                   false,
		strings.Repeat("é", 12):              false,
		v2:                                   !strings.ContainsRune(v2, '_'),
		"backups/" + strings.Repeat("A", 24): false,
	} {
		if got := LooksLegacyID(id); got != want {
			t.Errorf("LooksLegacyID(%q) = %t, want %t", id, got, want)
		}
	}
}

func TestOpenLegacyIDRefuses(t *testing.T) {
	master := vectorMaster()
	nonce := bytes.Repeat([]byte{4}, LegacyNonceSize)
	id := sealLegacyName(t, master, nonce, "hello.txt")
	if name, err := OpenLegacyID(master, id, nonce); err != nil || name != "hello.txt" {
		t.Fatalf("OpenLegacyID = %q, %v", name, err)
	}
	otherMaster := bytes.Clone(master)
	otherMaster[0] ^= 1
	otherNonce := bytes.Clone(nonce)
	otherNonce[31] ^= 1
	flipped := []byte(id)
	flipped[3] = map[bool]byte{true: 'B', false: 'A'}[flipped[3] == 'A'] // another character of the alphabet
	for what, c := range map[string]struct {
		master, nonce []byte
		id            string
	}{
		"another master key":  {otherMaster, nonce, id},
		"another nonce":       {master, otherNonce, id},
		"short nonce":         {master, nonce[:31], id},
		"no nonce":            {master, nil, id},
		"flipped character":   {master, nonce, string(flipped)},
		"cut":                 {master, nonce, id[:len(id)-1]},
		"extended":            {master, nonce, id + "A"},
		"non-canonical end":   {master, nonce, nonCanonical(id)},
		"slash alphabet":      {master, nonce, strings.NewReplacer(".", "/", "-", "+").Replace(id) + "/"},
		"v2 alphabet":         {master, nonce, id + "_"},
		"line break":          {master, nonce, id[:8] + "\n" + id[8:]},
		"with a prefix":       {master, nonce, "backups." + id},
		"empty":               {master, nonce, ""},
		"tag only":            {master, nonce, strings.Repeat("A", 22)},
		"slash in name":       {master, nonce, sealLegacyName(t, master, nonce, "a/b")},
		"dot dot":             {master, nonce, sealLegacyName(t, master, nonce, "..")},
		"NUL in name":         {master, nonce, sealLegacyName(t, master, nonce, "a\x00b")},
		"not UTF-8":           {master, nonce, sealLegacyName(t, master, nonce, "caf\xe9")},
		"empty name":          {master, nonce, sealLegacyName(t, master, nonce, "")},
		"longer than any key": {master, nonce, sealLegacyName(t, master, nonce, strings.Repeat("n", 800))},
	} {
		if name, err := OpenLegacyID(c.master, c.id, c.nonce); !errors.Is(err, ErrNotOgive) || name != "" {
			t.Errorf("%s: OpenLegacyID = %q, %v; want ErrNotOgive", what, name, err)
		}
	}
	if _, err := OpenLegacyID(master[:31], id, nonce); err == nil || errors.Is(err, ErrNotOgive) {
		t.Errorf("31-byte master key: %v, want an error other than ErrNotOgive", err)
	}
}

// nonCanonical returns a second spelling of id, which must encode a length that is not a
// multiple of 3: its last character gets a nonzero unused bit, which a lax decoder ignores.
func nonCanonical(id string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-."
	last := strings.IndexByte(alphabet, id[len(id)-1])
	return id[:len(id)-1] + string(alphabet[last|1])
}

// TestLegacyIDEndingInDots: an ID may end in "..", which is "//" in base64.
func TestLegacyIDEndingInDots(t *testing.T) {
	master := vectorMaster()
	nonce := bytes.Repeat([]byte{5}, LegacyNonceSize)
	// An 8-byte name makes a 24-byte sealed name, encoded with no unused bits, so about
	// one name in 4096 ends in "..".
	for i := range 1 << 16 {
		name := fmt.Sprintf("f%07d", i)
		id := sealLegacyName(t, master, nonce, name)
		if !strings.HasSuffix(id, "..") {
			continue
		}
		if !LooksLegacyID(id) {
			t.Fatalf("LooksLegacyID(%q) = false", id)
		}
		if got, err := OpenLegacyID(master, id, nonce); err != nil || got != name {
			t.Fatalf("OpenLegacyID(%q) = %q, %v; want %q", id, got, err, name)
		}
		return
	}
	t.Fatal("no ID ending in \"..\" found")
}

func TestDeriveLegacyKeysRefuses(t *testing.T) {
	for what, c := range map[string]struct{ master, nonce []byte }{
		"short master key": {vectorMaster()[:31], bytes.Repeat([]byte{1}, LegacyNonceSize)},
		"short nonce":      {vectorMaster(), bytes.Repeat([]byte{1}, LegacyNonceSize-1)},
		"v2 salt as nonce": {vectorMaster(), make([]byte, len(Salt{}))},
	} {
		if k, err := DeriveLegacyKeys(c.master, c.nonce); err == nil || k != nil {
			t.Errorf("%s: DeriveLegacyKeys = %v, %v; want an error", what, k, err)
		}
	}
}

func TestLegacyKeysRedacted(t *testing.T) {
	k := legacyKeys(t, vectorMaster(), bytes.Repeat([]byte{6}, LegacyNonceSize))
	key := hex.EncodeToString(k.key.Bytes())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		got := fmt.Sprintf(verb, k)
		if got != legacyRedacted {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, legacyRedacted)
		}
		if strings.Contains(got, key) {
			t.Errorf("Sprintf(%q) reveals the key", verb)
		}
	}
	if k.String() != legacyRedacted || k.GoString() != legacyRedacted {
		t.Error("String or GoString not redacted")
	}
	if s := fmt.Sprint(struct{ K Decrypter }{k}); strings.Contains(s, key) {
		t.Errorf("keys inside a struct reveal themselves: %s", s)
	}
}

func TestLegacyKeysDestroy(t *testing.T) {
	k, err := DeriveLegacyKeys(vectorMaster(), bytes.Repeat([]byte{7}, LegacyNonceSize))
	if err != nil {
		t.Fatal(err)
	}
	ct := encryptLegacy(t, k, []byte("hello"))
	k.Destroy()
	k.Destroy()
	if _, err := decryptLegacy(k, ct); err == nil {
		t.Error("Decrypt after Destroy succeeded")
	}
	var nilKeys *LegacyKeys
	nilKeys.Destroy()
	if _, err := nilKeys.Decrypt(io.Discard, bytes.NewReader(ct)); err == nil {
		t.Error("Decrypt with nil keys succeeded")
	}
}

// FuzzOpenLegacyID feeds arbitrary object keys and nonce metadata to the legacy ID reader,
// as a listing of a bucket with 2019 objects does. Whatever it accepts must re-seal to
// exactly the same ID.
func FuzzOpenLegacyID(f *testing.F) {
	master, objects := loadLegacyFixture(f)
	for _, o := range objects {
		f.Add(o.StorageID, o.Metadata["nonce"])
	}
	hello := objects[0]
	for _, id := range []string{hello.StorageID + "..", hello.StorageID[:23], "", "photos/cat.jpg", "AQ"} {
		f.Add(id, hello.Metadata["nonce"])
	}
	f.Add(hello.StorageID, hello.Metadata["nonce"][:62])
	f.Fuzz(func(t *testing.T, id, nonceHex string) {
		nonce, err := ParseLegacyNonce(nonceHex)
		if err != nil {
			if !errors.Is(err, ErrNotOgive) || nonce != nil {
				t.Fatalf("ParseLegacyNonce(%q) = %x, %v; want ErrNotOgive", nonceHex, nonce, err)
			}
			return
		}
		if len(nonce) != LegacyNonceSize {
			t.Fatalf("ParseLegacyNonce(%q) = %d bytes", nonceHex, len(nonce))
		}
		name, err := OpenLegacyID(master, id, nonce)
		if err != nil {
			if !errors.Is(err, ErrNotOgive) || name != "" {
				t.Fatalf("OpenLegacyID(%q) = %q, %v; want ErrNotOgive", id, name, err)
			}
			return
		}
		if !LooksLegacyID(id) {
			t.Fatalf("OpenLegacyID accepted %q, which LooksLegacyID refuses", id)
		}
		if again := sealLegacyName(t, master, nonce, name); again != id {
			t.Fatalf("OpenLegacyID(%q) = %q, which re-seals to %q", id, name, again)
		}
	})
}
