package archive

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
)

// FuzzPartialRecord feeds arbitrary bytes to the parser of a partial download's record,
// which anyone who could once write the download directory may have shaped, and resumes
// from it over a temporary file whose chunks 1 and 3 are not the archive's. Holding no
// key, the fuzzer has only the genuine tags of the seeds, so no chunk whose bytes differ
// from the archive's may ever be taken as downloaded.
func FuzzPartialRecord(f *testing.F) {
	master := bytes.Repeat([]byte{0x42}, crypt.MasterKeySize)
	keys, err := crypt.DeriveKeys(master, crypt.Salt{1, 2, 3})
	if err != nil {
		f.Fatal(err)
	}
	mac, err := keys.RangeMAC()
	if err != nil {
		f.Fatal(err)
	}
	const chunk, chunks, packages = 4096, 4, 1
	truth := bytes.Repeat([]byte("archived bytes! "), chunk*chunks/16)
	disk := bytes.Clone(truth)
	clear(disk[chunk : 2*chunk])
	disk[3*chunk+5] ^= 1
	span := func(i int) (int64, int64) { return int64(i) * chunk, chunk }
	key := partialKey{ID: "AAAA", Size: 1 << 20, Modified: time.Unix(1700000000, 0).UTC(), ChunkPackages: packages}
	genuine := map[int][]byte{}
	for i := range chunks {
		tag, err := mac.Sum(packages, uint64(i), truth[i*chunk:(i+1)*chunk])
		if err != nil {
			f.Fatal(err)
		}
		genuine[i] = tag[:]
	}
	seed := recordText(f, key, genuine)
	f.Add(seed)
	f.Add(seed[:len(seed)-5])                        // the last line torn
	f.Add(append(bytes.Clone(seed), seed[70:]...))   // lines again, one torn in two
	f.Add(bytes.ReplaceAll(seed, []byte("\n"), nil)) // no line ends
	f.Add(bytes.ToUpper(seed))
	f.Add(recordText(f, key, map[int][]byte{1: genuine[0], 3: genuine[2], 4: genuine[3]}))
	f.Add([]byte(`{"id":"AAAA","size":1048576,"modified":"2023-11-14T22:13:20Z","chunk_packages":1,"done":{"1":"AAAAAAAAAAAAAAAAAAAAAA=="}}`))
	dir := f.TempDir()
	// The genuine record resumes the intact chunks: a parser that kept
	// nothing would pass the fuzzing.
	path := filepath.Join(dir, "record.json")
	if err := os.WriteFile(path, seed, 0o600); err != nil {
		f.Fatal(err)
	}
	had := (&partialRecord{path: path}).load(key, chunks)
	if ok := verify(bytes.NewReader(disk), had, span, mac, packages); len(had) != chunks || len(ok) != 2 || !ok[0] || !ok[2] {
		f.Fatalf("the genuine record gives %d chunks, %v intact; want %d, chunks 0 and 2", len(had), ok, chunks)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "record.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		had := (&partialRecord{path: path}).load(key, chunks)
		for i, tag := range had {
			if i < 0 || i >= chunks || len(tag) != crypt.RangeMACSize {
				t.Fatalf("load kept chunk %d with a %d-byte tag", i, len(tag))
			}
		}
		for i := range verify(bytes.NewReader(disk), had, span, mac, packages) {
			if !bytes.Equal(disk[i*chunk:(i+1)*chunk], truth[i*chunk:(i+1)*chunk]) {
				t.Fatalf("chunk %d was taken as downloaded, but its bytes are not the archive's", i)
			}
		}
	})
}
