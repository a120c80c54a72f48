package crypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/minio/sio"
)

var roundTripSizes = []int{0, 1, PackageSize - 1, PackageSize, PackageSize + 1, 10<<20 + 3}

func TestRoundTrip(t *testing.T) {
	for i, size := range roundTripSizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			k := testKeys(t, saltFrom(byte(0x10*i)))
			plain := pattern(size)
			ct := encryptAll(t, k, plain)

			if got := EncryptedSize(int64(size)); got != int64(len(ct)) {
				t.Fatalf("EncryptedSize(%d) = %d, stream is %d bytes", size, got, len(ct))
			}
			if got, err := DecryptedSize(int64(len(ct))); err != nil || got != int64(size) {
				t.Fatalf("DecryptedSize(%d) = %d, %v; want %d", len(ct), got, err, size)
			}
			packages := PackageCount(int64(size))
			if last := CipherOffset(packages - 1); last >= int64(len(ct)) || CipherOffset(packages) < int64(len(ct)) {
				t.Fatalf("PackageCount(%d) = %d does not match a %d-byte stream", size, packages, len(ct))
			}
			got, err := decryptAll(k, ct)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("Decrypt: %d bytes, %v; want the %d-byte plaintext", len(got), err, size)
			}
			if size > 2*PackageSize {
				return // byte-at-a-time reads of long streams only slow the race detector down
			}
			// Readers that return little at a time must not change the result.
			var out bytes.Buffer
			if _, err := k.Decrypt(&out, iotest.OneByteReader(bytes.NewReader(ct))); err != nil || !bytes.Equal(out.Bytes(), plain) {
				t.Fatalf("Decrypt from a one-byte reader: %v", err)
			}
			r, err := k.EncryptReader(iotest.HalfReader(bytes.NewReader(plain)), 0)
			if err != nil {
				t.Fatal(err)
			}
			if again, err := io.ReadAll(iotest.OneByteReader(r)); err != nil || !bytes.Equal(again, ct) {
				t.Fatalf("encryption through small reads differs: %v", err)
			}
		})
	}
}

// TestEveryPackageIndex starts encryption and decryption at every package of each
// stream, as resumed uploads and parallel ranged downloads do.
func TestEveryPackageIndex(t *testing.T) {
	for i, size := range roundTripSizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			k := testKeys(t, saltFrom(byte(0x10*i+1)))
			plain := pattern(size)
			ct := encryptAll(t, k, plain)
			packages := PackageCount(int64(size))
			// Full tails are quadratic in the stream length: sample them on long streams.
			fullTail := func(i uint64) bool { return packages <= 4 || i < 2 || i+2 >= packages || i%37 == 0 }

			for i := range packages {
				start, end := CipherOffset(i), min(CipherOffset(i+1), int64(len(ct)))
				plainStart, plainEnd := int(i)*PackageSize, min(int(i+1)*PackageSize, size)
				final := i == packages-1

				want := ct[start:]
				if !fullTail(i) {
					want = ct[start:end]
				}
				if enc := encryptPrefix(t, k, plain, i, len(want)); !bytes.Equal(enc, want) {
					t.Fatalf("encryption from package %d differs from the whole stream", i)
				}
				if fullTail(i) {
					var out bytes.Buffer
					n, err := k.DecryptPackages(&out, bytes.NewReader(ct[start:]), i, true)
					if err != nil || n != int64(size-plainStart) || !bytes.Equal(out.Bytes(), plain[plainStart:]) {
						t.Fatalf("DecryptPackages from %d to the end: %d bytes, %v", i, n, err)
					}
				}
				var out bytes.Buffer
				n, err := k.DecryptPackages(&out, bytes.NewReader(ct[start:end]), i, final)
				if err != nil || n != int64(plainEnd-plainStart) || !bytes.Equal(out.Bytes(), plain[plainStart:plainEnd]) {
					t.Fatalf("DecryptPackages of package %d alone: %d bytes, %v", i, n, err)
				}
			}
		})
	}
}

// TestParallelRuns decrypts a stream in runs of several packages, as parallel ranged GETs
// of a download do, and reassembles it.
func TestParallelRuns(t *testing.T) {
	const size = 20*PackageSize + 5
	k := testKeys(t, saltFrom(0x30))
	plain := pattern(size)
	ct := encryptAll(t, k, plain)
	packages := PackageCount(size)
	const run = 7
	parts := make([][]byte, (packages+run-1)/run)
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	for p := range parts {
		wg.Go(func() {
			first := uint64(p) * run
			last := min(first+run, packages)
			final := last == packages
			var out bytes.Buffer
			src := bytes.NewReader(ct[CipherOffset(first):min(CipherOffset(last), int64(len(ct)))])
			_, errs[p] = k.DecryptPackages(&out, src, first, final)
			parts[p] = out.Bytes()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := bytes.Join(parts, nil); !bytes.Equal(got, plain) {
		t.Fatalf("reassembled %d bytes differ from the %d-byte plaintext", len(got), len(plain))
	}
}

func TestSizes(t *testing.T) {
	for _, c := range []struct{ plain, cipher int64 }{
		{0, 33},
		{1, 34},
		{PackageSize - 1, MaxPackageLen},
		{PackageSize, MaxPackageLen + 33},
		{2*PackageSize - 1, 2 * MaxPackageLen},
		{MaxPlainSize, (1 << 32) * MaxPackageLen},
	} {
		if got := EncryptedSize(c.plain); got != c.cipher {
			t.Errorf("EncryptedSize(%d) = %d, want %d", c.plain, got, c.cipher)
		}
		if got, err := DecryptedSize(c.cipher); err != nil || got != c.plain {
			t.Errorf("DecryptedSize(%d) = %d, %v; want %d", c.cipher, got, err, c.plain)
		}
	}
	for _, bad := range []int64{-1, 0, 1, 32, MaxPackageLen + 1, MaxPackageLen + 32, (1<<32)*MaxPackageLen + 33} {
		if _, err := DecryptedSize(bad); !errors.Is(err, ErrAuthentication) {
			t.Errorf("DecryptedSize(%d): %v, want ErrAuthentication", bad, err)
		}
	}
	for _, bad := range []int64{-1, MaxPlainSize + 1} {
		if EncryptedSize(bad) != -1 || PackageCount(bad) != 0 {
			t.Errorf("size %d is out of range but accepted", bad)
		}
	}
	if PackageCount(0) != 1 || PackageCount(PackageSize-1) != 1 || PackageCount(PackageSize) != 2 || PackageCount(MaxPlainSize) != 1<<32 {
		t.Errorf("PackageCount is off")
	}
	if CipherOffset(3) != 3*MaxPackageLen || CipherOffset(1<<32+1) != -1 {
		t.Errorf("CipherOffset is off")
	}
	// Every valid stream length is hit by exactly one file length.
	for c := int64(1); c <= 3*MaxPackageLen; c++ {
		p, err := DecryptedSize(c)
		if err == nil && EncryptedSize(p) != c {
			t.Fatalf("DecryptedSize(%d) = %d, but EncryptedSize(%d) = %d", c, p, p, EncryptedSize(p))
		}
		if err != nil && c%MaxPackageLen > 0 && c%MaxPackageLen <= PackageOverhead {
			continue
		}
		if err != nil {
			t.Fatalf("DecryptedSize(%d): %v", c, err)
		}
	}
}

// tamperedStreams returns the ways an attacker or a faulty store can change a stream.
func tamperedStreams(ct []byte, flipEvery int) map[string][]byte {
	out := map[string][]byte{}
	for i := range ct {
		if flipEvery > 1 && i%flipEvery != 0 && i%MaxPackageLen >= 16 && i%MaxPackageLen < MaxPackageLen-16 && i < len(ct)-16 {
			continue // sample package bodies, but flip every header and tag byte
		}
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			c := bytes.Clone(ct)
			c[i] ^= mask
			out[fmt.Sprintf("flip byte %d by %#02x", i, mask)] = c
		}
	}
	for _, extra := range [][]byte{{0}, {1}, make([]byte, 32), make([]byte, 33), ct[:min(len(ct), MaxPackageLen)], ct[len(ct)-min(len(ct), MaxPackageLen):]} {
		out[fmt.Sprintf("append %d bytes", len(extra))] = append(bytes.Clone(ct), extra...)
	}
	out["empty object"] = []byte{}
	return out
}

func truncations(ct []byte, all bool) []int {
	if all {
		lengths := make([]int, len(ct))
		for i := range lengths {
			lengths[i] = i
		}
		return lengths
	}
	var lengths []int
	for b := 0; b < len(ct); b += MaxPackageLen {
		for _, d := range []int{-33, -32, -17, -16, -1, 0, 1, 15, 16, 17, 32, 33, 1000} {
			if l := b + d; l >= 0 && l < len(ct) {
				lengths = append(lengths, l)
			}
		}
	}
	return append(lengths, len(ct)-1, len(ct)-16, len(ct)-17)
}

// checkRefused decrypts a damaged stream every way the package offers and requires an
// authentication failure from each.
func checkRefused(t *testing.T, k *Keys, what string, damaged []byte) {
	t.Helper()
	if _, err := decryptAll(k, damaged); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("%s: Decrypt: %v, want ErrAuthentication", what, err)
	}
	for _, per := range []int{1, 3} {
		if _, err := decryptInRuns(k, damaged, per); !errors.Is(err, ErrAuthentication) {
			t.Fatalf("%s: runs of %d packages: %v, want ErrAuthentication", what, per, err)
		}
	}
}

func TestTamperSmall(t *testing.T) {
	k := testKeys(t, saltFrom(0xa0))
	ct := encryptAll(t, k, []byte("hello, world\n"))
	for what, damaged := range tamperedStreams(ct, 1) {
		checkRefused(t, k, what, damaged)
	}
	for _, l := range truncations(ct, true) {
		checkRefused(t, k, fmt.Sprintf("truncated to %d bytes", l), ct[:l])
	}
	other := testKeys(t, saltFrom(0xa1))
	checkRefused(t, other, "another object's keys", ct)
}

func TestTamperMultiPackage(t *testing.T) {
	k := testKeys(t, saltFrom(0x40))
	plain := pattern(2*PackageSize + 100)
	ct := encryptAll(t, k, plain)
	for what, damaged := range tamperedStreams(ct, 997) {
		checkRefused(t, k, what, damaged)
	}
	for _, l := range truncations(ct, false) {
		checkRefused(t, k, fmt.Sprintf("truncated to %d bytes", l), ct[:l])
	}
	p0, p1, p2 := ct[:MaxPackageLen], ct[MaxPackageLen:2*MaxPackageLen], ct[2*MaxPackageLen:]
	for what, damaged := range map[string][][]byte{
		"swap packages 0 and 1":   {p1, p0, p2},
		"drop package 0":          {p1, p2},
		"drop package 1":          {p0, p2},
		"repeat package 0":        {p0, p0, p1, p2},
		"final package only":      {p2},
		"final package twice":     {p0, p1, p2, p2},
		"non-final packages only": {p0, p1},
	} {
		checkRefused(t, k, what, bytes.Join(damaged, nil))
	}
	other := testKeys(t, saltFrom(0x41))
	checkRefused(t, other, "another object's keys", ct)
	otherCT := encryptAll(t, other, plain)
	checkRefused(t, k, "final package of another object", bytes.Join([][]byte{p0, p1, otherCT[2*MaxPackageLen:]}, nil))
}

func TestDecryptPackagesRefusesWrongRuns(t *testing.T) {
	k := testKeys(t, saltFrom(0x50))
	ct := encryptAll(t, k, pattern(3*PackageSize+7))
	for _, c := range []struct {
		what  string
		run   []byte
		first uint64
		final bool
	}{
		{"non-final run holding the final package", ct[2*MaxPackageLen:], 2, false},
		{"non-final run ending with the final package", ct[MaxPackageLen:], 1, false},
		{"final run without the final package", ct[:2*MaxPackageLen], 0, true},
		{"run at the wrong index", ct[MaxPackageLen : 2*MaxPackageLen], 2, false},
		{"run cut inside a package", ct[:MaxPackageLen+100], 0, false},
		{"empty non-final run", nil, 1, false},
		{"empty final run", nil, 3, true},
	} {
		_, err := k.DecryptPackages(io.Discard, bytes.NewReader(c.run), c.first, c.final)
		wantAuthFailure(t, c.what, err)
	}
	if _, err := k.DecryptPackages(io.Discard, bytes.NewReader(ct), 1<<32, true); !errors.Is(err, ErrTooLarge) {
		t.Errorf("package index beyond the format: %v, want ErrTooLarge", err)
	}
}

// TestTerminatorRequired feeds streams that authenticate under the object's keys but
// break the terminator rule, written with sio directly as another DARE writer might.
func TestTerminatorRequired(t *testing.T) {
	k := testKeys(t, saltFrom(0x60))
	config, err := k.sioConfig(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, payload := range [][]byte{[]byte("hello"), []byte("hello\x00"), pattern(PackageSize)} {
		var ct bytes.Buffer
		if _, err := sio.Encrypt(&ct, bytes.NewReader(payload), config); err != nil {
			t.Fatal(err)
		}
		checkRefused(t, k, fmt.Sprintf("%d-byte payload without terminator", len(payload)), ct.Bytes())
	}
}

func TestIOErrorsAreNotAuthenticationFailures(t *testing.T) {
	k := testKeys(t, saltFrom(0x80))
	ct := encryptAll(t, k, pattern(PackageSize+10))
	broken := errors.New("connection reset")
	src := io.MultiReader(bytes.NewReader(ct[:100]), iotest.ErrReader(broken))
	if _, err := k.Decrypt(io.Discard, src); !errors.Is(err, broken) || errors.Is(err, ErrAuthentication) {
		t.Errorf("Decrypt with a failing source: %v", err)
	}
	if _, err := k.Decrypt(failingWriter{broken}, bytes.NewReader(ct)); !errors.Is(err, broken) {
		t.Errorf("Decrypt with a failing destination: %v", err)
	}
	r, err := k.EncryptReader(io.MultiReader(bytes.NewReader(pattern(10)), iotest.ErrReader(broken)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, broken) {
		t.Errorf("EncryptReader with a failing source: %v", err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestEncryptLimits(t *testing.T) {
	k := testKeys(t, saltFrom(0x90))
	if _, err := k.EncryptReader(bytes.NewReader(nil), 1<<32); !errors.Is(err, ErrTooLarge) {
		t.Errorf("EncryptReader from package 2³²: %v, want ErrTooLarge", err)
	}
	// From the last package the format allows, the source may hold one package less the
	// terminator: one byte more would need package 2³², whose counter wraps to 0.
	last := uint64(1<<32 - 1)
	r, err := k.EncryptReader(bytes.NewReader(pattern(PackageSize-1)), last)
	if err != nil {
		t.Fatal(err)
	}
	if ct, err := io.ReadAll(r); err != nil || len(ct) != MaxPackageLen {
		t.Errorf("last package: %d bytes, %v", len(ct), err)
	}
	r, err = k.EncryptReader(bytes.NewReader(pattern(PackageSize)), last)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, ErrTooLarge) {
		t.Errorf("past the last package: %v, want ErrTooLarge", err)
	}
}

func TestDestroyedKeys(t *testing.T) {
	k, err := DeriveKeys(vectorMaster(), saltFrom(0x11))
	if err != nil {
		t.Fatal(err)
	}
	k.Destroy()
	k.Destroy()
	if _, err := k.EncryptReader(bytes.NewReader(nil), 0); err == nil {
		t.Error("EncryptReader with destroyed keys succeeded")
	}
	if _, err := k.Decrypt(io.Discard, bytes.NewReader(make([]byte, 33))); err == nil {
		t.Error("Decrypt with destroyed keys succeeded")
	}
	if _, err := SealName(k, "a", MaxIDLen); err == nil {
		t.Error("SealName with destroyed keys succeeded")
	}
	var none *Keys
	if _, err := none.EncryptReader(bytes.NewReader(nil), 0); err == nil {
		t.Error("EncryptReader with nil keys succeeded")
	}
	none.Destroy()
}

// encryptPrefix encrypts the file plain from package first and returns the first n bytes
// of the stream, without encrypting the rest.
func encryptPrefix(t *testing.T, k *Keys, plain []byte, first uint64, n int) []byte {
	t.Helper()
	r, err := k.EncryptReader(bytes.NewReader(plain[first*PackageSize:]), first)
	if err != nil {
		t.Fatalf("EncryptReader: %v", err)
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		t.Fatalf("read ciphertext from package %d: %v", first, err)
	}
	return out
}
