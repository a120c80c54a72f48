package profile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/awnumar/memguard"
)

// fastKDF keeps Argon2 cheap in tests; production code passes DefaultKDF.
var fastKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func password(s string) *memguard.LockedBuffer {
	return memguard.NewBufferFromBytes([]byte(s))
}

func enclave(s string) *memguard.Enclave {
	return memguard.NewEnclave([]byte(s))
}

func fullProfile(t *testing.T) *Profile {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p.AccessKeyID = enclave("AKIAEXAMPLE")
	p.SecretAccessKey = enclave("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	p.Bucket = "ogive-test"
	p.Region = "eu-west-1"
	p.Endpoint = "http://127.0.0.1:7070"
	p.Prefix = "backups/é/"
	p.PathStyle = true
	return p
}

func openEnclave(t *testing.T, e *memguard.Enclave) []byte {
	t.Helper()
	if e == nil {
		return nil
	}
	b, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Destroy()
	return bytes.Clone(b.Bytes())
}

func assertSameProfile(t *testing.T, got, want *Profile) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want *memguard.Enclave
	}{
		{"master key", got.MasterKey, want.MasterKey},
		{"access key ID", got.AccessKeyID, want.AccessKeyID},
		{"secret access key", got.SecretAccessKey, want.SecretAccessKey},
	} {
		if (f.got == nil) != (f.want == nil) {
			t.Errorf("%s: got set=%t, want set=%t", f.name, f.got != nil, f.want != nil)
			continue
		}
		if !bytes.Equal(openEnclave(t, f.got), openEnclave(t, f.want)) {
			t.Errorf("%s differs", f.name)
		}
	}
	if got.Bucket != want.Bucket || got.Region != want.Region || got.Endpoint != want.Endpoint ||
		got.Prefix != want.Prefix || got.PathStyle != want.PathStyle {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	noKeys := fullProfile(t)
	noKeys.AccessKeyID, noKeys.SecretAccessKey = nil, nil
	noKeys.Endpoint, noKeys.Prefix, noKeys.Region, noKeys.PathStyle = "", "", "", false

	for name, p := range map[string]*Profile{"every field": fullProfile(t), "no AWS keys": noKeys} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "profile")
			if err := Create(path, p, password("hunter22"), fastKDF); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			got, err := Open(path, password("hunter22"))
			if err != nil {
				t.Fatal(err)
			}
			assertSameProfile(t, got, p)
			if got.KDF != fastKDF {
				t.Errorf("KDF %+v, want %+v", got.KDF, fastKDF)
			}
		})
	}
}

type vector struct {
	Password string `json:"password"`
	KDF      struct {
		Time      uint32 `json:"time"`
		MemoryKiB uint32 `json:"memory_kib"`
		Threads   uint8  `json:"threads"`
	} `json:"kdf"`
	Salt            string `json:"salt"`
	Nonce           string `json:"nonce"`
	MasterKey       string `json:"master_key"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	Bucket          string `json:"bucket"`
	Region          string `json:"region"`
	Endpoint        string `json:"endpoint"`
	Prefix          string `json:"prefix"`
	PathStyle       bool   `json:"path_style"`
	Payload         string `json:"payload"`
	File            string `json:"file"`
}

func loadVector(t testing.TB) (v vector, file []byte) {
	t.Helper()
	data, err := os.ReadFile("../testdata/profile/vector.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	file, err = hex.DecodeString(v.File)
	if err != nil {
		t.Fatal(err)
	}
	return v, file
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKnownAnswer(t *testing.T) {
	v, want := loadVector(t)
	p := &Profile{
		MasterKey:       memguard.NewEnclave(mustHex(t, v.MasterKey)),
		AccessKeyID:     enclave(v.AccessKeyID),
		SecretAccessKey: enclave(v.SecretAccessKey),
		Bucket:          v.Bucket,
		Region:          v.Region,
		Endpoint:        v.Endpoint,
		Prefix:          v.Prefix,
		PathStyle:       v.PathStyle,
	}
	kdf := KDFParams{Time: v.KDF.Time, MemoryKiB: v.KDF.MemoryKiB, Threads: v.KDF.Threads}
	random := append(mustHex(t, v.Salt), mustHex(t, v.Nonce)...)

	payload, err := p.encodePayload()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(payload.Bytes()); got != v.Payload {
		t.Errorf("payload\n got %s\nwant %s", got, v.Payload)
	}
	payload.Destroy()

	got, err := seal(p, []byte(v.Password), kdf, bytes.NewReader(random))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("sealed file\n got %x\nwant %x", got, want)
	}
	raw, err := os.ReadFile("../testdata/profile/vector.profile")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) {
		t.Error("vector.profile differs from vector.json")
	}

	// Git does not keep the 0600 mode, so open a copy.
	path := filepath.Join(t.TempDir(), "vector.profile")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	opened, err := Open(path, password(v.Password))
	if err != nil {
		t.Fatal(err)
	}
	assertSameProfile(t, opened, p)
	if opened.KDF != kdf {
		t.Errorf("KDF %+v, want %+v", opened.KDF, kdf)
	}
}

func sealed(t testing.TB) []byte {
	t.Helper()
	_, file := loadVector(t)
	return file
}

func withTrailer(body []byte) []byte {
	sum := sha256.Sum256(body)
	return append(bytes.Clone(body), sum[:]...)
}

func isFormatError(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrWrongPassword)
}

func TestEveryByteFlipped(t *testing.T) {
	file := sealed(t)
	pw := []byte("correct horse battery staple")
	for i := range file {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			data := bytes.Clone(file)
			data[i] ^= mask
			p, err := decode(data, pw)
			if err == nil || p != nil {
				t.Fatalf("byte %d ^ %#x: opened", i, mask)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("byte %d ^ %#x: %v, want ErrCorrupt or ErrUnsupported", i, mask, err)
			}
		}
	}
}

// With the checksum recomputed, tampering must still be caught: by the
// header checks or by the AEAD, which also covers the header.
func TestTamperingWithValidChecksum(t *testing.T) {
	file := sealed(t)
	body := file[:len(file)-trailerSize]
	pw := []byte("correct horse battery staple")
	for i := range body {
		data := bytes.Clone(body)
		data[i] ^= 0x01
		p, err := decode(withTrailer(data), pw)
		if err == nil || p != nil {
			t.Fatalf("byte %d: opened", i)
		}
		if !isFormatError(err) {
			t.Fatalf("byte %d: %v", i, err)
		}
		if i >= offSalt && !errors.Is(err, ErrWrongPassword) {
			t.Errorf("byte %d: %v, want ErrWrongPassword", i, err)
		}
	}
}

func TestTruncated(t *testing.T) {
	file := sealed(t)
	for n := range len(file) {
		_, err := decode(file[:n], []byte("correct horse battery staple"))
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	for _, pw := range []string{"correct horse battery stapl", "Correct horse battery staple", ""} {
		p, err := decode(sealed(t), []byte(pw))
		if !errors.Is(err, ErrWrongPassword) || p != nil {
			t.Errorf("password %q: %v", pw, err)
		}
	}
}

func header(t *testing.T, mutate func(h []byte)) []byte {
	t.Helper()
	file := sealed(t)
	body := bytes.Clone(file[:len(file)-trailerSize])
	mutate(body)
	return withTrailer(body)
}

func TestUnsupportedHeader(t *testing.T) {
	for name, mutate := range map[string]func(h []byte){
		"version 3":         func(h []byte) { h[offVersion] = 3 },
		"version 1":         func(h []byte) { h[offVersion] = 1 },
		"scrypt":            func(h []byte) { h[offKDF] = 2 },
		"zero iterations":   func(h []byte) { binary.BigEndian.PutUint32(h[offTime:], 0) },
		"17 iterations":     func(h []byte) { binary.BigEndian.PutUint32(h[offTime:], 17) },
		"64 GiB":            func(h []byte) { binary.BigEndian.PutUint32(h[offMemory:], 64<<20) },
		"1 GiB + 1 KiB":     func(h []byte) { binary.BigEndian.PutUint32(h[offMemory:], 1<<20+1) },
		"memory below 8p":   func(h []byte) { h[offThreads] = 4; binary.BigEndian.PutUint32(h[offMemory:], 31) },
		"zero threads":      func(h []byte) { h[offThreads] = 0 },
		"17 threads":        func(h []byte) { h[offThreads] = 17 },
		"max uint32 memory": func(h []byte) { binary.BigEndian.PutUint32(h[offMemory:], 0xffffffff) },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decode(header(t, mutate), []byte("correct horse battery staple"))
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%v, want ErrUnsupported", err)
			}
		})
	}
}

// A file demanding 64 GiB must be refused before Argon2 allocates anything.
func TestHugeMemoryRefusedBeforeAllocating(t *testing.T) {
	data := header(t, func(h []byte) { binary.BigEndian.PutUint32(h[offMemory:], 64<<20) })
	pw := []byte("correct horse battery staple")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := decode(data, pw)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("%v, want ErrUnsupported", err)
	}
	if !strings.Contains(err.Error(), "67108864 KiB") {
		t.Errorf("error %q does not give the reason", err)
	}
	// Argon2 would allocate at least its memory parameter; even the minimum
	// (8 KiB per lane) dwarfs the few error values created here.
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<10 {
		t.Errorf("allocated %d bytes before refusing", n)
	}
}

func TestPermissions(t *testing.T) {
	file := sealed(t)
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o601, 0o610} {
		path := filepath.Join(t.TempDir(), "profile")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, password("correct horse battery staple")); !errors.Is(err, ErrPermissions) {
			t.Errorf("mode %04o: %v, want ErrPermissions", mode, err)
		}
	}
	for _, mode := range []fs.FileMode{0o600, 0o400} {
		path := filepath.Join(t.TempDir(), "profile")
		if err := os.WriteFile(path, file, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, password("correct horse battery staple")); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "missing"), password("pw"))
	if !errors.Is(err, ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir, password("pw")); err == nil || errors.Is(err, ErrPermissions) {
		t.Errorf("directory: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, append([]byte(magic), make([]byte, maxFileSize)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(big, password("pw")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("oversized file: %v", err)
	}
	gob := filepath.Join(dir, "gob")
	if err := os.WriteFile(gob, []byte("\x3c\xff\x81\x03\x01\x01\x07Profile"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(gob, password("pw")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("foreign file: %v", err)
	}
	if _, err := Open(gob, nil); err == nil {
		t.Error("nil password accepted")
	}
	destroyed := password("pw")
	destroyed.Destroy()
	if _, err := Open(gob, destroyed); err == nil {
		t.Error("destroyed password accepted")
	}
}

func TestCreateNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "profile")
	if err := os.WriteFile(path, []byte("precious"), 0o640); err != nil {
		t.Fatal(err)
	}
	err := Create(path, fullProfile(t), password("hunter22"), fastKDF)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("%v, want ErrExists", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "precious" {
		t.Errorf("file changed: %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", fi.Mode().Perm())
	}
	dangling := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := Create(dangling, fullProfile(t), password("hunter22"), fastKDF); !errors.Is(err, ErrExists) {
		t.Errorf("dangling symlink: %v, want ErrExists", err)
	}
	assertOnlyFiles(t, dir, "link", "profile")
}

// Concurrent creators race for the name; the link makes exactly one win
// even though both pass the early existence check.
func TestCreateRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profile")
	p := fullProfile(t)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = writeNewProfile(path, p) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrExists):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d creators succeeded, want 1", wins)
	}
	assertOnlyFiles(t, filepath.Dir(path), "profile")
}

// writeNewProfile skips Create's early check to exercise the link itself.
func writeNewProfile(path string, p *Profile) error {
	data, err := seal(p, []byte("hunter22"), fastKDF, bytes.NewReader(make([]byte, saltSize+nonceSize)))
	if err != nil {
		return err
	}
	return writeNew(path, data)
}

func TestCreateMakesPrivateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config", "ogive")
	path := filepath.Join(dir, "profile")
	if err := Create(path, fullProfile(t), password("hunter22"), fastKDF); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("directory mode %v, want no group/other bits", fi.Mode().Perm())
	}
}

func TestCreateRejectsInvalidProfiles(t *testing.T) {
	for name, change := range map[string]func(p *Profile){
		"no master key":    func(p *Profile) { p.MasterKey = nil },
		"short master key": func(p *Profile) { p.MasterKey = enclave("short") },
		"no bucket":        func(p *Profile) { p.Bucket = "" },
		"key ID only":      func(p *Profile) { p.SecretAccessKey = nil },
		"secret only":      func(p *Profile) { p.AccessKeyID = nil },
		"long prefix":      func(p *Profile) { p.Prefix = strings.Repeat("x", maxValueSize+1) },
		"binary region":    func(p *Profile) { p.Region = "\xff" },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := fullProfile(t)
			change(p)
			if err := Create(filepath.Join(dir, "profile"), p, password("hunter22"), fastKDF); err == nil {
				t.Error("created")
			}
			assertOnlyFiles(t, dir)
		})
	}
	for _, kdf := range []KDFParams{{}, {Time: 17, MemoryKiB: 64, Threads: 1}, {Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1}} {
		dir := t.TempDir()
		err := Create(filepath.Join(dir, "profile"), fullProfile(t), password("hunter22"), kdf)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("kdf %+v: %v, want ErrUnsupported", kdf, err)
		}
		assertOnlyFiles(t, dir)
	}
}

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "profile")
	first := fullProfile(t)
	if err := Create(path, first, password("hunter22"), fastKDF); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	second := fullProfile(t)
	second.Bucket = "another-bucket"
	if err := Replace(path, second, password("new password"), fastKDF); err != nil {
		t.Fatal(err)
	}
	got, err := Open(path, password("new password"))
	if err != nil {
		t.Fatal(err)
	}
	assertSameProfile(t, got, second)

	bak, err := os.ReadFile(path + ".bak")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bak, old) {
		t.Error(".bak differs from the old file")
	}
	for _, name := range []string{path, path + ".bak"} {
		if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	fromBackup, err := Open(path+".bak", password("hunter22"))
	if err != nil {
		t.Fatal(err)
	}
	assertSameProfile(t, fromBackup, first)
	assertOnlyFiles(t, dir, "profile", "profile.bak")
}

func TestReplaceFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := Create(real, fullProfile(t), password("hunter22"), fastKDF); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := Replace(link, fullProfile(t), password("hunter22"), fastKDF); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("link replaced: %v %v", fi, err)
	}
	assertOnlyFiles(t, dir, "link", "real", "real.bak")
}

func TestReplaceMissing(t *testing.T) {
	dir := t.TempDir()
	err := Replace(filepath.Join(dir, "profile"), fullProfile(t), password("hunter22"), fastKDF)
	if !errors.Is(err, ErrNotExist) {
		t.Errorf("%v, want ErrNotExist", err)
	}
	assertOnlyFiles(t, dir)
}

func assertOnlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

func TestString(t *testing.T) {
	p := fullProfile(t)
	s := p.String()
	for _, want := range []string{"ogive-test", "eu-west-1", redacted} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
	for _, secret := range []string{"AKIAEXAMPLE", "wJalr", "EXAMPLEKEY"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q reveals %q", s, secret)
		}
	}
	p.AccessKeyID, p.SecretAccessKey = nil, nil
	if !strings.Contains(p.String(), "standard credential chain") {
		t.Errorf("%q does not say the credential chain is used", p.String())
	}
	if (*Profile)(nil).String() != "<nil>" {
		t.Error("nil profile")
	}
}

func TestNew(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ka, kb := openEnclave(t, a.MasterKey), openEnclave(t, b.MasterKey)
	if len(ka) != masterKeySize || bytes.Equal(ka, kb) {
		t.Errorf("master keys %x and %x", ka, kb)
	}
	if a.AccessKeyID != nil || a.Bucket != "" {
		t.Errorf("new profile has more than a key: %s", a)
	}
}

func rec(tag byte, value string) string {
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(value)))
	return string([]byte{tag}) + string(n[:]) + value
}

func TestDecodePayload(t *testing.T) {
	key := rec(tagMasterKey, strings.Repeat("k", 32))
	bucket := rec(tagBucket, "b")
	for _, tc := range []struct {
		name    string
		payload string
		want    error // nil: decodes
	}{
		{"minimal", key + bucket, nil},
		{"path-style 0", key + bucket + rec(tagPathStyle, "\x00"), nil},
		{"path-style 1", key + bucket + rec(tagPathStyle, "\x01"), nil},
		{"empty", "", ErrCorrupt},
		{"no master key", bucket, ErrCorrupt},
		{"no bucket", key, ErrCorrupt},
		{"31-byte key", rec(tagMasterKey, strings.Repeat("k", 31)) + bucket, ErrCorrupt},
		{"33-byte key", rec(tagMasterKey, strings.Repeat("k", 33)) + bucket, ErrCorrupt},
		{"key ID without secret", key + rec(tagAccessKeyID, "id") + bucket, ErrCorrupt},
		{"secret without key ID", key + rec(tagSecretAccessKey, "s") + bucket, ErrCorrupt},
		{"out of order", bucket + key, ErrCorrupt},
		{"repeated", key + bucket + rec(tagBucket, "c"), ErrCorrupt},
		{"empty value", key + bucket + rec(tagRegion, ""), ErrCorrupt},
		{"path-style 2", key + bucket + rec(tagPathStyle, "\x02"), ErrCorrupt},
		{"path-style 2 bytes", key + bucket + rec(tagPathStyle, "\x01\x00"), ErrCorrupt},
		{"not UTF-8", key + rec(tagBucket, "\xff"), ErrCorrupt},
		{"record overruns", key + bucket[:len(bucket)-1], ErrCorrupt},
		{"trailing byte", key + bucket + "\x05", ErrCorrupt},
		{"unknown tag", key + bucket + rec(0x0a, "x"), ErrUnsupported},
		{"tag zero", rec(0x00, "x") + key + bucket, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodePayload([]byte(tc.payload))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if p.PathStyle != strings.HasSuffix(tc.payload, "\x01") {
					t.Errorf("path-style %t", p.PathStyle)
				}
				return
			}
			if !errors.Is(err, tc.want) || p != nil {
				t.Errorf("%v, want %v", err, tc.want)
			}
		})
	}
}

// Secrets are moved out of the decrypted payload, not copied.
func TestDecodePayloadWipesSecrets(t *testing.T) {
	payload := []byte(rec(tagMasterKey, strings.Repeat("k", 32)) + rec(tagAccessKeyID, "AKIA") +
		rec(tagSecretAccessKey, "SECRET") + rec(tagBucket, "b"))
	if _, err := decodePayload(payload); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"kkkk", "AKIA", "SECRET"} {
		if bytes.Contains(payload, []byte(secret)) {
			t.Errorf("payload still holds %q", secret)
		}
	}
}
