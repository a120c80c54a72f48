package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// The tests below play another local user who can write the directory a
// download goes to (tests run as root, as in CI, and plant "another
// user's" files by giving them to uid 65534), and check that get never
// writes into, reads plaintext from, or resumes from a file it did not
// create, and never writes through a symbolic link.

const (
	testChunkPackages = 2     // 128 KiB ranges
	otherUID          = 65534 // nobody
	testChunks        = 6     // ranges of the test archive
	victimText        = "the victim's other file\n"
)

// testDownload is one archive in a memory store, to download into files.
type testDownload struct {
	s     object.Store
	keys  crypt.Decrypter
	id    string
	info  object.Info
	plain []byte
}

func newTestDownload(t *testing.T) *testDownload {
	t.Helper()
	plain := randomPlain(t, (testChunks-1)*testChunkPackages*crypt.PackageSize+1234)
	s, id, keys, _ := stored(t, plain)
	info, err := s.Head(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return &testDownload{s: s, keys: keys, id: id, info: info, plain: plain}
}

// cutStore fails every ranged GET after the first left ones, as a restored
// copy that expires mid-download does.
type cutStore struct {
	object.Store
	left    atomic.Int32
	fetched atomic.Int32
}

func (c *cutStore) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if c.left.Add(-1) < 0 {
		return nil, fmt.Errorf("get %s: %w", key, object.ErrNotRestored)
	}
	c.fetched.Add(1)
	return c.Store.Get(ctx, key, off, n)
}

// get downloads the archive to final as cmd/get does, one range at a time;
// with stopAfter ≥ 0 the download fails after that many ranges and keeps
// its temporary file. It returns the target and how many ranges it fetched.
func (d *testDownload) get(t *testing.T, final string, force bool, stopAfter int) (*Target, int, error) {
	t.Helper()
	tg, err := NewTarget(final, force)
	if err != nil {
		return nil, 0, err
	}
	skip, done, err := tg.Resume(d.keys, d.info, testChunkPackages)
	if err != nil {
		tg.Abort()
		return tg, 0, err
	}
	cs := &cutStore{Store: d.s}
	cs.left.Store(1 << 30)
	if stopAfter >= 0 {
		cs.left.Store(int32(stopAfter))
	}
	o := DownloadOptions{Concurrency: 1, ChunkPackages: testChunkPackages, Skip: skip, Done: done}
	fastRetries(&o)
	if _, err := DownloadAt(t.Context(), cs, d.keys, d.id, d.info.Size, tg.File(), o); err != nil {
		tg.Keep()
		return tg, int(cs.fetched.Load()), err
	}
	return tg, int(cs.fetched.Load()), tg.Commit()
}

// interrupted leaves a download to final that stopped after half its ranges.
func (d *testDownload) interrupted(t *testing.T, final string) {
	t.Helper()
	if _, _, err := d.get(t, final, false, testChunks/2); !errors.Is(err, object.ErrNotRestored) {
		t.Fatalf("interrupted download: %v, want it cut", err)
	}
}

// checkFinal fails unless final is a new private file of this user, with
// one link, holding exactly the plaintext.
func (d *testDownload) checkFinal(t *testing.T, final string) {
	t.Helper()
	got, err := os.ReadFile(final)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, d.plain) {
		t.Errorf("%s holds %d bytes that are not the archive's plaintext", filepath.Base(final), len(got))
	}
	fi, err := os.Lstat(final)
	if err != nil {
		t.Fatal(err)
	}
	if p := problemOf(fi); p != "" {
		t.Errorf("%s: %s", filepath.Base(final), p)
	}
}

// writeVictim writes the victim's other file, which nothing must change.
func writeVictim(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "victim.txt")
	if err := os.WriteFile(p, []byte(victimText), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkVictim(t *testing.T, p string) {
	t.Helper()
	if b, err := os.ReadFile(p); err != nil || string(b) != victimText {
		t.Errorf("the victim's other file now holds %d bytes (%v)", len(b), err)
	}
}

// A record may claim chunks whose data never reached the disk (a machine
// crash after the record was written): resuming keeps only chunks whose
// data still has the recorded tag.
func TestVerifyKeepsOnlyIntactChunks(t *testing.T) {
	d := newTestDownload(t)
	mac, err := d.keys.RangeMAC()
	if err != nil {
		t.Fatal(err)
	}
	defer mac.Destroy()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1024) // 16 KiB: four 4 KiB chunks
	span := func(i int) (int64, int64) { return int64(i) * 4096, 4096 }
	had := map[int][]byte{}
	for i := range 4 {
		off, n := span(i)
		tag, err := mac.Sum(1, uint64(i), data[off:off+n])
		if err != nil {
			t.Fatal(err)
		}
		had[i] = tag[:]
	}
	disk := bytes.Clone(data)
	clear(disk[4096:8192])                                          // chunk 1 never written
	disk[3*4096+7] ^= 1                                             // chunk 3 damaged
	got := verify(bytes.NewReader(disk[:15000]), had, span, mac, 1) // and the file is short
	if !got[0] || got[1] || !got[2] || got[3] || len(got) != 2 {
		t.Fatalf("kept %v, want chunks 0 and 2", got)
	}
}

// TestResumeAfterInterruption: a download cut half-way keeps its
// temporary file and record; the next run fetches only the rest, and a
// range damaged in between is fetched again.
func TestResumeAfterInterruption(t *testing.T) {
	d := newTestDownload(t)
	dir := t.TempDir()
	final := filepath.Join(dir, "out.bin")
	d.interrupted(t, final)
	tg, fetched, err := d.get(t, final, false, -1)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Resumed() != testChunks/2 || fetched != testChunks-testChunks/2 {
		t.Errorf("resumed %d ranges and fetched %d, want %d and %d", tg.Resumed(), fetched, testChunks/2, testChunks-testChunks/2)
	}
	d.checkFinal(t, final)
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("left %q", got)
	}

	os.Remove(final)
	d.interrupted(t, final)
	f, err := os.OpenFile(PartialPath(final), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A byte of range 1 changed: one written as 0xff kept a range whose byte
	// was 0xff already, one run in 256.
	const damaged = testChunkPackages*crypt.PackageSize + 5
	if _, err := f.WriteAt([]byte{d.plain[damaged] ^ 0xff}, damaged); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tg, fetched, err = d.get(t, final, false, -1)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Resumed() != testChunks/2-1 || fetched != testChunks-testChunks/2+1 {
		t.Errorf("after damage, resumed %d ranges and fetched %d, want %d and %d", tg.Resumed(), fetched, testChunks/2-1, testChunks-testChunks/2+1)
	}
	d.checkFinal(t, final)
}

// forgedRecord writes, beside a partial file holding forged bytes, a
// record whose tags for the forged ranges are what the forger can compute.
func forgedRecord(t *testing.T, d *testDownload, final string, tags map[int][]byte) {
	t.Helper()
	key := partialKey{ID: d.info.Key, Size: d.info.Size, Modified: d.info.LastModified.UTC(), ChunkPackages: testChunkPackages}
	must(t, os.WriteFile(PartialPath(final)+recordSuffix, recordText(t, key, tags), 0o600))
}

// oldRecord writes a record in the format of before issue 13, one JSON
// object, in which a CRC-32C proved each range: anyone could compute it.
func oldRecord(t *testing.T, d *testDownload, final string, crcs map[string]uint32) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"id": d.info.Key, "size": d.info.Size, "modified": d.info.LastModified.UTC(),
		"chunk_packages": testChunkPackages, "done": crcs})
	must(t, err)
	must(t, os.WriteFile(PartialPath(final)+recordSuffix, b, 0o600))
}

// recordText is a record of the download key with the ranges in tags, as
// docs/FORMAT.md §5.3 spells it: written here without the code that writes
// records, so that a change of the format fails the tests.
func recordText(tb testing.TB, key partialKey, tags map[int][]byte) []byte {
	tb.Helper()
	header, err := json.Marshal(map[string]any{"format": "ogive partial download 1", "id": key.ID,
		"size": key.Size, "modified": key.Modified.UTC().Format(time.RFC3339Nano), "chunk_packages": key.ChunkPackages})
	if err != nil {
		tb.Fatal(err)
	}
	b := append(header, '\n')
	for _, i := range slices.Sorted(maps.Keys(tags)) {
		b = fmt.Appendf(b, "%d %x\n", i, tags[i])
	}
	return b
}

// TestForgedRecordIsNotResumed: a partial file that passes every check of
// ownership (this user's, private), holding bytes never in the archive, with
// a record whose tags anyone could recompute, or computed under another
// archive's key, or taken from another range: nothing of it is resumed, and
// the final file is exactly the archive's plaintext.
func TestForgedRecordIsNotResumed(t *testing.T) {
	d := newTestDownload(t)
	other := newTestDownload(t)
	otherMAC, err := other.keys.RangeMAC()
	if err != nil {
		t.Fatal(err)
	}
	defer otherMAC.Destroy()
	mac, err := d.keys.RangeMAC()
	if err != nil {
		t.Fatal(err)
	}
	defer mac.Destroy()
	const rangeLen = testChunkPackages * crypt.PackageSize
	forged := bytes.Repeat([]byte("forged! "), 3*rangeLen/8) // three ranges
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	tags := func(f func(i int, b []byte) []byte) map[int][]byte {
		m := map[int][]byte{}
		for i := range 3 {
			m[i] = f(i, forged[i*rangeLen:(i+1)*rangeLen])
		}
		return m
	}
	for _, tc := range []struct {
		name string
		tags func() map[int][]byte // nil: the record is in the format of before
	}{
		{"crc32c-as-before", nil},
		{"crc32c-in-a-tag", func() map[int][]byte {
			return tags(func(_ int, b []byte) []byte {
				return binary.BigEndian.AppendUint32(make([]byte, 12), crc32.Checksum(b, castagnoli))
			})
		}},
		{"mac-under-another-archive's-key", func() map[int][]byte {
			return tags(func(i int, b []byte) []byte {
				tag, _ := otherMAC.Sum(testChunkPackages, uint64(i), b)
				return tag[:]
			})
		}},
		{"mac-of-another-range", func() map[int][]byte {
			// Genuine tags of the archive's own ranges 2–4, claimed for 0–2
			// where the same plaintext is copied.
			return tags(func(i int, _ []byte) []byte {
				tag, _ := mac.Sum(testChunkPackages, uint64(i+2), d.plain[(i+2)*rangeLen:(i+3)*rangeLen])
				return tag[:]
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			final := filepath.Join(dir, "out.bin")
			partial := bytes.Clone(forged)
			if tc.name == "mac-of-another-range" {
				partial = bytes.Clone(d.plain[2*rangeLen : 5*rangeLen])
			}
			if err := os.WriteFile(PartialPath(final), partial, 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.tags != nil {
				forgedRecord(t, d, final, tc.tags())
			} else {
				crcs := map[string]uint32{}
				for i := range 3 {
					crcs[fmt.Sprint(i)] = crc32.Checksum(forged[i*rangeLen:(i+1)*rangeLen], castagnoli)
				}
				oldRecord(t, d, final, crcs)
			}
			tg, fetched, err := d.get(t, final, false, -1)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Resumed() != 0 || fetched != testChunks {
				t.Errorf("resumed %d ranges of the forged file, fetched %d", tg.Resumed(), fetched)
			}
			d.checkFinal(t, final)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLongNames: names of 232 to 255 bytes, whose temporary names would
// not fit in a file name, still download and resume.
func TestLongNames(t *testing.T) {
	d := newTestDownload(t)
	for _, n := range []int{225, 226, 232, 240, 255} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			final := filepath.Join(dir, strings.Repeat("é", n/2)+strings.Repeat("x", n%2))
			if len(filepath.Base(final)) != n {
				t.Fatalf("name of %d bytes", len(filepath.Base(final)))
			}
			d.interrupted(t, final)
			for _, name := range entries(t, dir) {
				if len(name) > maxNameLen {
					t.Errorf("temporary name of %d bytes", len(name))
				}
			}
			if got := entries(t, dir); len(got) != 2 {
				t.Errorf("after the interruption the directory holds %q, want the partial file and its record", got)
			}
			tg, fetched, err := d.get(t, final, false, -1)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Resumed() != testChunks/2 || fetched != testChunks-testChunks/2 {
				t.Errorf("resumed %d ranges and fetched %d", tg.Resumed(), fetched)
			}
			d.checkFinal(t, final)
			if got := entries(t, dir); len(got) != 1 {
				t.Errorf("left %q", got)
			}
		})
	}
}

// downloaded downloads the archive into a new target for final, all but
// its Commit.
func (d *testDownload) downloaded(t *testing.T, final string, force bool) *Target {
	t.Helper()
	tg, err := NewTarget(final, force)
	must(t, err)
	skip, done, err := tg.Resume(d.keys, d.info, testChunkPackages)
	must(t, err)
	o := DownloadOptions{ChunkPackages: testChunkPackages, Skip: skip, Done: done}
	if _, err := DownloadAt(t.Context(), d.s, d.keys, d.id, d.info.Size, tg.File(), o); err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestCommitRefusesAReplacedTemporaryFile: if the temporary name no longer
// holds the file that was downloaded when the download ends (someone with
// write access to the directory swapped it), nothing gets the final name,
// and the file now under the temporary name is left alone.
func TestCommitRefusesAReplacedTemporaryFile(t *testing.T) {
	d := newTestDownload(t)
	dir := t.TempDir()
	final := filepath.Join(dir, "out.bin")
	tg := d.downloaded(t, final, false)
	swapped := filepath.Join(dir, "swapped")
	must(t, os.WriteFile(swapped, []byte("not what was downloaded"), 0o600))
	must(t, os.Rename(swapped, PartialPath(final)))
	if err := tg.Commit(); !errors.Is(err, ErrTempReplaced) {
		t.Fatalf("Commit: %v, want ErrTempReplaced", err)
	}
	if _, err := os.Lstat(final); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the final name exists: %v", err)
	}
	if b, _ := os.ReadFile(PartialPath(final)); string(b) != "not what was downloaded" {
		t.Errorf("the file under the temporary name was changed")
	}
}

// TestResumeCutsAForeignTail: the user's own private file that begins with
// the archive's plaintext and goes on (an earlier copy with data after it, a
// growing tar) takes the place of an interrupted download's temporary file,
// renamed there by anyone who can write the directory. It passes every check
// of the temporary file, and the recorded ranges verify, since their bytes
// are the archive's: they are resumed, but the tail past the archive's end
// is cut, and the final file is exactly the plaintext.
func TestResumeCutsAForeignTail(t *testing.T) {
	d := newTestDownload(t)
	dir := t.TempDir()
	final := filepath.Join(dir, "x.bin")
	d.interrupted(t, final)
	other := filepath.Join(dir, "y.bin")
	tail := []byte("\n--- y.bin goes on: never in the archive ---\n")
	must(t, os.WriteFile(other, append(bytes.Clone(d.plain), tail...), 0o600))
	must(t, os.Rename(other, PartialPath(final)))

	tg, fetched, err := d.get(t, final, false, -1)
	if err != nil {
		t.Fatalf("resumed get: %v", err)
	}
	if tg.Resumed() != testChunks/2 || fetched != testChunks-testChunks/2 {
		t.Errorf("resumed %d ranges and fetched %d, want %d and %d", tg.Resumed(), fetched, testChunks/2, testChunks-testChunks/2)
	}
	d.checkFinal(t, final)
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("left %q", got)
	}
}

// TestCommitRefusesAFileOfAnotherSize: whatever made the temporary file
// longer or shorter than the plaintext after the download wrote it, Commit
// gives it no final name, reports it, and removes it; and a file download
// whose size Resume never learnt is not committed at all.
func TestCommitRefusesAFileOfAnotherSize(t *testing.T) {
	d := newTestDownload(t)
	for _, tc := range []struct {
		name   string
		change func(f *os.File) error
	}{
		{"longer", func(f *os.File) error { _, err := f.WriteAt([]byte("!"), int64(len(d.plain))); return err }},
		{"shorter", func(f *os.File) error { return f.Truncate(int64(len(d.plain)) - 1) }},
		{"empty", func(f *os.File) error { return f.Truncate(0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			final := filepath.Join(dir, "out.bin")
			tg := d.downloaded(t, final, false)
			must(t, tc.change(tg.f))
			if err := tg.Commit(); !errors.Is(err, ErrTempChanged) {
				t.Fatalf("Commit: %v, want ErrTempChanged", err)
			}
			if got := entries(t, dir); len(got) != 0 {
				t.Errorf("a refused Commit left %q", got)
			}
		})
	}

	dir := t.TempDir()
	tg, err := NewTarget(filepath.Join(dir, "out.bin"), false)
	must(t, err)
	if err := tg.Commit(); err == nil {
		t.Error("Commit without Resume succeeded")
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("a refused Commit left %q", got)
	}
}

// entries lists what a directory holds, hidden files included.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestRecordingARangeWritesOneLine: recording a range costs the same
// whatever the number of ranges recorded before it, so that a get of a
// terabyte (131,072 ranges) is not slowed by its own record: it writes one
// short line, counted by the kernel (wchar, the bytes this process passed to
// write and its kin), never the ranges recorded before.
func TestRecordingARangeWritesOneLine(t *testing.T) {
	for _, recorded := range []int{100, 100_000} {
		const n = 4096
		r, f := recordWith(t, recorded, n)
		before := writtenBytes(t)
		r.done(f, recorded, 0, n)
		written := writtenBytes(t) - before
		if written > recordEntryMax {
			t.Errorf("with %d ranges recorded, recording one more wrote %d bytes, want at most %d", recorded, written, recordEntryMax)
		}
		if got := r.load(r.key, recorded+1); len(got) != recorded+1 || got[recorded] == nil {
			t.Errorf("with %d ranges recorded and one more, the record holds %d", recorded, len(got))
		}
	}
}

// writtenBytes is how many bytes this process has written, to any file,
// since it began.
func writtenBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			var n int64
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("/proc/self/io has no wchar")
	return 0
}

// TestRecordKnownAnswer: the record of docs/FORMAT.md §5.3's example, byte
// for byte, as a download writes it and as a resume writes it again.
func TestRecordKnownAnswer(t *testing.T) {
	master, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	var salt crypt.Salt
	hex.Decode(salt[:], []byte("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"))
	keys, err := crypt.DeriveKeys(master, salt)
	must(t, err)
	defer keys.Destroy()
	mac, err := keys.RangeMAC()
	must(t, err)
	p := filepath.Join(t.TempDir(), ".hello.txt"+partialSuffix)
	f, err := createPrivate(p)
	must(t, err)
	defer f.Close()
	_, err = f.WriteString("hello, world\n")
	must(t, err)
	r := &partialRecord{path: p + recordSuffix, tmp: p + recordTmpSuffix, mac: mac}
	defer r.close()
	key := partialKey{ID: "AqChoqOkpaanqKmqq6ytrq-nOOjwhJEzx5x_zzkmYVepEwVVxJr6rf1I", Size: 46,
		Modified: time.Date(2026, 11, 29, 15, 43, 57, 0, time.UTC), ChunkPackages: 128}
	const want = `{"format":"ogive partial download 1","id":"AqChoqOkpaanqKmqq6ytrq-nOOjwhJEzx5x_zzkmYVepEwVVxJr6rf1I","size":46,"modified":"2026-11-29T15:43:57Z","chunk_packages":128}` + "\n" +
		"0 0b201dfccdda0ecfb7abf388a11e5f05\n"

	must(t, r.start(key, nil, nil))
	r.done(f, 0, 0, 13)
	if got, _ := os.ReadFile(r.path); string(got) != want {
		t.Errorf("the record is\n%s\nwant\n%s", got, want)
	}
	had := r.load(key, 1)
	valid := verify(f, had, func(int) (int64, int64) { return 0, 13 }, mac, 128)
	must(t, r.start(key, had, valid))
	if got, _ := os.ReadFile(r.path); string(got) != want {
		t.Errorf("the record resumed is\n%s\nwant\n%s", got, want)
	}
}

// TestRecordSkipsWhatItCannotParse: a reader takes each well-formed line
// of a record whose header is this download's, and skips the rest: the last
// line torn by a crash mid-append, zeros a crash of the machine left, lines
// about ranges past the last or spelt otherwise than a writer spells them. A
// later line about a range counts over an earlier one. A record without a
// whole header line of this download gives nothing.
func TestRecordSkipsWhatItCannotParse(t *testing.T) {
	const chunks = 5
	key := partialKey{ID: "AAAA", Size: 1 << 20, Modified: time.Unix(1700000000, 0).UTC(), ChunkPackages: testChunkPackages}
	tag := func(b byte) []byte { return bytes.Repeat([]byte{b}, crypt.RangeMACSize) }
	all := map[int][]byte{0: tag(0), 1: tag(1), 2: tag(2), 3: tag(3), 4: tag(4)}
	genuine := recordText(t, key, all)
	line2 := bytes.Index(genuine, []byte("\n2 ")) + 1
	only0 := recordText(t, key, map[int][]byte{0: tag(0)})
	other := key
	other.ID = "BBBB"
	for _, tc := range []struct {
		name   string
		record []byte
		want   map[int][]byte
	}{
		{"as-written", genuine, all},
		{"last-line-torn", genuine[:len(genuine)-7], map[int][]byte{0: tag(0), 1: tag(1), 2: tag(2), 3: tag(3)}},
		{"last-line-without-its-newline", genuine[:len(genuine)-1], map[int][]byte{0: tag(0), 1: tag(1), 2: tag(2), 3: tag(3)}},
		{"zeros-before-a-line", slices.Concat(genuine[:line2], make([]byte, 30), genuine[line2:]),
			map[int][]byte{0: tag(0), 1: tag(1), 3: tag(3), 4: tag(4)}},
		{"lines-spelt-otherwise", slices.Concat(only0, []byte(
			"5 05050505050505050505050505050505\n"+ // past the last range
				"+1 01010101010101010101010101010101\n"+
				"01 01010101010101010101010101010101\n"+
				"-0 01010101010101010101010101010101\n"+
				"2 0202020202020202020202020202020A\n"+ // uppercase
				"3 030303030303030303030303030303\n"+ // a short tag
				"3 0303030303030303030303030303030303\n"+ // a long one
				"4  04040404040404040404040404040404\n"+
				"4 04040404040404040404040404040404 \n"+
				"4 04040404040404040404040404040404\r\n"+
				"99999999999 04040404040404040404040404040404\n"+
				"\n")), map[int][]byte{0: tag(0)}},
		{"a-later-line-counts", slices.Concat(only0, []byte("0 0909090909090909090909090909090a\n")),
			map[int][]byte{0: slices.Concat(tag(9)[:15], []byte{0x0a})}},
		{"header-torn", genuine[:bytes.IndexByte(genuine, '\n')], nil},
		{"header-of-another-download", recordText(t, other, all), nil},
		{"header-without-format", genuine[bytes.Index(genuine, []byte(`"id"`))-1:], nil},
		{"format-of-before", []byte(`{"id":"AAAA","size":1048576,"modified":"2023-11-14T22:13:20Z","chunk_packages":2,"done":{"0":"AAAAAAAAAAAAAAAAAAAAAA=="}}`), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "record")
			must(t, os.WriteFile(path, tc.record, 0o600))
			got := (&partialRecord{path: path}).load(key, chunks)
			if len(got) != len(tc.want) {
				t.Fatalf("load gives ranges %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(tc.want)))
			}
			for i, tag := range tc.want {
				if !bytes.Equal(got[i], tag) {
					t.Errorf("range %d has tag %x, want %x", i, got[i], tag)
				}
			}
		})
	}
}

// TestConcurrentRangesAreRecordedWhole: ranges that finish together, as
// the download's workers finish them, are each recorded on a line of their
// own, with their tag.
func TestConcurrentRangesAreRecordedWhole(t *testing.T) {
	const chunks, n = 64, 4096
	r, f := recordWith(t, 0, chunks*n)
	var wg sync.WaitGroup
	for i := range chunks {
		wg.Go(func() { r.done(f, i, int64(i)*n, n) })
	}
	wg.Wait()
	had := r.load(r.key, chunks)
	if ok := verify(f, had, func(i int) (int64, int64) { return int64(i) * n, n }, r.mac, r.key.ChunkPackages); len(ok) != chunks {
		t.Errorf("%d ranges recorded, %d with their tag; want %d", len(had), len(ok), chunks)
	}
}

// TestRecordAppendsNeverFollowTheName: a record is appended to through the
// file its download created, never by its name: a symbolic link put there
// during the download is not written through.
func TestRecordAppendsNeverFollowTheName(t *testing.T) {
	const n = 4096
	r, f := recordWith(t, 3, n)
	victim := writeVictim(t, t.TempDir())
	must(t, os.Remove(r.path))
	must(t, os.Symlink(victim, r.path))
	r.done(f, 3, 0, n)
	checkVictim(t, victim)
}

// TestResumeAfterATornRecord: a download killed as it appended a range to
// its record resumes every range recorded whole, and fetches the rest.
func TestResumeAfterATornRecord(t *testing.T) {
	d := newTestDownload(t)
	final := filepath.Join(t.TempDir(), "out.bin")
	d.interrupted(t, final)
	record := PartialPath(final) + recordSuffix
	b, err := os.ReadFile(record)
	must(t, err)
	must(t, os.WriteFile(record, b[:len(b)-10], 0o600))
	tg, fetched, err := d.get(t, final, false, -1)
	must(t, err)
	if tg.Resumed() != testChunks/2-1 || fetched != testChunks-testChunks/2+1 {
		t.Errorf("resumed %d ranges and fetched %d, want %d and %d", tg.Resumed(), fetched, testChunks/2-1, testChunks-testChunks/2+1)
	}
	d.checkFinal(t, final)
}
