package cmd_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
	"github.com/minio/sio"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/internal/kdf"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// TestRelabelling rewrites stored objects as someone with write access to the bucket and
// the format in hand could, with no key: each package is moved whole and its header nonce
// relabelled so that it authenticates at its new position (docs/FORMAT.md §1.3). Every
// 8 MiB download range is decrypted on its own, so before each header was checked against
// the stream nonce, these rewrites came out as files. get must now fail with an
// authentication error, leave nothing in the destination and write to stdout at most a
// prefix of the true plaintext; for 2019 archives, as far as that format allows.
func TestRelabelling(t *testing.T) {
	r := newRig(t, rigOptions{})
	const rangeLen = archive.DefaultChunkPackages                   // packages per download range
	size := 2*rangeLen*crypt.PackageSize + 3*crypt.PackageSize + 99 // two full ranges and a short one
	plain := randomBytes(t, size)
	id := r.put(r.write("v2.bin", plain))[0]
	legacyID := r.putLegacy("2019.bin", plain)
	r.restoreAll(id, legacyID)

	for _, c := range []struct {
		format string
		id     string
		// whole: rewrites the 2019 format cannot detect, as docs/FORMAT.md §3.2 says.
		undetectable map[string]bool
	}{
		{"v2", id, nil},
		{"2019", legacyID, map[string]bool{"final-package-as-package-0": true}},
	} {
		stored, err := os.ReadFile(r.objectPath(c.id))
		if err != nil {
			t.Fatal(err)
		}
		pkgs := packagesOf(stored)
		ranges := func(rs ...int) []int { // the package indices of ranges rs, in order
			var order []int
			for _, rg := range rs {
				for k := rg * rangeLen; k < min((rg+1)*rangeLen, len(pkgs)); k++ {
					order = append(order, k)
				}
			}
			return order
		}
		rewrites := map[string][]int{
			"final-package-as-package-0":  {len(pkgs) - 1},
			"ranges-0-and-1-swapped":      ranges(1, 0, 2),
			"range-1-copied-over-range-0": ranges(1, 1, 2),
			"range-1-inserted-rest-moved": ranges(0, 1, 1, 2),
		}
		for name, order := range rewrites {
			t.Run(c.format+"/"+name, func(t *testing.T) {
				defer os.WriteFile(r.objectPath(c.id), stored, 0o644)
				if err := os.WriteFile(r.objectPath(c.id), rearrange(pkgs, order), 0o644); err != nil {
					t.Fatal(err)
				}
				out := r.mkdir("out-" + c.format + "-" + name)
				res := r.ogive("", "get", "--password-file", r.pwFile, c.id, out)
				if c.undetectable[name] {
					// Pinned so that the documented limit stays true: the last package
					// alone, as a file of its bytes.
					got, _ := os.ReadFile(filepath.Join(out, "2019.bin"))
					if res.code != 0 || !bytes.Equal(got, plain[(len(pkgs)-1)*crypt.PackageSize:]) {
						t.Fatalf("the documented limit of the 2019 format changed (%s): update docs/FORMAT.md §3.2", res)
					}
					return
				}
				if res.code != 1 || !strings.Contains(res.stderr, crypt.ErrAuthentication.Error()) ||
					!strings.Contains(res.stderr, "hint: the archive was modified") {
					t.Fatalf("get: want an authentication failure: %s", res)
				}
				if got := entries(t, out); len(got) != 0 {
					t.Errorf("get left %q in the destination", got)
				}
				res = r.ogive("", "get", "--password-file", r.pwFile, c.id, "-")
				if res.code != 1 {
					t.Errorf("get to stdout: exit %d, want 1", res.code)
				}
				// A 2019 stream moved by one constant, as far as it goes, streams out
				// before the rest fails (docs/FORMAT.md §3.2); a v2 stream never does.
				if c.format == "v2" && !bytes.HasPrefix(plain, []byte(res.stdout)) {
					t.Errorf("get to stdout wrote %d bytes that are not a prefix of the plaintext", len(res.stdout))
				}
			})
		}
	}

	// Untouched, both read back: the failures above were the rewrites' doing.
	out := r.mkdir("untouched")
	for _, id := range []string{id, legacyID} {
		if res := r.ogive("", "get", "--password-file", r.pwFile, id, out); res.code != 0 {
			t.Fatalf("get %s untouched: %s", id, res)
		}
	}
	for _, n := range []string{"v2.bin", "2019.bin"} {
		if got, _ := os.ReadFile(filepath.Join(out, n)); !bytes.Equal(got, plain) {
			t.Errorf("%s differs from the file", n)
		}
	}
}

// packagesOf cuts a stored stream into its DARE packages.
func packagesOf(stream []byte) [][]byte {
	var pkgs [][]byte
	for len(stream) > 0 {
		n := min(len(stream), crypt.MaxPackageLen)
		pkgs = append(pkgs, stream[:n])
		stream = stream[n:]
	}
	return pkgs
}

// rearrange builds a stream of the packages at the indices in order, each relabelled to
// authenticate at its new position: the little-endian counter in header bytes 12..16,
// which the AEAD nonce XORs with the position, gets old ⊕ new XORed into it.
func rearrange(pkgs [][]byte, order []int) []byte {
	var out []byte
	for pos, k := range order {
		p := bytes.Clone(pkgs[k])
		c := p[crypt.HeaderSize-4 : crypt.HeaderSize]
		binary.LittleEndian.PutUint32(c, binary.LittleEndian.Uint32(c)^uint32(k^pos))
		out = append(out, p...)
	}
	return out
}

// putLegacy stores plain as the 2019 ogive stored a file called name, under the rig
// profile's master key, and marks the profile as one whose bucket holds 2019 archives.
// The writer follows docs/FORMAT.md §3.2: a random 32-byte nonce in the metadata, the data
// key from Argon2i over the master key and that nonce, the name sealed with AES-GCM under
// the master key itself, and a DARE 2.0 stream with sio's own random nonce.
func (r *rig) putLegacy(name string, plain []byte) string {
	r.t.Helper()
	pw := memguard.NewBufferFromBytes([]byte(rigPassword))
	p, err := profile.Open(r.profile, pw)
	if err != nil {
		r.t.Fatal(err)
	}
	p.LegacyArchives = true
	if err := profile.Replace(r.profile, p, memguard.NewBufferFromBytes([]byte(rigPassword)), testKDF); err != nil {
		r.t.Fatal(err)
	}
	master, err := p.MasterKey.Open()
	if err != nil {
		r.t.Fatal(err)
	}
	defer master.Destroy()
	nonce := make([]byte, crypt.LegacyNonceSize)
	rand.Read(nonce)
	block, err := aes.NewCipher(master.Bytes())
	if err != nil {
		r.t.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, crypt.LegacyNonceSize)
	if err != nil {
		r.t.Fatal(err)
	}
	id := base64.RawStdEncoding.EncodeToString(gcm.Seal(nil, nonce, []byte(name), nil))
	id = strings.NewReplacer("/", ".", "+", "-").Replace(id)
	var body bytes.Buffer
	if _, err := sio.Encrypt(&body, bytes.NewReader(plain), sio.Config{
		MinVersion: sio.Version20, MaxVersion: sio.Version20, CipherSuites: []byte{sio.AES_256_GCM},
		Key: kdf.Key(master.Bytes(), nonce, 3, 32*1024, 4, 32),
	}); err != nil {
		r.t.Fatal(err)
	}
	err = r.directStore().Put(context.Background(), id, body.Bytes(), object.PutOptions{
		ContentType: crypt.ContentType, Metadata: map[string]string{"Nonce": hex.EncodeToString(nonce)},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}
