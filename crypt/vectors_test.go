package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/crypto/hkdf"
)

var update = flag.Bool("update", false, "rewrite testdata/crypt/vectors.json from the code")

var vectorsPath = filepath.Join("..", "testdata", "crypt", "vectors.json")

type vectorFile struct {
	Comment  string     `json:"comment"`
	Vectors  []vector   `json:"vectors"`
	MustFail []rejected `json:"must_fail"`
	// Version 3 storage IDs (meta_test.go).
	IDs         []idVector   `json:"ids"`
	IDsMustFail []idRejected `json:"ids_must_fail"`
}

// rejected is a stream that a decryptor must refuse although every package of it passes
// AES-GCM with the AEAD nonce computed from its header as stored: only the header-nonce
// rule of docs/FORMAT.md §1.3 catches it.
type rejected struct {
	Name         string `json:"name"`
	Vector       string `json:"vector"` // whose keys it is decrypted with
	Construction string `json:"construction"`
	Ciphertext   string `json:"ciphertext"`
	// WithoutCheck is what a decryptor that skips the header-nonce check returns.
	WithoutCheck string `json:"plaintext_without_the_check"`
}

// rejectedInputs builds the must-fail streams from the code's own ciphertext.
func rejectedInputs(t *testing.T) []rejected {
	in := vectorInputs()[2] // pattern-65537: two packages, the second holds 1 byte and the terminator
	k := testKeys(t, in.salt)
	ct := encryptAll(t, k, in.plain)
	final := relabel(ct[MaxPackageLen:], 1, 0)
	return []rejected{{
		Name:   "final-package-relabelled-as-0",
		Vector: in.name,
		Construction: "package 1 (the final package) of vector pattern-65537 alone, with 1 XORed " +
			"into the little-endian counter in header bytes 12..16, so that it authenticates as package 0",
		Ciphertext:   hex.EncodeToString(final),
		WithoutCheck: hex.EncodeToString(in.plain[PackageSize:]),
	}}
}

// vector pins every byte of one archived object. Small files carry their full plaintext
// and ciphertext; the long one is given by its pattern, a digest and its first package.
type vector struct {
	Name             string  `json:"name"`
	MasterKey        string  `json:"master_key"`
	Salt             string  `json:"salt"`
	Filename         string  `json:"filename"`
	Plaintext        *string `json:"plaintext,omitempty"`
	PlaintextPattern string  `json:"plaintext_pattern,omitempty"`
	PlaintextSize    int     `json:"plaintext_size"`
	DataKey          string  `json:"data_key"`
	NameKey          string  `json:"name_key"`
	StreamNonce      string  `json:"stream_nonce"`
	StorageID        string  `json:"storage_id"`
	CiphertextSize   int     `json:"ciphertext_size"`
	Ciphertext       string  `json:"ciphertext,omitempty"`
	CiphertextSHA256 string  `json:"ciphertext_sha256"`
	FirstPackage     string  `json:"first_package,omitempty"`
}

const patternDescription = "byte i = i mod 251"

type vectorInput struct {
	name, filename string
	salt           Salt
	plain          []byte
	patterned      bool
}

func vectorInputs() []vectorInput {
	return []vectorInput{
		{name: "hello", filename: "hello.txt", salt: saltFrom(0xa0), plain: []byte("hello, world\n")},
		{name: "empty", filename: "empty", salt: saltFrom(0xb0), plain: []byte{}},
		{name: "pattern-65537", filename: "pattern.bin", salt: saltFrom(0xc0), plain: pattern(PackageSize + 1), patterned: true},
	}
}

// computeVector derives a vector with the package under test.
func computeVector(t *testing.T, in vectorInput) vector {
	t.Helper()
	k := testKeys(t, in.salt)
	id, err := SealName(k, in.filename, MaxIDLen)
	if err != nil {
		t.Fatalf("SealName: %v", err)
	}
	ct := encryptAll(t, k, in.plain)
	sum := sha256.Sum256(ct)
	v := vector{
		Name:             in.name,
		MasterKey:        hex.EncodeToString(vectorMaster()),
		Salt:             hex.EncodeToString(in.salt[:]),
		Filename:         in.filename,
		PlaintextSize:    len(in.plain),
		DataKey:          hex.EncodeToString(k.secret.Bytes()[:keySize]),
		NameKey:          hex.EncodeToString(k.secret.Bytes()[keySize:]),
		StreamNonce:      hex.EncodeToString(k.nonce[:]),
		StorageID:        id,
		CiphertextSize:   len(ct),
		CiphertextSHA256: hex.EncodeToString(sum[:]),
	}
	if in.patterned {
		v.PlaintextPattern = patternDescription
		v.FirstPackage = hex.EncodeToString(ct[:MaxPackageLen])
	} else {
		plain := hex.EncodeToString(in.plain)
		v.Plaintext = &plain
		v.Ciphertext = hex.EncodeToString(ct)
	}
	return v
}

func TestVectors(t *testing.T) {
	var got vectorFile
	got.Comment = "ogive archive format v2 known-answer vectors; see docs/FORMAT.md. " +
		"Each vector has its own salt, as every real object does."
	for _, in := range vectorInputs() {
		got.Vectors = append(got.Vectors, computeVector(t, in))
	}
	got.MustFail = rejectedInputs(t)
	got.IDs, got.IDsMustFail = nil, idRejectedInputs(t)
	for _, in := range idInputs() {
		got.IDs = append(got.IDs, computeIDVector(t, in))
	}
	if *update {
		data, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", vectorsPath)
	}
	want := loadVectors(t)
	if len(want.Vectors) != len(got.Vectors) {
		t.Fatalf("%s has %d vectors, the code makes %d", vectorsPath, len(want.Vectors), len(got.Vectors))
	}
	for i := range want.Vectors {
		if !reflect.DeepEqual(want.Vectors[i], got.Vectors[i]) {
			t.Errorf("vector %q differs from the code:\nfile: %+v\ncode: %+v", want.Vectors[i].Name, want.Vectors[i], got.Vectors[i])
		}
	}
	if !reflect.DeepEqual(want.MustFail, got.MustFail) {
		t.Errorf("must_fail streams differ from the code:\nfile: %+v\ncode: %+v", want.MustFail, got.MustFail)
	}
	for _, r := range want.MustFail {
		in := vectorInputs()[2]
		if r.Vector != in.name {
			t.Fatalf("must_fail %s: unknown vector %s", r.Name, r.Vector)
		}
		_, err := decryptAll(testKeys(t, in.salt), mustHex(t, r.Ciphertext))
		wantAuthFailure(t, r.Name, err)
	}
}

// TestMustFailFromSpec checks that each must_fail stream is a real relabelling, one that
// AES-GCM alone accepts, and that a decryptor following docs/FORMAT.md refuses it.
func TestMustFailFromSpec(t *testing.T) {
	f := loadVectors(t)
	if len(f.MustFail) == 0 {
		t.Fatal("no must_fail stream in the vector file")
	}
	for _, r := range f.MustFail {
		var v *vector
		for i := range f.Vectors {
			if f.Vectors[i].Name == r.Vector {
				v = &f.Vectors[i]
			}
		}
		if v == nil {
			t.Fatalf("%s: no vector %s", r.Name, r.Vector)
		}
		dataKey, nonce, ct := mustHex(t, v.DataKey), mustHex(t, v.StreamNonce), mustHex(t, r.Ciphertext)
		if _, err := specDecrypt(dataKey, nonce, ct); err == nil {
			t.Errorf("%s: the spec decryptor accepts it", r.Name)
		}
		// Without the header-nonce rule: the AEAD nonce from the header as stored.
		gcm, err := newGCM(dataKey)
		if err != nil {
			t.Fatal(err)
		}
		aeadNonce := bytes.Clone(ct[4:16]) // sequence number 0: nothing to XOR
		plain, err := gcm.Open(nil, aeadNonce, ct[16:], ct[:4])
		if err != nil || !bytes.Equal(plain[:len(plain)-1], mustHex(t, r.WithoutCheck)) || plain[len(plain)-1] != 0x01 {
			t.Errorf("%s: AES-GCM alone does not give the recorded plaintext (%v): not a relabelling", r.Name, err)
		}
	}
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("read vectors (regenerate with -update): %v", err)
	}
	var f vectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse %s: %v", vectorsPath, err)
	}
	return f
}

// TestVectorsFromSpec checks the vector file with a decoder written from docs/FORMAT.md
// alone, on crypto/aes and crypto/cipher, so that the documented format and the code
// cannot drift apart unnoticed.
func TestVectorsFromSpec(t *testing.T) {
	for _, v := range loadVectors(t).Vectors {
		t.Run(v.Name, func(t *testing.T) {
			master, salt := mustHex(t, v.MasterKey), mustHex(t, v.Salt)
			derive := func(info string, n int) []byte {
				out := make([]byte, n)
				if _, err := io.ReadFull(hkdf.New(sha256.New, master, salt, []byte(info)), out); err != nil {
					t.Fatal(err)
				}
				return out
			}
			dataKey, nameKey, nonce := derive("ogive v2 data key", 32), derive("ogive v2 name key", 32), derive("ogive v2 stream nonce", 12)
			for _, c := range []struct{ what, got, want string }{
				{"data key", hex.EncodeToString(dataKey), v.DataKey},
				{"name key", hex.EncodeToString(nameKey), v.NameKey},
				{"stream nonce", hex.EncodeToString(nonce), v.StreamNonce},
			} {
				if c.got != c.want {
					t.Errorf("%s: spec gives %s, vector says %s", c.what, c.got, c.want)
				}
			}

			name, err := specOpenID(nameKey, v.StorageID)
			if err != nil || name != v.Filename {
				t.Errorf("storage ID: spec opens %q, %v; want %q", name, err, v.Filename)
			}
			if id, _ := base64.RawURLEncoding.DecodeString(v.StorageID); !bytes.Equal(id[1:17], salt) {
				t.Errorf("storage ID does not carry the salt")
			}

			var want []byte
			if v.Plaintext != nil {
				want = mustHex(t, *v.Plaintext)
			}
			ct := mustHex(t, v.Ciphertext)
			if v.PlaintextPattern != "" {
				if v.PlaintextPattern != patternDescription {
					t.Fatalf("unknown pattern %q", v.PlaintextPattern)
				}
				want = pattern(v.PlaintextSize)
				// The vector pins the digest; the stream itself is rebuilt by the code.
				ct = encryptAll(t, testKeys(t, Salt(salt)), want)
				if !bytes.HasPrefix(ct, mustHex(t, v.FirstPackage)) {
					t.Errorf("first package differs from the vector")
				}
			}
			if sum := sha256.Sum256(ct); hex.EncodeToString(sum[:]) != v.CiphertextSHA256 || len(ct) != v.CiphertextSize {
				t.Errorf("ciphertext digest or size differs from the vector")
			}
			plain, err := specDecrypt(dataKey, nonce, ct)
			if err != nil {
				t.Fatalf("spec decryptor: %v", err)
			}
			if !bytes.Equal(plain, want) || len(plain) != v.PlaintextSize {
				t.Errorf("spec decryptor gives %d bytes, want the %d-byte plaintext", len(plain), v.PlaintextSize)
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vector: %v", err)
	}
	return b
}

// specOpenID follows FORMAT.md §1.2.
func specOpenID(nameKey []byte, id string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", err
	}
	if len(raw) < 34 || raw[0] != 0x02 {
		return "", errors.New("not a v2 id")
	}
	gcm, err := newGCM(nameKey)
	if err != nil {
		return "", err
	}
	name, err := gcm.Open(nil, make([]byte, 12), raw[17:], raw[:17])
	return string(name), err
}

// specDecrypt follows FORMAT.md §1.3 and §1.4.
func specDecrypt(dataKey, streamNonce, stream []byte) ([]byte, error) {
	gcm, err := newGCM(dataKey)
	if err != nil {
		return nil, err
	}
	var payload []byte
	for seq := uint32(0); ; seq++ {
		if len(stream) < 16 {
			return nil, errors.New("stream ends without a final package")
		}
		header := stream[:16]
		length := int(binary.LittleEndian.Uint16(header[2:4])) + 1
		if header[0] != 0x20 || header[1] != 0x00 || len(stream) < 16+length+16 {
			return nil, fmt.Errorf("package %d: bad header", seq)
		}
		final := header[4]&0x80 != 0
		wantNonce := bytes.Clone(streamNonce)
		wantNonce[0] = wantNonce[0]&0x7f | header[4]&0x80
		if !bytes.Equal(header[4:16], wantNonce) || !final && length != 65536 {
			return nil, fmt.Errorf("package %d: bad header", seq)
		}
		aeadNonce := bytes.Clone(header[4:16])
		binary.LittleEndian.PutUint32(aeadNonce[8:], binary.LittleEndian.Uint32(aeadNonce[8:])^seq)
		plain, err := gcm.Open(nil, aeadNonce, stream[16:16+length+16], header[:4])
		if err != nil {
			return nil, fmt.Errorf("package %d: %w", seq, err)
		}
		payload = append(payload, plain...)
		stream = stream[16+length+16:]
		if final {
			if len(stream) > 0 || payload[len(payload)-1] != 0x01 {
				return nil, errors.New("bad end of stream")
			}
			return payload[:len(payload)-1], nil
		}
	}
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
