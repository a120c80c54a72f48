package crypt

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/awnumar/memguard"
)

func TestStorageIDRoundTrip(t *testing.T) {
	names := []string{
		"hello.txt",
		"a",
		"résumé final (2).pdf",
		"日本語のファイル名.txt",
		"🎉 party 🎉",
		"line\nbreak and\ttab",
		`back\slash`,
		".hidden",
		"...",
		strings.Repeat("x", 735),
		strings.Repeat("🎉", 183), // 732 bytes in 4-byte runes
	}
	for i, name := range names {
		salt := saltFrom(byte(i * 16))
		k := testKeys(t, salt)
		id, err := SealName(k, name, MaxIDLen)
		if err != nil {
			t.Fatalf("SealName(%q): %v", name, err)
		}
		if len(id) > MaxIDLen || base64.RawURLEncoding.EncodedLen(1+16+len(name)+16) != len(id) {
			t.Fatalf("SealName(%q): id of %d bytes", name, len(id))
		}
		if again, err := SealName(k, name, MaxIDLen); err != nil || again != id {
			t.Fatalf("sealing %q again gives %q, %v; want the same id", name, again, err)
		}
		if got, err := ParseID(id); err != nil || got != salt {
			t.Fatalf("ParseID: %x, %v; want salt %x", got, err, salt)
		}
		got, opened, err := OpenID(vectorMaster(), id)
		if err != nil || got != name {
			t.Fatalf("OpenID: %q, %v; want %q", got, err, name)
		}
		if opened.Salt() != salt {
			t.Fatalf("OpenID keys carry salt %x, want %x", opened.Salt(), salt)
		}
		// The keys found through the ID are the object's keys.
		ct := encryptAll(t, k, []byte(name))
		if plain, err := decryptAll(opened, ct); err != nil || string(plain) != name {
			t.Fatalf("keys from OpenID do not decrypt the object: %v", err)
		}
		opened.Destroy()
	}
}

func TestSealNameLimits(t *testing.T) {
	k := testKeys(t, saltFrom(0x01))
	if _, err := SealName(k, strings.Repeat("x", 736), MaxIDLen); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("736-byte name: %v, want ErrNameTooLong", err)
	}
	if _, err := SealName(k, strings.Repeat("é", 368), MaxIDLen); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("736-byte name in 2-byte runes: %v, want ErrNameTooLong", err)
	}
	// A key prefix leaves less room: 1000 characters hold 750 bytes, 717 of them name.
	prefix := strings.Repeat("p", MaxIDLen-1000)
	if _, err := SealName(k, strings.Repeat("x", 718), MaxIDLen-len(prefix)); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("718-byte name under a %d-byte prefix: %v, want ErrNameTooLong", len(prefix), err)
	}
	id, err := SealName(k, strings.Repeat("x", 717), MaxIDLen-len(prefix))
	if err != nil || len(prefix)+len(id) > MaxIDLen {
		t.Errorf("717-byte name under a %d-byte prefix: %d-byte id, %v", len(prefix), len(id), err)
	}
	// A larger maxLen cannot produce an ID S3 would refuse.
	if _, err := SealName(testKeys(t, saltFrom(0x02)), strings.Repeat("x", 736), 4096); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("maxLen above MaxIDLen: %v, want ErrNameTooLong", err)
	}
	if _, err := SealName(testKeys(t, saltFrom(0x03)), "a", -5); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("negative maxLen: %v, want ErrNameTooLong", err)
	}
}

func TestSealNameRejectsBadNames(t *testing.T) {
	k := testKeys(t, saltFrom(0x04))
	for _, name := range []string{"", ".", "..", "/", "a/b", "dir/", "a\x00b", "\x00", "\xff", "bad \xc3\x28 utf8"} {
		if id, err := SealName(k, name, MaxIDLen); !errors.Is(err, ErrBadName) {
			t.Errorf("SealName(%q) = %q, %v; want ErrBadName", name, id, err)
		}
	}
}

func TestKeysSealOneNameOnly(t *testing.T) {
	k := testKeys(t, saltFrom(0x05))
	id, err := SealName(k, "first", MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SealName(k, "second", MaxIDLen); err == nil {
		t.Error("keys sealed a second name with the same nonce")
	}
	_, opened, err := OpenID(vectorMaster(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Destroy()
	if _, err := SealName(opened, "other", MaxIDLen); err == nil {
		t.Error("keys from OpenID sealed a name other than the one they opened")
	}
	if again, err := SealName(opened, "first", MaxIDLen); err != nil || again != id {
		t.Errorf("resealing the opened name: %q, %v", again, err)
	}
}

func TestOpenIDRefusesForeignIDs(t *testing.T) {
	k := testKeys(t, saltFrom(0xa0))
	id, err := SealName(k, "hello.txt", MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(id)
	reencode := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	wrongVersion := bytes.Clone(raw)
	wrongVersion[0] = 0x01

	foreign := map[string]string{
		"empty":                   "",
		"one character":           "A",
		"not base64":              "hello world!",
		"padded":                  paddedID(t),
		"padding appended":        id + "==",
		"standard alphabet":       strings.NewReplacer("-", "+", "_", "/").Replace(id) + "+/",
		"line break inside":       id[:10] + "\n" + id[10:],
		"trailing line break":     id + "\n",
		"wrong version":           reencode(wrongVersion),
		"too short":               reencode(raw[:minIDRawLen-1]),
		"no name":                 reencode(append(bytes.Clone(raw[:idHeaderLen]), raw[len(raw)-idTagLen:]...)),
		"cut":                     id[:len(id)-4],
		"extended":                id + "AAAA",
		"longer than a key":       strings.Repeat("A", MaxIDLen+4),
		"plain file name":         "photos/2019/cat.jpg",
		"other salt, same sealed": reencode(append([]byte{0x02}, append(make([]byte, 16), raw[idHeaderLen:]...)...)),
	}
	for what, bad := range foreign {
		if name, keys, err := OpenID(vectorMaster(), bad); !errors.Is(err, ErrNotOgive) || keys != nil {
			t.Errorf("%s: OpenID = %q, %v; want ErrNotOgive", what, name, err)
		}
	}

	// Any change of one character gives a foreign ID, including changes to the padding
	// bits of the last character, which a lax decoder would ignore.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	unpadded, err := base64.URLEncoding.DecodeString(paddedID(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{id, base64.RawURLEncoding.EncodeToString(unpadded)} {
		for i := range id {
			for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, id[i])+1)%64], alphabet[(strings.IndexByte(alphabet, id[i])+32)%64]} {
				bad := id[:i] + string(c) + id[i+1:]
				if name, keys, err := OpenID(vectorMaster(), bad); !errors.Is(err, ErrNotOgive) || keys != nil {
					t.Fatalf("id with character %d changed: OpenID = %q, %v; want ErrNotOgive", i, name, err)
				}
			}
		}
	}

	otherMaster := vectorMaster()
	otherMaster[0] ^= 1
	if name, _, err := OpenID(otherMaster, id); !errors.Is(err, ErrNotOgive) {
		t.Errorf("another master key: OpenID = %q, %v; want ErrNotOgive", name, err)
	}
	if _, _, err := OpenID(make([]byte, 16), id); err == nil || errors.Is(err, ErrNotOgive) {
		t.Errorf("short master key: %v, want a key size error", err)
	}
}

// TestOpenIDRefusesSealedBadNames covers IDs that authenticate but that ogive never
// writes: only a holder of the master key could make one.
func TestOpenIDRefusesSealedBadNames(t *testing.T) {
	for i, name := range []string{"../etc/passwd", "..", strings.Repeat("x", 736)} {
		k := testKeys(t, saltFrom(byte(0x10*i)))
		aead, err := k.nameAEAD()
		if err != nil {
			t.Fatal(err)
		}
		header := append([]byte{Version}, k.salt[:]...)
		id := base64.RawURLEncoding.EncodeToString(aead.Seal(bytes.Clone(header), make([]byte, 12), []byte(name), header))
		if got, _, err := OpenID(vectorMaster(), id); !errors.Is(err, ErrNotOgive) {
			t.Errorf("sealed %d-byte name: OpenID = %q, %v; want ErrNotOgive", len(name), got, err)
		}
	}
}

func TestDeriveKeys(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := DeriveKeys(make([]byte, n), Salt{}); err == nil {
			t.Errorf("DeriveKeys with a %d-byte master key succeeded", n)
		}
	}
	a, b := testKeys(t, saltFrom(0x07)), testKeys(t, saltFrom(0x08))
	if bytes.Equal(a.secret.Bytes(), b.secret.Bytes()) || a.nonce == b.nonce {
		t.Error("two salts give the same keys")
	}
	if bytes.Equal(a.secret.Bytes()[:keySize], a.secret.Bytes()[keySize:]) {
		t.Error("data key equals name key")
	}
	s1, err1 := NewSalt()
	s2, err2 := NewSalt()
	if err1 != nil || err2 != nil || s1 == s2 || s1 == (Salt{}) {
		t.Errorf("NewSalt: %x, %v; %x, %v", s1, err1, s2, err2)
	}
}

func TestKeysRedacted(t *testing.T) {
	k := testKeys(t, saltFrom(0xa0))
	var leaks []string
	for _, key := range [][]byte{k.secret.Bytes()[:keySize], k.secret.Bytes()[keySize:]} {
		leaks = append(leaks, string(key), hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), fmt.Sprint(key))
	}
	wrapped := struct{ K *Keys }{k}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		for _, arg := range []any{k, wrapped, []*Keys{k}} {
			out := fmt.Sprintf(format, arg)
			if !strings.Contains(out, "**redacted**") {
				t.Errorf("%s of %T prints %q, want it redacted", format, arg, out)
			}
			for _, leak := range leaks {
				if strings.Contains(strings.ToLower(out), strings.ToLower(leak)) {
					t.Errorf("%s of %T reveals a key: %q", format, arg, out)
				}
			}
		}
	}
	if k.String() != "crypt.Keys{**redacted**}" || k.GoString() != k.String() {
		t.Errorf("String() = %q, GoString() = %q", k.String(), k.GoString())
	}
}

// paddedID returns a valid ID spelled with base64 padding.
func paddedID(t *testing.T) string {
	id, err := SealName(testKeys(t, saltFrom(0x09)), "hello.txt1", MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(id)
	padded := base64.URLEncoding.EncodeToString(raw)
	if !strings.HasSuffix(padded, "=") {
		t.Fatalf("%q has no padding", padded)
	}
	return padded
}

// TestForgottenKeysAreDestroyed checks the safety net for a forgotten Destroy: locked
// memory is scarce, and a long listing opens one Keys per object.
func TestForgottenKeysAreDestroyed(t *testing.T) {
	secret := func() *memguard.LockedBuffer {
		k, err := DeriveKeys(vectorMaster(), saltFrom(0x0a))
		if err != nil {
			t.Fatal(err)
		}
		return k.secret
	}()
	deadline := time.Now().Add(5 * time.Second)
	for secret.IsAlive() {
		if time.Now().After(deadline) {
			t.Fatal("unreachable keys still hold locked memory")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
