package profile

// These tests read the hex blocks of docs/FORMAT.md §2 and compare them with what the code
// produces, so that the document cannot drift from the format; HChaCha20 is also computed
// by an implementation written from the document's prose, to prove the prose.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

const formatDoc = "../docs/FORMAT.md"

// docLabel starts a value in a block: "name: value".
var docLabel = regexp.MustCompile(`^([A-Za-z0-9][^:]*):\s*(.*)$`)

// docValues returns the labelled values in the fenced blocks of a subsection of FORMAT.md:
// the one headed sub, after the heading section. A value continues on indented lines,
// joined with a space.
func docValues(t *testing.T, section, sub string) map[string]string {
	t.Helper()
	f, err := os.Open(formatDoc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	values := map[string]string{}
	var (
		inSection, inSub, fenced bool
		last                     string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			last = ""
			continue
		}
		if !fenced && strings.HasPrefix(line, "#") {
			switch {
			case line == section:
				inSection = true
			case strings.HasPrefix(line, "## "):
				inSection = false
			}
			inSub = inSection && line == sub
			continue
		}
		if !inSub || !fenced || strings.TrimSpace(line) == "" {
			continue
		}
		if m := docLabel.FindStringSubmatch(line); m != nil {
			last = m[1]
			if _, dup := values[last]; dup {
				t.Fatalf("%s, %s: %q appears twice", section, sub, last)
			}
			values[last] = m[2]
			continue
		}
		if last == "" || (line[0] != ' ' && line[0] != '\t') {
			t.Fatalf("%s, %s: line %q is neither a value nor its continuation", section, sub, line)
		}
		values[last] += " " + strings.TrimSpace(line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(values) == 0 {
		t.Fatalf("%s: no values under %q, %q", formatDoc, section, sub)
	}
	return values
}

// docBlock gives typed access to the values of a subsection; every read is of a value
// that must be there.
type docBlock struct {
	t      *testing.T
	values map[string]string
	used   map[string]bool
}

func newDocBlock(t *testing.T, section, sub string) *docBlock {
	return &docBlock{t: t, values: docValues(t, section, sub), used: map[string]bool{}}
}

func (d *docBlock) raw(name string) string {
	d.t.Helper()
	v, ok := d.values[name]
	if !ok {
		d.t.Fatalf("FORMAT.md has no value %q", name)
	}
	d.used[name] = true
	return v
}

func (d *docBlock) hex(name string) []byte {
	d.t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(d.raw(name)), ""))
	if err != nil {
		d.t.Fatalf("%s: %v", name, err)
	}
	return b
}

func (d *docBlock) text(name string) string {
	d.t.Helper()
	s, err := strconv.Unquote(d.raw(name))
	if err != nil {
		d.t.Fatalf("%s: not a quoted string: %v", name, err)
	}
	return s
}

func (d *docBlock) number(name string) uint32 {
	d.t.Helper()
	n, err := strconv.ParseUint(d.raw(name), 10, 32)
	if err != nil {
		d.t.Fatalf("%s: %v", name, err)
	}
	return uint32(n)
}

func (d *docBlock) flag(name string) bool {
	d.t.Helper()
	switch v := d.raw(name); v {
	case "yes", "no":
		return v == "yes"
	default:
		d.t.Fatalf("%s: %q is neither yes nor no", name, v)
		return false
	}
}

// words reads a state written as sixteen words, most significant digit first.
func (d *docBlock) words(name string) [16]uint32 {
	d.t.Helper()
	var w [16]uint32
	fields := strings.Fields(d.raw(name))
	if len(fields) != len(w) {
		d.t.Fatalf("%s: %d words, want %d", name, len(fields), len(w))
	}
	for i, f := range fields {
		n, err := strconv.ParseUint(f, 16, 32)
		if err != nil || len(f) != 8 {
			d.t.Fatalf("%s: word %q", name, f)
		}
		w[i] = uint32(n)
	}
	return w
}

// checkAllUsed fails if the document shows a value no test compares.
func (d *docBlock) checkAllUsed() {
	d.t.Helper()
	for name := range d.values {
		if !d.used[name] {
			d.t.Errorf("FORMAT.md shows %q, which no test checks", name)
		}
	}
}

// specHChaCha20 follows FORMAT.md §2, "XChaCha20-Poly1305", step by step. It returns the
// state before and after the rounds, and the subkey.
func specHChaCha20(key, input []byte) (initial, rounds [16]uint32, subkey []byte) {
	var s [16]uint32
	// "expand 32-byte k" read as four little-endian words.
	constants := []byte("expand 32-byte k")
	for i := range 4 {
		s[i] = binary.LittleEndian.Uint32(constants[4*i:])
	}
	for i := range 8 {
		s[4+i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	for i := range 4 {
		s[12+i] = binary.LittleEndian.Uint32(input[4*i:])
	}
	initial = s
	qr := func(a, b, c, d int) {
		s[a] += s[b]
		s[d] = bits.RotateLeft32(s[d]^s[a], 16)
		s[c] += s[d]
		s[b] = bits.RotateLeft32(s[b]^s[c], 12)
		s[a] += s[b]
		s[d] = bits.RotateLeft32(s[d]^s[a], 8)
		s[c] += s[d]
		s[b] = bits.RotateLeft32(s[b]^s[c], 7)
	}
	for range 10 {
		qr(0, 4, 8, 12)
		qr(1, 5, 9, 13)
		qr(2, 6, 10, 14)
		qr(3, 7, 11, 15)
		qr(0, 5, 10, 15)
		qr(1, 6, 11, 12)
		qr(2, 7, 8, 13)
		qr(3, 4, 9, 14)
	}
	for _, i := range []int{0, 1, 2, 3, 12, 13, 14, 15} {
		subkey = binary.LittleEndian.AppendUint32(subkey, s[i])
	}
	return initial, s, subkey
}

const docProfileSection = "## 2. Profile file"

// TestDocHChaCha20 checks the HChaCha20 vector of FORMAT.md §2 with x/crypto and with the
// implementation of the document's steps.
func TestDocHChaCha20(t *testing.T) {
	d := newDocBlock(t, docProfileSection, "### XChaCha20-Poly1305")
	key, input, subkey := d.hex("key"), d.hex("input"), d.hex("subkey")
	initial, rounds, spec := specHChaCha20(key, input)
	if want := d.words("initial state"); initial != want {
		t.Errorf("initial state from the steps:\n%08x\nFORMAT.md:\n%08x", initial, want)
	}
	if want := d.words("after 20 rounds"); rounds != want {
		t.Errorf("state after 20 rounds from the steps:\n%08x\nFORMAT.md:\n%08x", rounds, want)
	}
	if !bytes.Equal(spec, subkey) {
		t.Errorf("subkey from the steps %x, FORMAT.md %x", spec, subkey)
	}
	lib, err := chacha20.HChaCha20(key, input)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lib, subkey) {
		t.Errorf("chacha20.HChaCha20 %x, FORMAT.md %x", lib, subkey)
	}
	d.checkAllUsed()

	// The vector is the example's call.
	ex := newDocBlock(t, docProfileSection, "### Example")
	if !bytes.Equal(key, ex.hex("argon2id key")) || !bytes.Equal(input, ex.hex("nonce")[:16]) || !bytes.Equal(subkey, ex.hex("hchacha20 subkey")) {
		t.Error("the HChaCha20 vector is not the call the example makes")
	}
}

// TestDocProfileExample rebuilds the example of FORMAT.md §2 with the package's code, from
// the inputs the document shows, and compares every value, and the inputs with
// testdata/profile/vector.json.
func TestDocProfileExample(t *testing.T) {
	d := newDocBlock(t, docProfileSection, "### Example")
	pw := d.text("password")
	if !bytes.Equal([]byte(pw), d.hex("password bytes")) {
		t.Errorf("password bytes are not the password's")
	}
	kdf := KDFParams{Time: d.number("t"), MemoryKiB: d.number("m"), Threads: uint8(d.number("p"))}
	salt, nonce := d.hex("salt"), d.hex("nonce")
	p := &Profile{
		MasterKey:       memguard.NewEnclave(d.hex("master key")),
		AccessKeyID:     enclave(d.text("access key ID")),
		SecretAccessKey: enclave(d.text("secret access key")),
		Bucket:          d.text("bucket"),
		Region:          d.text("region"),
		Endpoint:        d.text("endpoint"),
		Prefix:          d.text("prefix"),
		PathStyle:       d.flag("path-style"),
		LegacyArchives:  d.flag("2019 archives"),
	}

	compare := func(what string, got, want []byte) {
		t.Helper()
		if !bytes.Equal(got, want) {
			t.Errorf("%s\n code: %x\n  doc: %x", what, got, want)
		}
	}
	payload, err := p.encodePayload()
	if err != nil {
		t.Fatal(err)
	}
	compare("payload", payload.Bytes(), d.hex("payload"))
	key := deriveKey([]byte(pw), salt, kdf)
	compare("argon2id key", key, d.hex("argon2id key"))
	subkey, err := chacha20.HChaCha20(key, nonce[:16])
	if err != nil {
		t.Fatal(err)
	}
	compare("hchacha20 subkey", subkey, d.hex("hchacha20 subkey"))
	chachaNonce := append([]byte{0, 0, 0, 0}, nonce[16:]...)
	compare("chacha20 nonce", chachaNonce, d.hex("chacha20 nonce"))

	file, err := seal(p, []byte(pw), kdf, bytes.NewReader(append(bytes.Clone(salt), nonce...)))
	if err != nil {
		t.Fatal(err)
	}
	compare("file", file, d.hex("file"))
	header, ct, tag := d.hex("header"), d.hex("ciphertext"), d.hex("poly1305 tag")
	compare("header", file[:headerSize], header)
	compare("ciphertext", file[headerSize:headerSize+payload.Size()], ct)
	compare("poly1305 tag", file[headerSize+payload.Size():len(file)-trailerSize], tag)
	compare("sha-256 trailer", file[len(file)-trailerSize:], d.hex("sha-256 trailer"))
	sum := sha256.Sum256(bytes.Join([][]byte{header, ct, tag}, nil))
	compare("trailer of the doc's header, ciphertext and tag", sum[:], d.hex("sha-256 trailer"))
	compare("header, ciphertext, tag and trailer", bytes.Join([][]byte{header, ct, tag, sum[:]}, nil), d.hex("file"))

	// The XChaCha20 construction as the document gives it: HChaCha20, then
	// ChaCha20-Poly1305 with four zero bytes and the nonce's last eight.
	aead, err := chacha20poly1305.New(subkey)
	if err != nil {
		t.Fatal(err)
	}
	compare("ChaCha20-Poly1305 under the subkey", aead.Seal(nil, chachaNonce, payload.Bytes(), header), append(bytes.Clone(ct), tag...))
	payload.Destroy()
	d.checkAllUsed()

	// The document, the JSON vector and the raw file agree.
	v, vectorFile := loadVector(t)
	if v.Password != pw || v.KDF.Time != kdf.Time || v.KDF.MemoryKiB != kdf.MemoryKiB || v.KDF.Threads != kdf.Threads ||
		v.Salt != hex.EncodeToString(salt) || v.Nonce != hex.EncodeToString(nonce) ||
		v.AccessKeyID != d.text("access key ID") || v.SecretAccessKey != d.text("secret access key") ||
		v.Bucket != p.Bucket || v.Region != p.Region || v.Endpoint != p.Endpoint || v.Prefix != p.Prefix || v.PathStyle != p.PathStyle ||
		v.MasterKey != hex.EncodeToString(d.hex("master key")) || v.Payload != hex.EncodeToString(d.hex("payload")) {
		t.Error("the example's inputs differ from vector.json")
	}
	compare("vector.json", vectorFile, d.hex("file"))
	opened, err := decode(d.hex("file"), []byte(pw))
	if err != nil {
		t.Fatalf("the example's file does not open: %v", err)
	}
	assertSameProfile(t, opened, p)
}
