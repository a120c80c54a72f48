package crypt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/hkdf"
)

// idVector pins a version 3 storage ID: the metadata block and name it seals.
type idVector struct {
	Name      string `json:"name"`
	MasterKey string `json:"master_key"`
	Salt      string `json:"salt"`
	Filename  string `json:"filename"`
	// Mode is the permission bits in octal, "" when not recorded; the mtime fields are
	// omitted when no time is recorded.
	Mode      string `json:"mode,omitempty"`
	MTimeSec  *int64 `json:"mtime_seconds,omitempty"`
	MTimeNsec *int64 `json:"mtime_nanoseconds,omitempty"`
	// Tree marks a directory archive (flags bit 2); its index keys (FORMAT.md §7.2)
	// follow.
	Tree       bool   `json:"tree,omitempty"`
	IndexKey   string `json:"index_key,omitempty"`
	IndexNonce string `json:"index_nonce,omitempty"`
	NameKey    string `json:"name_key"`
	Sealed     string `json:"sealed_plaintext"` // metadata block ‖ name, hex
	StorageID  string `json:"storage_id"`
}

// idRejected is a storage ID that a reader must refuse.
type idRejected struct {
	Name         string `json:"name"`
	MasterKey    string `json:"master_key"`
	Construction string `json:"construction"`
	StorageID    string `json:"storage_id"`
	// Opens is the plaintext AES-GCM gives for it, hex, when it authenticates at all:
	// then only the rules on the metadata block refuse it.
	Opens string `json:"gcm_plaintext,omitempty"`
}

type idInput struct {
	name, filename string
	salt           Salt
	meta           Meta
}

func idInputs() []idInput {
	return []idInput{
		{name: "hello-v3", filename: "hello.txt", salt: saltFrom(0xd0), meta: Meta{
			HasMode: true, Mode: 0o640, HasMTime: true, MTime: time.Unix(1559392496, 123456789).UTC()}},
		{name: "mode-only-setuid", filename: "run.sh", salt: saltFrom(0xd8), meta: Meta{HasMode: true, Mode: 0o4755}},
		{name: "mtime-only-before-1970", filename: "old", salt: saltFrom(0xe0), meta: Meta{
			HasMTime: true, MTime: time.Unix(-1, 999999999).UTC()}},
		{name: "mtime-year-1", filename: "zero", salt: saltFrom(0xc8), meta: Meta{
			HasMode: true, Mode: 0o644, HasMTime: true, MTime: time.Time{}}},
		{name: "tree-photos", filename: "photos.tar", salt: saltFrom(0xb8), meta: Meta{
			HasMode: true, Mode: 0o755, HasMTime: true, MTime: time.Unix(1700000000, 5).UTC(), Tree: true}},
	}
}

func computeIDVector(t *testing.T, in idInput) idVector {
	t.Helper()
	k := testKeys(t, in.salt)
	id, err := SealNameMeta(k, in.filename, in.meta, MaxIDLen)
	if err != nil {
		t.Fatalf("%s: %v", in.name, err)
	}
	v := idVector{
		Name: in.name, MasterKey: hex.EncodeToString(vectorMaster()), Salt: hex.EncodeToString(in.salt[:]),
		Filename: in.filename, NameKey: hex.EncodeToString(k.secret.Bytes()[keySize:]),
		Sealed:    hex.EncodeToString(append(in.meta.appendBlock(nil), in.filename...)),
		StorageID: id,
	}
	if in.meta.HasMode {
		v.Mode = fmt.Sprintf("%04o", in.meta.Mode)
	}
	if in.meta.HasMTime {
		sec, nsec := in.meta.MTime.Unix(), int64(in.meta.MTime.Nanosecond())
		v.MTimeSec, v.MTimeNsec = &sec, &nsec
	}
	if in.meta.Tree {
		ik, err := DeriveIndexKeys(vectorMaster(), in.salt)
		if err != nil {
			t.Fatal(err)
		}
		defer ik.Destroy()
		v.Tree, v.IndexKey, v.IndexNonce = true, hex.EncodeToString(ik.secret.Bytes()[:keySize]), hex.EncodeToString(ik.nonce[:])
	}
	return v
}

// sealRaw seals any plaintext as an ID of version, as only a holder of the master key
// can: the must-fail IDs that authenticate.
func sealRaw(t *testing.T, k *Keys, version byte, plain []byte) string {
	t.Helper()
	aead, err := k.nameAEAD()
	if err != nil {
		t.Fatal(err)
	}
	raw := append([]byte{version}, k.salt[:]...)
	return idEncoding.EncodeToString(aead.Seal(raw, make([]byte, 12), plain, raw))
}

func relabelID(t *testing.T, id string, version byte) string {
	t.Helper()
	raw, err := idEncoding.DecodeString(id)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] = version
	return idEncoding.EncodeToString(raw)
}

func idRejectedInputs(t *testing.T) []idRejected {
	hexMaster := hex.EncodeToString(vectorMaster())
	v3 := computeIDVector(t, idInputs()[0]).StorageID
	v2 := computeVector(t, vectorInputs()[0]).StorageID
	out := []idRejected{
		{Name: "v3-relabelled-as-v2", Construction: "storage ID of vector hello-v3 with its first byte set to 02",
			StorageID: relabelID(t, v3, Version)},
		{Name: "v2-relabelled-as-v3", Construction: "storage ID of vector hello (version 2) with its first byte set to 03",
			StorageID: relabelID(t, v2, VersionMeta)},
	}
	// Relabellings that would pass without the version byte in the additional data:
	// the block 01 0141 (mode 0501) reads as the name prefix "\x01\x01A" and back.
	strip, err := SealNameMeta(testKeys(t, saltFrom(0xf0)), "hello.txt", Meta{HasMode: true, Mode: 0o501}, MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	add, err := SealName(testKeys(t, saltFrom(0xf1)), "\x01\x01Ahello.txt", MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out,
		idRejected{Name: "v3-block-stripped", Construction: "version 03, salt f0f1…ff, mode 0501, name hello.txt " +
			"(sealed 010141 ‖ hello.txt), with its first byte set to 02: if the additional data did not hold the version, " +
			"it would open as the name \"\\x01\\x01Ahello.txt\"", StorageID: relabelID(t, strip, Version)},
		idRejected{Name: "v2-block-added", Construction: "version 02, salt f1f2…ff00, name \"\\x01\\x01Ahello.txt\", " +
			"with its first byte set to 03: without the version in the additional data it would open as " +
			"mode 0501, name hello.txt", StorageID: relabelID(t, add, VersionMeta)})
	// The rest authenticate: sealed with the right key under a salt of their own.
	sealed := []struct {
		name, what string
		plain      []byte
	}{
		{"unknown-flag", "flags 08, an unknown field", append([]byte{0x08}, "hello.txt"...)},
		{"empty-block", "flags 00: nothing recorded, which a writer writes as version 2", append([]byte{0x00}, "hello.txt"...)},
		{"nanoseconds-1e9", "flags 02, seconds 0, nanoseconds 1000000000",
			append(binary.BigEndian.AppendUint32([]byte{0x02, 0, 0, 0, 0, 0, 0, 0, 0}, 1e9), "hello.txt"...)},
		{"mode-beyond-07777", "flags 01, mode 010644", append([]byte{0x01, 0x11, 0xa4}, "hello.txt"...)},
		{"block-cut-short", "flags 03, mode 0644, then only the 9 bytes of hello.txt where 12 bytes of time belong",
			append([]byte{0x03, 0x01, 0xa4}, "hello.txt"...)},
		{"no-name", "flags 01, mode 0644, and no name", []byte{0x01, 0x01, 0xa4}},
	}
	for i, s := range sealed {
		salt := saltFrom(0xe8 + byte(i))
		out = append(out, idRejected{Name: s.name,
			Construction: fmt.Sprintf("version 03, salt %x, sealed plaintext: %s", salt[:], s.what),
			StorageID:    sealRaw(t, testKeys(t, salt), VersionMeta, s.plain), Opens: hex.EncodeToString(s.plain)})
	}
	for i := range out {
		out[i].MasterKey = hexMaster
	}
	return out
}

func TestIDVectors(t *testing.T) {
	file := loadVectors(t)
	var got []idVector
	for _, in := range idInputs() {
		got = append(got, computeIDVector(t, in))
	}
	if !reflect.DeepEqual(file.IDs, got) {
		t.Errorf("ids differ from the code (regenerate with go test -run TestVectors -update):\nfile: %+v\ncode: %+v", file.IDs, got)
	}
	if rej := idRejectedInputs(t); !reflect.DeepEqual(file.IDsMustFail, rej) {
		t.Errorf("ids_must_fail differ from the code:\nfile: %+v\ncode: %+v", file.IDsMustFail, rej)
	}
	for i, v := range file.IDs {
		name, meta, k, err := OpenIDMeta(vectorMaster(), v.StorageID)
		if err != nil || name != v.Filename || !meta.Equal(idInputs()[i].meta) {
			t.Errorf("%s: OpenIDMeta = %q, %+v, %v", v.Name, name, meta, err)
			continue
		}
		k.Destroy()
	}
	for _, r := range file.IDsMustFail {
		if name, meta, k, err := OpenIDMeta(vectorMaster(), r.StorageID); !errors.Is(err, ErrNotOgive) || k != nil {
			t.Errorf("%s: OpenIDMeta = %q, %+v, %v; want ErrNotOgive", r.Name, name, meta, err)
		}
	}
}

// specOpenIDv3 opens a storage ID of either version as docs/FORMAT.md §1.2 says, from
// the document alone.
func specOpenIDv3(master []byte, id string) (name string, mode, sec, nsec *int64, err error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(id)
	if err != nil || len(raw) < 34 || (raw[0] != 0x02 && raw[0] != 0x03) {
		return "", nil, nil, nil, errors.New("not an id")
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, raw[1:17], []byte("ogive v2 name key")), key); err != nil {
		return "", nil, nil, nil, err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return "", nil, nil, nil, err
	}
	p, err := gcm.Open(nil, make([]byte, 12), raw[17:], raw[:17])
	if err != nil {
		return "", nil, nil, nil, err
	}
	if raw[0] == 0x03 {
		flags := p[0]
		p = p[1:]
		if flags == 0 || flags&^7 != 0 {
			return "", nil, nil, nil, errors.New("bad flags")
		}
		if flags&1 != 0 {
			if len(p) < 2 || binary.BigEndian.Uint16(p) > 0o7777 {
				return "", nil, nil, nil, errors.New("bad mode")
			}
			m := int64(binary.BigEndian.Uint16(p))
			mode, p = &m, p[2:]
		}
		if flags&2 != 0 {
			if len(p) < 12 || binary.BigEndian.Uint32(p[8:]) >= 1e9 {
				return "", nil, nil, nil, errors.New("bad time")
			}
			s, n := int64(binary.BigEndian.Uint64(p)), int64(binary.BigEndian.Uint32(p[8:]))
			sec, nsec, p = &s, &n, p[12:]
		}
	}
	if len(p) == 0 {
		return "", nil, nil, nil, errors.New("no name")
	}
	return string(p), mode, sec, nsec, nil
}

func TestIDVectorsFromSpec(t *testing.T) {
	file := loadVectors(t)
	if len(file.IDs) == 0 || len(file.IDsMustFail) == 0 {
		t.Fatal("no version 3 ids in the vector file")
	}
	for _, v := range file.IDs {
		name, mode, sec, nsec, err := specOpenIDv3(mustHex(t, v.MasterKey), v.StorageID)
		gotMode := ""
		if mode != nil {
			gotMode = fmt.Sprintf("%04o", *mode)
		}
		if err != nil || name != v.Filename || gotMode != v.Mode || !reflect.DeepEqual(sec, v.MTimeSec) || !reflect.DeepEqual(nsec, v.MTimeNsec) {
			t.Errorf("%s: spec opens %q mode %q time %v.%v, %v", v.Name, name, gotMode, sec, nsec, err)
		}
		// FORMAT.md §7: flags bit 2 marks a directory archive, whose index has keys
		// of its own from the same salt.
		sealed := mustHex(t, v.Sealed)
		if tree := sealed[0]&0x04 != 0; tree != v.Tree {
			t.Errorf("%s: sealed flags %02x, tree %v", v.Name, sealed[0], v.Tree)
		}
		if v.Tree {
			salt := mustHex(t, v.Salt)
			key, nonce := make([]byte, 32), make([]byte, 12)
			io.ReadFull(hkdf.New(sha256.New, mustHex(t, v.MasterKey), salt, []byte("ogive v2 index key")), key)
			io.ReadFull(hkdf.New(sha256.New, mustHex(t, v.MasterKey), salt, []byte("ogive v2 index nonce")), nonce)
			if hex.EncodeToString(key) != v.IndexKey || hex.EncodeToString(nonce) != v.IndexNonce {
				t.Errorf("%s: index key %x nonce %x from the spec, vectors say %s %s", v.Name, key, nonce, v.IndexKey, v.IndexNonce)
			}
		}
	}
	for _, r := range file.IDsMustFail {
		if name, _, _, _, err := specOpenIDv3(mustHex(t, r.MasterKey), r.StorageID); err == nil {
			t.Errorf("%s: spec opens it as %q", r.Name, name)
		}
	}
}

func TestSealNameMeta(t *testing.T) {
	mtime := time.Date(2019, 6, 1, 12, 34, 56, 123456789, time.FixedZone("x", 3600))
	for i, meta := range []Meta{
		{HasMode: true, Mode: 0o640, HasMTime: true, MTime: mtime},
		{HasMode: true, Mode: 0},
		{HasMode: true, Mode: 0o7777},
		{HasMTime: true, MTime: time.Unix(-30610224000, 0)}, // year 1000
		{HasMTime: true, MTime: time.Unix(1<<40, 999999999)},
	} {
		salt := saltFrom(byte(0x10 + i))
		id, err := SealNameMeta(testKeys(t, salt), "f", meta, MaxIDLen)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := idEncoding.DecodeString(id)
		if raw[0] != VersionMeta || len(raw) != idHeaderLen+meta.metaLen()+1+idTagLen {
			t.Fatalf("%+v: raw id %x", meta, raw)
		}
		name, got, k, err := OpenIDMeta(vectorMaster(), id)
		if err != nil || name != "f" || !got.Equal(meta) {
			t.Fatalf("%+v: OpenIDMeta = %q, %+v, %v", meta, name, got, err)
		}
		// The keys opened may seal the same ID again, and nothing else.
		if again, err := SealNameMeta(k, "f", got, MaxIDLen); err != nil || again != id {
			t.Errorf("re-sealing gives %q, %v", again, err)
		}
		if _, err := SealName(k, "f", MaxIDLen); err == nil {
			t.Error("keys that opened a version 3 ID sealed the same name as version 2")
		}
		k.Destroy()
		if n, k, err := OpenID(vectorMaster(), id); err != nil || n != "f" {
			t.Errorf("OpenID of a version 3 ID: %q, %v", n, err)
		} else {
			k.Destroy()
		}
	}

	// Nothing to record: version 2, byte for byte.
	k := testKeys(t, saltFrom(0xa0))
	v2, _ := SealName(testKeys(t, saltFrom(0xa0)), "hello.txt", MaxIDLen)
	if id, err := SealNameMeta(k, "hello.txt", Meta{}, MaxIDLen); err != nil || id != v2 {
		t.Errorf("empty Meta: %q, %v; want the version 2 id %q", id, err, v2)
	}
	// One salt, one plaintext: the same name with other metadata is a second plaintext.
	if _, err := SealNameMeta(k, "hello.txt", Meta{HasMode: true, Mode: 0o600}, MaxIDLen); err == nil {
		t.Error("keys that sealed a version 2 ID sealed a version 3 one")
	}
	k = testKeys(t, saltFrom(0x30))
	if _, err := SealNameMeta(k, "a", Meta{HasMode: true, Mode: 0o600}, MaxIDLen); err != nil {
		t.Fatal(err)
	}
	if _, err := SealNameMeta(k, "a", Meta{HasMode: true, Mode: 0o644}, MaxIDLen); err == nil {
		t.Error("keys sealed one name with two modes")
	}

	if _, err := SealNameMeta(testKeys(t, saltFrom(0x31)), "a", Meta{HasMode: true, Mode: 0o10000}, MaxIDLen); err == nil {
		t.Error("a mode beyond 07777 was sealed")
	}
}

// TestSealNameMetaLimits checks the limits of FORMAT.md §1.2: 720 bytes with mode and
// time, 732 with the mode only, 722 with the time only, without a prefix.
func TestSealNameMetaLimits(t *testing.T) {
	both := Meta{HasMode: true, Mode: 0o644, HasMTime: true, MTime: time.Unix(1, 0)}
	for i, c := range []struct {
		meta Meta
		max  int
	}{{both, 720}, {Meta{HasMode: true}, 732}, {Meta{HasMTime: true, MTime: time.Unix(1, 0)}, 722}} {
		if _, err := SealNameMeta(testKeys(t, saltFrom(byte(0x40+i))), strings.Repeat("x", c.max+1), c.meta, MaxIDLen); !errors.Is(err, ErrNameTooLong) ||
			!strings.Contains(err.Error(), fmt.Sprintf("at most %d fit", c.max)) {
			t.Errorf("%+v: %d bytes: %v; want ErrNameTooLong, at most %d", c.meta, c.max+1, err, c.max)
		}
		id, err := SealNameMeta(testKeys(t, saltFrom(byte(0x50+i))), strings.Repeat("x", c.max), c.meta, MaxIDLen)
		if err != nil || len(id) > MaxIDLen {
			t.Errorf("%+v: %d bytes: %d, %v", c.meta, c.max, len(id), err)
		}
	}
}

// TestOpenIDMetaTamper is a bucket writer's view: without the master key, every change
// of a version 3 ID, its version byte, its length or any of its bits, is not an archive
// of this profile, never a file with other metadata.
func TestOpenIDMetaTamper(t *testing.T) {
	in := idInputs()[0]
	id, err := SealNameMeta(testKeys(t, in.salt), in.filename, in.meta, MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := idEncoding.DecodeString(id)
	try := func(what string, b []byte) {
		t.Helper()
		if name, meta, k, err := OpenIDMeta(vectorMaster(), idEncoding.EncodeToString(b)); !errors.Is(err, ErrNotOgive) || k != nil {
			t.Fatalf("%s: OpenIDMeta = %q, %+v, %v; want ErrNotOgive", what, name, meta, err)
		}
	}
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			try(fmt.Sprintf("byte %d bit %d flipped", i, bit), b)
		}
	}
	for n := range len(raw) {
		try(fmt.Sprintf("cut to %d bytes", n), raw[:n])
		// The block dropped from the ciphertext, the tag kept.
		if n > idHeaderLen && n < len(raw)-idTagLen {
			try(fmt.Sprintf("ciphertext bytes %d.. dropped", n), append(bytes.Clone(raw[:n]), raw[len(raw)-idTagLen:]...))
		}
	}
	for v := range 256 {
		if byte(v) != VersionMeta {
			b := bytes.Clone(raw)
			b[0] = byte(v)
			try(fmt.Sprintf("version %02x", v), b)
		}
	}
	try("extended", append(bytes.Clone(raw), 0))
}

// TestRelabelledVersionDoesNotAuthenticate: the version byte is in the additional data.
// Were it not, a bucket writer could strip a block that reads as a valid name
// (mode 0501 is 01 01 41, "\x01\x01A") by relabelling the ID as version 2, or add one
// by relabelling a version 2 ID whose name starts with such bytes as version 3: a
// file restored with a mode of their choosing. Both must fail to authenticate.
func TestRelabelledVersionDoesNotAuthenticate(t *testing.T) {
	v3, err := SealNameMeta(testKeys(t, saltFrom(0x60)), "hello.txt", Meta{HasMode: true, Mode: 0o501}, MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := SealName(testKeys(t, saltFrom(0x61)), "\x01\x01Ahello.txt", MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	for what, id := range map[string]string{"v3 as v2": relabelID(t, v3, Version), "v2 as v3": relabelID(t, v2, VersionMeta)} {
		if name, meta, k, err := OpenIDMeta(vectorMaster(), id); !errors.Is(err, ErrNotOgive) || k != nil {
			t.Errorf("%s: OpenIDMeta = %q, %+v, %v; want ErrNotOgive", what, name, meta, err)
		}
	}
}

// TestDocVersion3Example compares the example of FORMAT.md §1.2, version 3, with what
// the package computes for vector hello-v3.
func TestDocVersion3Example(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "FORMAT.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(doc, []byte("Example, vector `hello-v3`"))
	end := bytes.Index(doc, []byte("\n### 1.3 "))
	if start < 0 || end < start {
		t.Fatal("FORMAT.md §1.2 has no example of vector hello-v3")
	}
	section := string(doc[start:end])
	m := regexp.MustCompile("(?s)```\nB     = (.*?)\nid    = ([A-Za-z0-9_-]+)\n```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("the hello-v3 example has no block and id")
	}
	var block string
	for _, line := range strings.Split(m[1], "\n") {
		block += strings.Fields(line)[0]
	}
	in := idInputs()[0]
	id, err := SealNameMeta(testKeys(t, in.salt), in.filename, in.meta, MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(in.meta.appendBlock(nil)); block != want {
		t.Errorf("§1.2 B:\n  doc: %s\n code: %s", block, want)
	}
	if m[2] != id {
		t.Errorf("§1.2 id:\n  doc: %s\n code: %s", m[2], id)
	}
	raw, _ := idEncoding.DecodeString(id)
	if want := fmt.Sprintf("The ID is %d characters for %d raw bytes", len(id), len(raw)); !strings.Contains(section, want) {
		t.Errorf("§1.2 does not say %q", want)
	}
}
