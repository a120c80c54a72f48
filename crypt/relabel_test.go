package crypt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/minio/sio"
)

// The header nonce of a DARE 2.0 package is not covered by its tag: only header bytes
// 0–3 are associated data. The AEAD nonce of package k is the header nonce with k XORed
// into its last four bytes, so XORing i⊕j into package i's header nonce makes it
// authenticate at position j. sio's decryptor takes its reference nonce from the first
// package a run reads, and a download decrypts every range as its own run: without a
// check of each header against the stream nonce, whole ranges can be moved. These tests
// build such rewrites with nothing but the stored bytes, as someone with write access to
// the bucket could.

// relabel returns a copy of package pkg (a whole package as stored) that authenticates
// at position to instead of from.
func relabel(pkg []byte, from, to uint64) []byte {
	p := bytes.Clone(pkg)
	counter := p[HeaderSize-4 : HeaderSize]
	binary.LittleEndian.PutUint32(counter, binary.LittleEndian.Uint32(counter)^uint32(from^to))
	return p
}

// splitPackages cuts a stream into its packages.
func splitPackages(ct []byte) [][]byte {
	var pkgs [][]byte
	for len(ct) > 0 {
		n := min(len(ct), MaxPackageLen)
		pkgs = append(pkgs, ct[:n])
		ct = ct[n:]
	}
	return pkgs
}

// arrange builds a stream from the packages at the given original indices, each relabelled
// to its new position.
func arrange(pkgs [][]byte, order ...int) []byte {
	var out []byte
	for pos, i := range order {
		out = append(out, relabel(pkgs[i], uint64(i), uint64(pos))...)
	}
	return out
}

// relabelRun is the number of packages per range in these tests: the rewrites move whole
// ranges, as they would move 8 MiB ranges of a real download.
const relabelRun = 2

// relabellings are the rewrites of issue 13 on a stream of nine packages (four full
// ranges of two packages and a final range of one): each new package is an old one
// relabelled to its new position, so that every range authenticates on its own.
func relabellings(pkgs [][]byte) map[string][]byte {
	if len(pkgs) != 9 {
		panic(fmt.Sprintf("relabellings wants 9 packages, got %d", len(pkgs)))
	}
	return map[string][]byte{
		"only the final package, relabelled as package 0": arrange(pkgs, 8),
		"ranges 0 and 1 swapped":                          arrange(pkgs, 2, 3, 0, 1, 4, 5, 6, 7, 8),
		"range 1 copied over range 0":                     arrange(pkgs, 2, 3, 2, 3, 4, 5, 6, 7, 8),
		"a copy of range 1 inserted, the rest relabelled": arrange(pkgs, 0, 1, 2, 3, 2, 3, 4, 5, 6, 7, 8),
	}
}

// sioAcceptsRuns reports whether sio alone, with no check of the header nonces, accepts
// ct decrypted as a download decrypts it before the fix: in runs of per packages, each
// taking its reference nonce from its own first package. It proves that a rewrite is a
// real attack, not bytes that fail for another reason.
func sioAcceptsRuns(t *testing.T, key []byte, ct []byte, per int) bool {
	t.Helper()
	pkgs := splitPackages(ct)
	for first := 0; first < len(pkgs); first += per {
		run := bytes.Join(pkgs[first:min(first+per, len(pkgs))], nil)
		r, err := sio.DecryptReader(bytes.NewReader(run), sio.Config{
			MinVersion: sio.Version20, MaxVersion: sio.Version20,
			CipherSuites: []byte{sio.AES_256_GCM}, Key: key, SequenceNumber: uint32(first),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, p := range pkgs[first:min(first+per, len(pkgs))] {
			want += len(p) - PackageOverhead
		}
		if _, err := io.ReadFull(r, make([]byte, want)); err != nil {
			return false
		}
		if first+per >= len(pkgs) {
			// The last run must have ended with the final package.
			if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				return false
			}
		}
	}
	return true
}

func TestRelabelledStreamsFail(t *testing.T) {
	k := testKeys(t, saltFrom(0x90))
	plain := pattern(8*PackageSize + 100)
	ct := encryptAll(t, k, plain)
	pkgs := splitPackages(ct)
	for what, forged := range relabellings(pkgs) {
		t.Run(what, func(t *testing.T) {
			if !sioAcceptsRuns(t, k.secret.Bytes()[:keySize], forged, relabelRun) {
				t.Fatal("the rewrite does not even pass sio's own checks: the test is not an attack")
			}
			_, err := decryptAll(k, forged)
			wantAuthFailure(t, "whole stream", err)
			for _, per := range []int{1, relabelRun, 4} {
				_, err := decryptInRuns(k, forged, per)
				wantAuthFailure(t, fmt.Sprintf("runs of %d packages", per), err)
			}
		})
	}
}

func TestLegacyRelabelledStreamsFail(t *testing.T) {
	k := legacyKeys(t, vectorMaster(), bytes.Repeat([]byte{7}, LegacyNonceSize))
	ct := encryptLegacy(t, k, pattern(8*PackageSize+100))
	pkgs := splitPackages(ct)
	for what, forged := range relabellings(pkgs) {
		t.Run(what, func(t *testing.T) {
			if !sioAcceptsRuns(t, k.key.Bytes(), forged, relabelRun) {
				t.Fatal("the rewrite does not even pass sio's own checks: the test is not an attack")
			}
			// Each download pins its own keys to package 0 of what it fetched.
			fresh := func() *LegacyKeys { return &LegacyKeys{key: k.key} }
			_, wholeErr := fresh().Decrypt(io.Discard, bytes.NewReader(forged))
			_, runsErr := decryptInRuns(fresh(), forged, relabelRun)
			if what == "only the final package, relabelled as package 0" {
				// The documented limit of the 2019 format (docs/FORMAT.md §3.2): its
				// nonce is stored only in the data, so a stream relabelled as a whole,
				// package 0 included, cannot be told from an authentic one.
				if wholeErr != nil || runsErr != nil {
					t.Fatalf("a stream relabelled as a whole was refused (%v, %v): update docs/FORMAT.md §3.2", wholeErr, runsErr)
				}
				return
			}
			wantAuthFailure(t, "whole stream", wholeErr)
			for _, per := range []int{1, relabelRun, 4} {
				_, err := decryptInRuns(fresh(), forged, per)
				wantAuthFailure(t, fmt.Sprintf("runs of %d packages", per), err)
			}
		})
	}
}

// TestLegacyWholeStreamRelabelling pins what docs/FORMAT.md §3.2 says a 2019 stream
// cannot detect: one constant δ XORed into the counter of every header, package 0's
// included, moves package k to position k⊕δ; with packages dropped so that the final one
// lands last, that is a valid stream. A v2 stream refuses the same bytes.
func TestLegacyWholeStreamRelabelling(t *testing.T) {
	plain := pattern(5*PackageSize + 100) // six packages, the last one short
	legacy := legacyKeys(t, vectorMaster(), bytes.Repeat([]byte{8}, LegacyNonceSize))
	v2 := testKeys(t, saltFrom(0x91))
	for _, c := range []struct {
		keys Decrypter
		ct   []byte
	}{
		{&LegacyKeys{key: legacy.key}, encryptLegacy(t, legacy, plain)},
		{v2, encryptAll(t, v2, plain)},
	} {
		pkgs := splitPackages(c.ct)
		forged := arrange(pkgs, 1, 0, 3, 2, 5) // δ = 1; package 4 dropped
		var out bytes.Buffer
		_, err := c.keys.Decrypt(&out, bytes.NewReader(forged))
		if _, isLegacy := c.keys.(*LegacyKeys); !isLegacy {
			wantAuthFailure(t, "v2 stream relabelled as a whole", err)
			continue
		}
		want := bytes.Join([][]byte{
			plain[PackageSize : 2*PackageSize], plain[:PackageSize],
			plain[3*PackageSize : 4*PackageSize], plain[2*PackageSize : 3*PackageSize],
			plain[5*PackageSize:],
		}, nil)
		if err != nil || !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("2019 stream relabelled as a whole: %v; the documented limit no longer holds, update docs/FORMAT.md §3.2", err)
		}
	}
}

func TestLegacyPinRefusesAnotherNonce(t *testing.T) {
	k := legacyKeys(t, vectorMaster(), bytes.Repeat([]byte{9}, LegacyNonceSize))
	a := encryptLegacy(t, k, pattern(3*PackageSize))
	b := encryptLegacy(t, k, pattern(3*PackageSize)) // another random stream nonce
	p := pinnedTo(t, k, a)
	if err := p.PinStreamNonce(a[:HeaderSize]); err != nil {
		t.Fatalf("pinning the same nonce again: %v", err)
	}
	wantAuthFailure(t, "pinning another nonce", p.PinStreamNonce(b[:HeaderSize]))
	wantAuthFailure(t, "a short header", (&LegacyKeys{key: k.key}).PinStreamNonce(a[:HeaderSize-1]))
	// A package of another stream under the same key, at its own position.
	_, err := p.DecryptPackages(io.Discard, bytes.NewReader(b[MaxPackageLen:2*MaxPackageLen]), 1, false)
	wantAuthFailure(t, "a package of another stream", err)
	// Without a pin, only a run from package 0 can be read: it pins itself.
	if _, err := (&LegacyKeys{key: k.key}).DecryptPackages(io.Discard, bytes.NewReader(a[MaxPackageLen:2*MaxPackageLen]), 1, false); err == nil {
		t.Fatal("a run from package 1 was decrypted without a pinned nonce")
	}
}

// FuzzRelabel rearranges the packages of a stream, relabelling every header consistently
// so that each package authenticates at its new position, and decrypts the result whole
// and in runs. A v2 stream must refuse every arrangement but the original. A 2019 stream
// may accept only what its documented limit allows: packages moved by one constant δ
// (new position = old index ⊕ δ), its plaintext exactly the packages so arranged.
func FuzzRelabel(f *testing.F) {
	plain := pattern(4*PackageSize + 100) // five packages
	v2 := testKeys(f, saltFrom(0x92))
	legacy := legacyKeys(f, vectorMaster(), bytes.Repeat([]byte{10}, LegacyNonceSize))
	streams := []struct {
		keys func() Decrypter
		pkgs [][]byte
	}{
		{func() Decrypter { return v2 }, splitPackages(encryptAll(f, v2, plain))},
		{func() Decrypter { return &LegacyKeys{key: legacy.key} }, splitPackages(encryptLegacy(f, legacy, plain))},
	}
	payload := func(i int) []byte { return plain[i*PackageSize : min((i+1)*PackageSize, len(plain))] }
	for _, seed := range [][]byte{{0, 0, 1, 2, 3, 4}, {1, 4}, {1, 1, 0, 3, 2}, {2, 2, 3, 0, 1, 4}, {0, 0, 1, 2, 3, 2, 3, 4}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 || len(data) > 12 {
			return
		}
		per := int(data[0])%4 + 1
		order := make([]int, len(data)-1)
		for i, b := range data[1:] {
			order[i] = int(b) % 5
		}
		for _, s := range streams {
			forged := arrange(s.pkgs, order...)
			whole, wholeErr := decryptWhole(s.keys(), forged)
			runs, runsErr := decryptInRuns(s.keys(), forged, per)
			for _, err := range []error{wholeErr, runsErr} {
				if err != nil && !errors.Is(err, ErrAuthentication) {
					t.Fatalf("order %v: %v, want ErrAuthentication", order, err)
				}
			}
			identity := len(order) == 5
			delta := order[0]
			for pos, i := range order {
				identity = identity && i == pos
				if i^pos != delta {
					delta = -1
				}
			}
			_, isLegacy := s.keys().(*LegacyKeys)
			for _, got := range []struct {
				plain []byte
				err   error
			}{{whole, wholeErr}, {runs, runsErr}} {
				if got.err != nil {
					if identity {
						t.Fatalf("the original order was refused: %v", got.err)
					}
					continue
				}
				if !identity && (!isLegacy || delta < 0) {
					t.Fatalf("order %v (runs of %d) was accepted", order, per)
				}
				var want []byte
				for _, i := range order {
					want = append(want, payload(i)...)
				}
				if !bytes.Equal(got.plain, want) {
					t.Fatalf("order %v: accepted, but decrypted to other bytes", order)
				}
			}
		}
	})
}

func decryptWhole(k Decrypter, ct []byte) ([]byte, error) {
	var out bytes.Buffer
	_, err := k.Decrypt(&out, bytes.NewReader(ct))
	return out.Bytes(), err
}
