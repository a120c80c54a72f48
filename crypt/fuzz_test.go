package crypt

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzOpenID feeds arbitrary object keys to OpenIDMeta, as a listing of a shared bucket
// does, with version 2 and version 3 IDs as seeds. Whatever it accepts must re-seal,
// name and metadata, to exactly the same ID.
func FuzzOpenID(f *testing.F) {
	id, err := SealName(testKeys(f, saltFrom(0xa0)), "hello.txt", MaxIDLen)
	if err != nil {
		f.Fatal(err)
	}
	v3, err := SealNameMeta(testKeys(f, saltFrom(0xd0)), "hello.txt",
		Meta{HasMode: true, Mode: 0o640, HasMTime: true, MTime: time.Unix(1559392496, 123456789)}, MaxIDLen)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{id, id[:len(id)-1], id + "A", "", "AQ", "photos/cat.jpg", v3, v3[:len(v3)-1], "A" + v3[1:]} {
		f.Add(seed)
	}
	master := vectorMaster()
	f.Fuzz(func(t *testing.T, id string) {
		name, meta, keys, err := OpenIDMeta(master, id)
		if err != nil {
			if !errors.Is(err, ErrNotOgive) || keys != nil {
				t.Fatalf("OpenIDMeta(%q) = %v, %v; want ErrNotOgive and no keys", id, keys, err)
			}
			return
		}
		defer keys.Destroy()
		again, err := SealNameMeta(keys, name, meta, MaxIDLen)
		if err != nil || again != id {
			t.Fatalf("OpenIDMeta(%q) = %q, %+v, which re-seals to %q, %v", id, name, meta, again, err)
		}
	})
}

// FuzzDecrypt feeds arbitrary bytes to every decryption entry point under fixed keys.
// Whatever is accepted must be exactly what encryption produces, since the stream is a
// function of the keys and the plaintext.
func FuzzDecrypt(f *testing.F) {
	k := testKeys(f, saltFrom(0xa0))
	// Small seeds only: mutating a 64 KiB package almost never gets past its tag, and
	// minimizing one would take the whole fuzzing time. Unit tests cover long streams.
	hello := encryptAll(f, k, []byte("hello, world\n"))
	for _, seed := range [][]byte{hello, hello[:len(hello)-1], encryptAll(f, k, nil), {}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, err := decryptAll(k, data)
		if err != nil {
			if !errors.Is(err, ErrAuthentication) {
				t.Fatalf("Decrypt: %v, want ErrAuthentication", err)
			}
		} else if again := encryptAll(t, k, plain); !bytes.Equal(again, data) {
			t.Fatalf("Decrypt accepted %d bytes that encryption does not produce", len(data))
		}

		for _, per := range []int{1, 2} {
			got, rErr := decryptInRuns(k, data, per)
			if rErr == nil && (err != nil || !bytes.Equal(got, plain)) {
				t.Fatalf("runs of %d packages accepted what Decrypt refused (%v), or gave other bytes", per, err)
			}
			if rErr != nil && !errors.Is(rErr, ErrAuthentication) {
				t.Fatalf("runs of %d packages: %v, want ErrAuthentication", per, rErr)
			}
		}

		var run bytes.Buffer
		if _, err := k.DecryptPackages(&run, bytes.NewReader(data), 0, false); err != nil {
			if !errors.Is(err, ErrAuthentication) {
				t.Fatalf("DecryptPackages: %v, want ErrAuthentication", err)
			}
		} else if enc := encryptAll(t, k, run.Bytes()); !bytes.HasPrefix(enc, data) || len(data)%MaxPackageLen != 0 {
			t.Fatalf("DecryptPackages accepted %d bytes that are not a run of whole packages of a stream", len(data))
		}
	})
}
