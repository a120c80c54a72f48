package crypt

// These tests back what docs/FORMAT.md says about relabelled packages (§1.3, §1.6, §3.2):
// that a decryptor taking its reference nonce from the data, as sio does, accepts the
// rewrites the document lists; that the header nonce rule, written here from the document
// alone, refuses them; and exactly which rewrites of a 2019 stream the rule cannot
// refuse. They test the document's claims, not ogive's decryptor. TestDocWorkedExample
// keeps the worked example of §1.5 equal to what the code computes.

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/minio/sio"
)

// docRangePackages stands for ogive's 128 packages per ranged GET: any power of two makes
// the same point, and four keeps the streams small.
const docRangePackages = 4

// docPackages cuts a stream into its packages.
func docPackages(stream []byte) [][]byte {
	var pkgs [][]byte
	for len(stream) > 0 {
		n := min(len(stream), MaxPackageLen)
		pkgs = append(pkgs, stream[:n])
		stream = stream[n:]
	}
	return pkgs
}

// docRelabel returns copies of pkgs with delta XORed into the last four bytes of each
// header nonce, read as a little-endian integer, as §1.6 describes: a package sealed at
// position i then authenticates at position i XOR delta under a decryptor that computes
// the AEAD nonce from the header as stored.
func docRelabel(delta uint32, pkgs ...[]byte) [][]byte {
	out := make([][]byte, len(pkgs))
	for i, p := range pkgs {
		q := bytes.Clone(p)
		binary.LittleEndian.PutUint32(q[12:16], binary.LittleEndian.Uint32(q[12:16])^delta)
		out[i] = q
	}
	return out
}

// docOpenRun decrypts a run of whole packages that starts at package first, following
// FORMAT.md §1.3 step by step: header checks, the header nonce rule against n, the AEAD
// with the nonce H ⊕ LE32(k) and the first four header bytes as additional data, and the
// final flag on the package that ends the stream and on no other. It returns the payload,
// terminator included.
func docOpenRun(key []byte, n [12]byte, run []byte, first uint32, endsStream bool) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	var payload []byte
	for k := first; len(run) > 0; k++ {
		if len(run) < 33 {
			return nil, fmt.Errorf("package %d: %d bytes", k, len(run))
		}
		h := run[:16]
		length := int(binary.LittleEndian.Uint16(h[2:4])) + 1
		final := h[4]&0x80 != 0
		switch {
		case h[0] != 0x20 || h[1] != 0x00:
			return nil, fmt.Errorf("package %d: version or cipher", k)
		case len(run) < 16+length+16:
			return nil, fmt.Errorf("package %d: cut", k)
		case !final && length != PackageSize:
			return nil, fmt.Errorf("package %d: short package without the final flag", k)
		case h[4]&0x7f != n[0]&0x7f || !bytes.Equal(h[5:16], n[1:]):
			return nil, fmt.Errorf("package %d: header nonce is not the stream's", k)
		}
		aeadNonce := bytes.Clone(h[4:16])
		binary.LittleEndian.PutUint32(aeadNonce[8:], binary.LittleEndian.Uint32(aeadNonce[8:])^k)
		plain, err := gcm.Open(nil, aeadNonce, run[16:16+length+16], h[:4])
		if err != nil {
			return nil, fmt.Errorf("package %d: %w", k, err)
		}
		payload = append(payload, plain...)
		run = run[16+length+16:]
		if last := len(run) == 0 && endsStream; final != last {
			return nil, fmt.Errorf("package %d: final flag %t where the stream ends: %t", k, final, last)
		}
	}
	return payload, nil
}

// docSioRun decrypts a run with sio's own decryptor, which takes its reference nonce from
// the first package it reads: the per-range decryption ogive did before the header nonce
// rule. A run that does not end the stream is read for exactly its payload, so that sio
// does not wait for a final package.
func docSioRun(key, run []byte, first uint32, endsStream bool) ([]byte, error) {
	r, err := sio.DecryptReader(bytes.NewReader(run), sio.Config{
		MinVersion:     sio.Version20,
		MaxVersion:     sio.Version20,
		CipherSuites:   []byte{sio.AES_256_GCM},
		Key:            key,
		SequenceNumber: first,
	})
	if err != nil {
		return nil, err
	}
	if endsStream {
		return io.ReadAll(r)
	}
	out := make([]byte, len(run)/MaxPackageLen*PackageSize)
	_, err = io.ReadFull(r, out)
	return out, err
}

// docRanges decrypts pkgs as a ranged download does: runs of docRangePackages packages,
// each from its own position, the last one ending the stream.
func docRanges(pkgs [][]byte, open func(run []byte, first uint32, endsStream bool) ([]byte, error)) ([]byte, error) {
	var payload []byte
	for first := 0; first < len(pkgs); first += docRangePackages {
		end := min(first+docRangePackages, len(pkgs))
		out, err := open(bytes.Join(pkgs[first:end], nil), uint32(first), end == len(pkgs))
		if err != nil {
			return nil, fmt.Errorf("range from package %d: %w", first, err)
		}
		payload = append(payload, out...)
	}
	return payload, nil
}

// TestDocRelabelledStreams checks the rewrites of §1.6 on a stream of three ranges A, B
// and C (C holds the final package): each passes sio's per-range decryption with the
// relabelled plaintext, and none passes the header nonce rule.
func TestDocRelabelledStreams(t *testing.T) {
	k := testKeys(t, saltFrom(0x50))
	key, n := k.secret.Bytes()[:keySize], k.nonce
	const packages = 2*docRangePackages + 3
	plain := pattern((packages-1)*PackageSize + 100)
	pkgs := docPackages(encryptAll(t, k, plain))
	if len(pkgs) != packages {
		t.Fatalf("%d packages, want %d", len(pkgs), packages)
	}
	r := docRangePackages
	rangeA, rangeB, rangeC := pkgs[:r], pkgs[r:2*r], pkgs[2*r:]
	block := func(i int) []byte { return plain[i*r*PackageSize : min((i+1)*r*PackageSize, len(plain))] }
	// Moving a range from range index x to y is one XOR for all its packages: (x ⊕ y)·r.
	move := func(x, y int, pkgs [][]byte) [][]byte { return docRelabel(uint32((x^y)*r), pkgs...) }

	for _, c := range []struct {
		what   string
		stream [][]byte
		want   []byte
	}{
		{"keep only the final package, relabelled as package 0",
			docRelabel(packages-1, pkgs[packages-1]), plain[(packages-1)*PackageSize:]},
		{"swap the first two ranges",
			slices.Concat(move(1, 0, rangeB), move(0, 1, rangeA), rangeC), slices.Concat(block(1), block(0), block(2))},
		{"copy range 1 over range 0",
			slices.Concat(move(1, 0, rangeB), rangeB, rangeC), slices.Concat(block(1), block(1), block(2))},
		{"insert a copy of range 0, relabel the rest",
			slices.Concat(rangeA, move(0, 1, rangeA), move(1, 2, rangeB), move(2, 3, rangeC)), slices.Concat(block(0), block(0), block(1), block(2))},
	} {
		t.Run(c.what, func(t *testing.T) {
			got, err := docRanges(c.stream, func(run []byte, first uint32, ends bool) ([]byte, error) {
				return docSioRun(key, run, first, ends)
			})
			if err != nil {
				t.Fatalf("sio refuses the rewrite, contrary to §1.6: %v", err)
			}
			if !bytes.Equal(got, append(bytes.Clone(c.want), terminator)) {
				t.Fatalf("sio gives %d bytes that are not the relabelled file", len(got))
			}
			_, err = docRanges(c.stream, func(run []byte, first uint32, ends bool) ([]byte, error) {
				return docOpenRun(key, n, run, first, ends)
			})
			if err == nil {
				t.Fatal("the header nonce rule accepts the rewrite")
			}
		})
	}

	// Whole-stream decryption is no defence: the stream is one run from package 0.
	only := docRelabel(packages-1, pkgs[packages-1])[0]
	if _, err := docSioRun(key, only, 0, true); err != nil {
		t.Errorf("sio refuses the lone final package as a whole stream: %v", err)
	}
	if _, err := docOpenRun(key, n, only, 0, true); err == nil {
		t.Error("the header nonce rule accepts the lone final package")
	}

	// One package: XOR i ⊕ j into package i's header and it authenticates at position j.
	for i := range packages - 1 {
		for j := range uint32(packages) {
			moved := docRelabel(uint32(i)^j, pkgs[i])[0]
			got, err := docSioRun(key, moved, j, false)
			if err != nil || !bytes.Equal(got, plain[i*PackageSize:(i+1)*PackageSize]) {
				t.Fatalf("package %d relabelled as %d: sio gives %v, want package %d's plaintext", i, j, err, i)
			}
			if _, err := docOpenRun(key, n, moved, j, false); err == nil && uint32(i) != j {
				t.Fatalf("package %d relabelled as %d: the header nonce rule accepts it", i, j)
			}
		}
	}
}

// docLegacyStream writes a 2019 stream, as the original ogive did: sio's random nonce, no
// terminator.
func docLegacyStream(t *testing.T, key, plain []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := sio.Encrypt(&out, bytes.NewReader(plain), sio.Config{
		MinVersion:   sio.Version20,
		MaxVersion:   sio.Version20,
		CipherSuites: []byte{sio.AES_256_GCM},
		Key:          key,
	}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// docOpenLegacy follows §3.2: N is pinned from package 0's header, then the stream is read
// in ranges, each under the header nonce rule. An empty object is the empty file.
func docOpenLegacy(key []byte, pkgs [][]byte) ([]byte, error) {
	if len(pkgs) == 0 {
		return nil, nil
	}
	var n [12]byte
	copy(n[:], pkgs[0][4:16])
	return docRanges(pkgs, func(run []byte, first uint32, ends bool) ([]byte, error) {
		return docOpenRun(key, n, run, first, ends)
	})
}

// TestDocLegacyRelabelling checks what §3.2 says a 2019 stream cannot detect: with one δ
// XORed into every header, package 0's included, position p holds package p ⊕ δ, and the
// streams that pass are exactly those where positions 0 … m−1 are filled and the final
// package lands at m−1. It also checks what the pinned nonce does catch.
func TestDocLegacyRelabelling(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	const packages = 6
	plain := pattern((packages-1)*PackageSize + 1000)
	pkgs := docPackages(docLegacyStream(t, key, plain))
	if len(pkgs) != packages {
		t.Fatalf("%d packages, want %d", len(pkgs), packages)
	}
	block := func(i int) []byte { return plain[i*PackageSize : min((i+1)*PackageSize, len(plain))] }
	if got, err := docOpenLegacy(key, pkgs); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("untouched stream: %v", err)
	}

	// Every δ that can be arranged at all, and nothing else, passes.
	accepted := map[uint32][]int{}
	for delta := uint32(0); delta < 16; delta++ {
		m := int((packages-1)^delta) + 1
		order := make([]int, m)
		possible := true
		for p := range order {
			order[p] = p ^ int(delta)
			possible = possible && (p == m-1 || order[p] < packages-1)
		}
		if !possible {
			// Position p < m−1 would need package p ⊕ δ, which is the final one or does not
			// exist; the attacker has no package to put there.
			continue
		}
		var stream [][]byte
		var want []byte
		for _, i := range order {
			stream = append(stream, docRelabel(delta, pkgs[i])...)
			want = append(want, block(i)...)
		}
		got, err := docOpenLegacy(key, stream)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("δ = %d, order %v: %v; §3.2 says it passes", delta, order, err)
		}
		accepted[delta] = order
	}
	// The document lists them all for six packages.
	want := map[uint32][]int{0: {0, 1, 2, 3, 4, 5}, 1: {1, 0, 3, 2, 5}, 4: {4, 5}, 5: {5}}
	if len(accepted) != len(want) {
		t.Errorf("rewrites that pass: %v; FORMAT.md lists %v", accepted, want)
	}
	for delta, order := range want {
		if !slices.Equal(accepted[delta], order) {
			t.Errorf("δ = %d gives %v, FORMAT.md says %v", delta, accepted[delta], order)
		}
	}

	// Relabelling ranges one by one, as in the current format, does not pass: the ranges
	// that keep the writer's nonce disagree with package 0's. sio alone accepts it.
	r := docRangePackages / 2 // two ranges of two packages, then the rest
	ranges := func(pkgs [][]byte) ([]byte, error) {
		var out []byte
		for first := 0; first < len(pkgs); first += r {
			end := min(first+r, len(pkgs))
			o, err := docSioRun(key, bytes.Join(pkgs[first:end], nil), uint32(first), end == len(pkgs))
			if err != nil {
				return nil, err
			}
			out = append(out, o...)
		}
		return out, nil
	}
	swapped := slices.Concat(docRelabel(uint32(r), pkgs[r:2*r]...), docRelabel(uint32(r), pkgs[:r]...), pkgs[2*r:])
	if got, err := ranges(swapped); err != nil || !bytes.Equal(got, slices.Concat(plain[r*PackageSize:2*r*PackageSize], plain[:r*PackageSize], plain[2*r*PackageSize:])) {
		t.Errorf("sio refuses two swapped ranges of a 2019 stream: %v", err)
	}
	if _, err := docOpenLegacy(key, swapped); err == nil {
		t.Error("the pinned nonce accepts two swapped ranges whose δ the other ranges lack")
	}
	one := slices.Concat(pkgs[:2], docRelabel(2^3, pkgs[2]), pkgs[3:])
	if _, err := docOpenLegacy(key, one); err == nil {
		t.Error("the pinned nonce accepts one relabelled package")
	}

	// The emptied object.
	if got, err := docOpenLegacy(key, nil); err != nil || len(got) != 0 {
		t.Errorf("empty object: %v; §3.2 says it reads as the empty file", err)
	}
}

// TestDocWorkedExample compares the values FORMAT.md §1.5 prints with what the package
// computes for vector "hello", so that the worked example cannot drift from the code.
func TestDocWorkedExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "FORMAT.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(doc, []byte("\n### 1.5 Worked example\n"))
	end := bytes.Index(doc, []byte("\n### 1.6 "))
	if start < 0 || end < start {
		t.Fatal("FORMAT.md has no §1.5 followed by §1.6")
	}
	section := string(doc[start:end])
	value := func(re string) string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(section)
		if m == nil {
			t.Fatalf("§1.5 has no match for %s", re)
		}
		return m[1]
	}

	in := vectorInputs()[0]
	if in.name != "hello" {
		t.Fatalf("first vector is %q, want hello", in.name)
	}
	k := testKeys(t, in.salt)
	id, err := SealName(k, in.filename, MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	stream := encryptAll(t, k, in.plain)
	for _, c := range []struct{ what, doc, code string }{
		{"M", value(`(?m)^M \(master key\)\s+([0-9a-f]+)$`), hex.EncodeToString(vectorMaster())},
		{"S", value(`(?m)^S \(salt\)\s+([0-9a-f]+)$`), hex.EncodeToString(in.salt[:])},
		{"K_data", value(`K_data\s+=[^\n]*\n\s+= ([0-9a-f]+)`), hex.EncodeToString(k.secret.Bytes()[:keySize])},
		{"K_name", value(`K_name\s+=[^\n]*\n\s+= ([0-9a-f]+)`), hex.EncodeToString(k.secret.Bytes()[keySize:])},
		{"N", value(`N\s+= HKDF[^\n]*\n\s+= ([0-9a-f]+)`), hex.EncodeToString(k.nonce[:])},
		{"id", value(`(?m)^id  = ([A-Za-z0-9_-]+)$`), id},
		{"stream", value("The whole stream is\n\n```\n([0-9a-f]+)\n```"), hex.EncodeToString(stream)},
	} {
		if c.doc != c.code {
			t.Errorf("§1.5 %s:\n  doc: %s\n code: %s", c.what, c.doc, c.code)
		}
	}
}
