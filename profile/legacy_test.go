package profile

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
	"github.com/ogive-project/ogive/crypt"
	"golang.org/x/crypto/argon2"
)

const legacyDir = "../testdata/legacy"

type legacyManifest struct {
	Bucket          string `json:"bucket"`
	Region          string `json:"region"`
	Endpoint        string `json:"endpoint"`
	AccessKeyID     string `json:"aws_access_key_id"`
	SecretAccessKey string `json:"aws_secret_access_key"`
	Objects         []struct {
		StorageID string            `json:"storage_id"`
		Metadata  map[string]string `json:"metadata"`
		Filename  string            `json:"filename"`
	} `json:"objects"`
}

// legacyFixture returns the 2019 profile of testdata/legacy, its password, its
// manifest and the master key it holds.
func legacyFixture(t testing.TB) (file, pw []byte, m legacyManifest, master []byte) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(legacyDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if err := json.Unmarshal(read("manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	master, err := hex.DecodeString(strings.TrimSpace(string(read("master_key.hex"))))
	if err != nil {
		t.Fatal(err)
	}
	return read("legacy.profile"), read("password.txt"), m, master
}

// legacyCopy writes the fixture profile where Open accepts it: git does not keep modes.
func legacyCopy(t *testing.T, file []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacy.profile")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// legacyFixtureKey is the key the fixture password derives, computed once per test.
func legacyFixtureKey(t testing.TB, file, pw []byte) []byte {
	t.Helper()
	f, err := parseLegacy(file)
	if err != nil {
		t.Fatal(err)
	}
	return argon2.Key(pw, f.Salt, legacyTime, legacyMemoryKiB, legacyThreads, legacyKeySize)
}

func TestOpenLegacy(t *testing.T) {
	file, pw, m, master := legacyFixture(t)
	p, err := Open(legacyCopy(t, file), memguard.NewBufferFromBytes(bytes.Clone(pw)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(openEnclave(t, p.MasterKey), master) {
		t.Error("master key differs from master_key.hex")
	}
	if got := string(openEnclave(t, p.AccessKeyID)); got != m.AccessKeyID {
		t.Errorf("access key ID %q, want %q", got, m.AccessKeyID)
	}
	if got := string(openEnclave(t, p.SecretAccessKey)); got != m.SecretAccessKey {
		t.Error("secret access key differs from the manifest")
	}
	if p.Bucket != m.Bucket || p.Region != m.Region || p.Endpoint != m.Endpoint {
		t.Errorf("got %s, want bucket %q, region %q, endpoint %q", p, m.Bucket, m.Region, m.Endpoint)
	}
	if !p.Legacy || !p.LegacyArchives || p.Prefix != "" || p.PathStyle || p.KDF != (KDFParams{}) {
		t.Errorf("got %s: want a 2019 profile with 2019 archives, no prefix, no path-style, no KDF", p)
	}
	if s := p.String(); !strings.Contains(s, "2019") || strings.Contains(s, m.SecretAccessKey) || strings.Contains(s, m.AccessKeyID) {
		t.Errorf("String() = %q", s)
	}
	// The master key is the one the 2019 objects were archived with.
	for _, o := range m.Objects {
		nonce, err := crypt.ParseLegacyNonce(o.Metadata["nonce"])
		if err != nil {
			t.Fatal(err)
		}
		name, err := crypt.OpenLegacyID(openEnclave(t, p.MasterKey), o.StorageID, nonce)
		if err != nil || name != o.Filename {
			t.Errorf("object %s: %q, %v; want %q", o.StorageID, name, err, o.Filename)
		}
	}
}

func TestOpenLegacyWrongPassword(t *testing.T) {
	file, pw, _, _ := legacyFixture(t)
	path := legacyCopy(t, file)
	for _, wrong := range [][]byte{pw[:len(pw)-1], append(bytes.Clone(pw), '\n'), []byte("x")} {
		p, err := Open(path, memguard.NewBufferFromBytes(wrong))
		if !errors.Is(err, ErrWrongPassword) || p != nil {
			t.Errorf("password %q: %v, want ErrWrongPassword", wrong, err)
		}
	}
}

// TestLegacyReplace upgrades a 2019 profile as init --reinit does: the new file is in the
// current format, holds the same secrets and still says the bucket has 2019 archives.
func TestLegacyReplace(t *testing.T) {
	file, pw, _, _ := legacyFixture(t)
	path := legacyCopy(t, file)
	old, err := Open(path, memguard.NewBufferFromBytes(bytes.Clone(pw)))
	if err != nil {
		t.Fatal(err)
	}
	if err := Replace(path, old, password("new password"), fastKDF); err != nil {
		t.Fatal(err)
	}
	upgraded, err := Open(path, password("new password"))
	if err != nil {
		t.Fatal(err)
	}
	assertSameProfile(t, upgraded, old)
	if upgraded.Legacy || !upgraded.LegacyArchives || upgraded.KDF != fastKDF {
		t.Errorf("upgraded profile %s: want the current format with 2019 archives", upgraded)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(magic)) {
		t.Error("Replace did not write the current format")
	}
	bak, err := os.ReadFile(path + backupSuffix)
	if err != nil || !bytes.Equal(bak, file) {
		t.Errorf("backup is not the 2019 file: %v", err)
	}
}

func TestLegacyArchivesRecord(t *testing.T) {
	key := rec(tagMasterKey, strings.Repeat("k", 32))
	bucket := rec(tagBucket, "b")
	for _, tc := range []struct {
		name    string
		payload string
		want    error // nil: decodes
		archive bool
	}{
		{"set", key + bucket + rec(tagLegacyArchives, "\x01"), nil, true},
		{"zero", key + bucket + rec(tagLegacyArchives, "\x00"), nil, false},
		{"after path-style", key + bucket + rec(tagPathStyle, "\x01") + rec(tagLegacyArchives, "\x01"), nil, true},
		{"before path-style", key + bucket + rec(tagLegacyArchives, "\x01") + rec(tagPathStyle, "\x01"), ErrCorrupt, false},
		{"value 2", key + bucket + rec(tagLegacyArchives, "\x02"), ErrCorrupt, false},
		{"two bytes", key + bucket + rec(tagLegacyArchives, "\x01\x00"), ErrCorrupt, false},
		{"repeated", key + bucket + rec(tagLegacyArchives, "\x01") + rec(tagLegacyArchives, "\x01"), ErrCorrupt, false},
		{"tag 0x0a", key + bucket + rec(0x0a, "\x01"), ErrUnsupported, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodePayload([]byte(tc.payload))
			if tc.want != nil {
				if !errors.Is(err, tc.want) || p != nil {
					t.Errorf("%v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.LegacyArchives != tc.archive || p.Legacy {
				t.Errorf("LegacyArchives %t, Legacy %t", p.LegacyArchives, p.Legacy)
			}
		})
	}

	// Writers omit a false flag, so profiles without 2019 archives keep their bytes.
	p := &Profile{MasterKey: enclave(strings.Repeat("k", 32)), Bucket: "b"}
	for _, set := range []bool{false, true} {
		p.LegacyArchives = set
		payload, err := p.encodePayload()
		if err != nil {
			t.Fatal(err)
		}
		want := key + bucket
		if set {
			want += "\x09\x00\x01\x01"
		}
		if got := string(payload.Bytes()); got != want {
			t.Errorf("LegacyArchives %t: payload %x, want %x", set, got, want)
		}
		payload.Destroy()
	}
}

// legacyPayload lays out the plaintext of a 2019 profile: six little-endian uint32
// lengths, then the fields.
func legacyPayload(fields ...string) []byte {
	var b []byte
	for _, f := range fields {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f)))
	}
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

func TestDecodeLegacyPayload(t *testing.T) {
	key := strings.Repeat("k", 32)
	full := legacyPayload(key, "AKIA", "SECRET", "bucket", "http://127.0.0.1:9000", "eu-west-1")
	withLength := func(i int, n uint32) []byte {
		b := bytes.Clone(full)
		binary.LittleEndian.PutUint32(b[4*i:], n)
		return b
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		want    error // nil: decodes
	}{
		{"every field", full, nil},
		{"no AWS keys, endpoint or region", legacyPayload(key, "", "", "bucket", "", ""), nil},
		{"empty", nil, ErrCorrupt},
		{"lengths only", legacyPayload("", "", "", "", "", ""), ErrCorrupt},
		{"cut lengths", full[:23], ErrCorrupt},
		{"31-byte key", legacyPayload(key[:31], "", "", "bucket", "", ""), ErrCorrupt},
		{"33-byte key", legacyPayload(key+"k", "", "", "bucket", "", ""), ErrCorrupt},
		{"no bucket", legacyPayload(key, "AKIA", "SECRET", "", "", ""), ErrCorrupt},
		{"key ID without secret", legacyPayload(key, "AKIA", "", "bucket", "", ""), ErrCorrupt},
		{"secret without key ID", legacyPayload(key, "", "SECRET", "bucket", "", ""), ErrCorrupt},
		{"bucket not UTF-8", legacyPayload(key, "", "", "\xff", "", ""), ErrCorrupt},
		{"region not UTF-8", legacyPayload(key, "", "", "b", "", "\xc3"), ErrCorrupt},
		{"trailing byte", append(bytes.Clone(full), 0), ErrCorrupt},
		{"cut field", full[:len(full)-1], ErrCorrupt},
		{"length 2³²−1", withLength(5, 0xffffffff), ErrCorrupt},
		{"lengths summing past 2³²", withLength(4, 0xfffffff0), ErrCorrupt},
		{"field over 64 KiB", legacyPayload(key, "", "", strings.Repeat("b", maxValueSize+1), "", ""), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeLegacyPayload(bytes.Clone(tc.payload))
			if tc.want != nil {
				if !errors.Is(err, tc.want) || p != nil {
					t.Errorf("%v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !p.Legacy || !p.LegacyArchives || len(openEnclave(t, p.MasterKey)) != masterKeySize {
				t.Errorf("got %s", p)
			}
		})
	}

	// Secrets are moved out of the decrypted payload, not copied.
	payload := bytes.Clone(full)
	if _, err := decodeLegacyPayload(payload); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"kkkk", "AKIA", "SECRET"} {
		if bytes.Contains(payload, []byte(secret)) {
			t.Errorf("payload still holds %q", secret)
		}
	}
}

// sealLegacy is the 2019 writer of profiles, which ogive no longer has, with the
// password-derived key given.
func sealLegacy(t testing.TB, f legacyFile, key, payload []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := bytes.Repeat([]byte{0x11}, legacyNonceSize)
	if payload != nil {
		f.Inner = aead.Seal(nonce, nonce, payload, nil)
	}
	var out bytes.Buffer
	if err := gob.NewEncoder(&out).Encode(&f); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestLegacyOuterChecks(t *testing.T) {
	key := bytes.Repeat([]byte{0x22}, legacyKeySize)
	salt := bytes.Repeat([]byte{0x33}, legacySaltSize)
	payload := legacyPayload(strings.Repeat("k", 32), "AKIA", "SECRET", "bucket", "", "us-east-1")
	valid := legacyFile{Magic: legacyMagic, Version: legacyVersion, Salt: salt}

	f, err := parseLegacy(sealLegacy(t, valid, key, payload))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.unseal(key)
	if err != nil || p.Bucket != "bucket" || p.Region != "us-east-1" || p.Endpoint != "" {
		t.Fatalf("unseal: %s, %v", p, err)
	}
	wrongKey := bytes.Repeat([]byte{0x23}, legacyKeySize)
	if p, err := f.unseal(wrongKey); !errors.Is(err, ErrWrongPassword) || p != nil {
		t.Errorf("wrong key: %v, want ErrWrongPassword", err)
	}

	mutated := func(change func(f *legacyFile)) []byte {
		f := valid
		change(&f)
		return sealLegacy(t, f, key, payload)
	}
	var otherType bytes.Buffer
	if err := gob.NewEncoder(&otherType).Encode(struct{ Name string }{"OGPROF"}); err != nil {
		t.Fatal(err)
	}
	var typeMismatch bytes.Buffer
	if err := gob.NewEncoder(&typeMismatch).Encode(struct{ Magic []int }{[]int{1}}); err != nil {
		t.Fatal(err)
	}
	good := sealLegacy(t, valid, key, payload)
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"version 2":         {mutated(func(f *legacyFile) { f.Version = 2 }), ErrUnsupported},
		"no version":        {mutated(func(f *legacyFile) { f.Version = 0 }), ErrUnsupported},
		"other magic":       {mutated(func(f *legacyFile) { f.Magic = "OGPROG" }), ErrCorrupt},
		"no magic":          {mutated(func(f *legacyFile) { f.Magic = "" }), ErrCorrupt},
		"31-byte salt":      {mutated(func(f *legacyFile) { f.Salt = salt[:31] }), ErrCorrupt},
		"no salt":           {mutated(func(f *legacyFile) { f.Salt = nil }), ErrCorrupt},
		"short inner":       {sealLegacy(t, legacyFile{Magic: legacyMagic, Version: 1, Salt: salt, Inner: make([]byte, 51)}, key, nil), ErrCorrupt},
		"no inner":          {sealLegacy(t, valid, key, nil), ErrCorrupt},
		"another gob value": {otherType.Bytes(), ErrCorrupt},
		"gob type mismatch": {typeMismatch.Bytes(), ErrCorrupt},
		"two values":        {append(bytes.Clone(good), good...), ErrCorrupt},
		"trailing byte":     {append(bytes.Clone(good), 0), ErrCorrupt},
		"empty file":        {nil, ErrCorrupt},
		"too large":         {append(bytes.Clone(good), make([]byte, maxFileSize)...), ErrCorrupt},
	} {
		if f, err := parseLegacy(c.data); !errors.Is(err, c.want) || f != nil {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
		// decode refuses them the same way, before any Argon2 work.
		if p, err := decode(c.data, []byte("pw")); !errors.Is(err, c.want) || p != nil {
			t.Errorf("%s: decode: %v, want %v", name, err, c.want)
		}
	}
}

func TestLegacyTruncated(t *testing.T) {
	file, pw, _, _ := legacyFixture(t)
	for n := range len(file) {
		if p, err := decode(file[:n], pw); !errors.Is(err, ErrCorrupt) || p != nil {
			t.Fatalf("truncated to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
}

// TestLegacyEveryByteFlipped flips every byte of the fixture. Nothing panics, and what
// still opens is the very same profile: only gob's type description, which names the
// original's Go type, is not protected, and it carries no meaning.
func TestLegacyEveryByteFlipped(t *testing.T) {
	file, pw, _, _ := legacyFixture(t)
	key := legacyFixtureKey(t, file, pw)
	orig, err := parseLegacy(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := orig.unseal(key)
	if err != nil {
		t.Fatal(err)
	}
	// The first gob message is the type description; its length is its first byte.
	typeEnd := 1 + int(file[0])
	wrongKey := bytes.Clone(key)
	wrongKey[0] ^= 1
	saltFlipped := false
	for i := range file {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			data := bytes.Clone(file)
			data[i] ^= mask
			f, err := parseLegacy(data)
			var p *Profile
			switch {
			case err != nil:
			case !bytes.Equal(f.Salt, orig.Salt) && !saltFlipped:
				// Run Argon2i once on a changed salt; a changed salt derives another key.
				saltFlipped = true
				p, err = decode(data, pw)
			case !bytes.Equal(f.Salt, orig.Salt):
				p, err = f.unseal(wrongKey)
			default:
				p, err = f.unseal(key)
			}
			if err != nil {
				if p != nil || !isFormatError(err) {
					t.Fatalf("byte %d ^ %#x: %v", i, mask, err)
				}
				continue
			}
			if i == 0 || i >= typeEnd {
				t.Fatalf("byte %d ^ %#x: opened", i, mask)
			}
			assertSameProfile(t, p, want)
		}
	}
	if !saltFlipped {
		t.Error("no flip reached a changed salt")
	}
}

// FuzzLegacyProfile feeds arbitrary bytes to the 2019 profile reader: as a file, which is
// decrypted with the fixture's password-derived key when it parses (Argon2i itself is
// left out: it would make each execution take a tenth of a second), and as a decrypted
// payload, which no mutation of a sealed file could reach. Whatever parses must be a
// profile that can be written in the current format and read back.
func FuzzLegacyProfile(f *testing.F) {
	file, pw, _, _ := legacyFixture(f)
	key := legacyFixtureKey(f, file, pw)
	f.Add(file)
	f.Add(file[:len(file)/2])
	f.Add(legacyPayload(strings.Repeat("k", 32), "AKIA", "SECRET", "bucket", "", "us-east-1"))
	f.Add(legacyPayload(strings.Repeat("k", 32), "", "", "b", "", ""))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := parseLegacy(data)
		if err != nil {
			if lf != nil || !isFormatError(err) {
				t.Fatalf("parseLegacy: %v", err)
			}
			p, err := decode(data, pw)
			if err == nil || p != nil {
				t.Fatal("decode opened what parseLegacy refused")
			}
			if !bytes.HasPrefix(data, []byte(magic)) && !isFormatError(err) {
				t.Fatalf("decode: %v", err)
			}
		} else {
			p, err := lf.unseal(key)
			checkLegacyParsed(t, p, err)
		}
		p, err := decodeLegacyPayload(bytes.Clone(data))
		checkLegacyParsed(t, p, err)
	})
}

func checkLegacyParsed(t *testing.T, p *Profile, err error) {
	t.Helper()
	if err == nil && (!p.Legacy || !p.LegacyArchives) {
		t.Fatalf("2019 profile opened without its flags: %s", p)
	}
	checkParsed(t, p, err)
	if err != nil {
		return
	}
	payload, err := p.encodePayload()
	if err != nil {
		t.Fatal(err)
	}
	defer payload.Destroy()
	again, err := decodePayload(bytes.Clone(payload.Bytes()))
	if err != nil || !again.LegacyArchives {
		t.Fatalf("rewritten 2019 profile lost its 2019 archives: %v", err)
	}
}
