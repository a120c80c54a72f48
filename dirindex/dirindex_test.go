package dirindex

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkEqual compares two indexes field by field (times by instant and zone).
func checkEqual(t *testing.T, got, want *Index) {
	t.Helper()
	if got.ID != want.ID || got.StreamSize != want.StreamSize || len(got.Entries) != len(want.Entries) {
		t.Fatalf("got ID %q, stream size %d, %d entries; want %q, %d, %d",
			got.ID, got.StreamSize, len(got.Entries), want.ID, want.StreamSize, len(want.Entries))
	}
	for i := range got.Entries {
		g, w := got.Entries[i], want.Entries[i]
		if !g.MTime.Equal(w.MTime) || g.MTime.Location() != time.UTC {
			t.Errorf("entry %d: time %v, want %v in UTC", i, g.MTime, w.MTime)
		}
		g.MTime, w.MTime = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestSampleRoundTrip(t *testing.T) {
	s := sampleSpec()
	b := s.encode()
	ix, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, ix, s.toIndex(t))
	again, err := ix.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Errorf("Marshal(Parse(b)) differs from b")
	}
}

// TestMustFail breaks each rule of FORMAT.md §7.3 once in the sample index.
// Parse must refuse the bytes with ErrDamaged, saying what is wrong, and
// Marshal must refuse the same index where an Index can hold it.
func TestMustFail(t *testing.T) {
	type tc struct {
		name string
		// edit changes the sample; offsets and the stream size are then
		// made to tile again unless keep is set.
		edit func(s *specIndex)
		keep bool
		// bytes, if set, changes the encoding instead.
		bytes func(b []byte) []byte
		want  string // in the error
	}
	entry := func(s *specIndex, path string) *specEntry {
		for i := range s.Entries {
			if s.Entries[i].Path == path {
				return &s.Entries[i]
			}
		}
		panic(path)
	}
	insert := func(s *specIndex, at int, e specEntry) {
		s.Entries = slices.Insert(s.Entries, at, e)
	}
	file := func(path string) specEntry {
		return specEntry{Kind: 1, Mode: 0o644, HeaderLen: 512, Size: 1, SHA256: hexSHA("x"), Path: path}
	}
	cases := []tc{
		{name: "magic", edit: func(s *specIndex) { s.Magic = "ogiveidy" }, want: "magic"},
		{name: "version 0", bytes: func(b []byte) []byte { b[8] = 0; return b }, want: "version 0"},
		{name: "version 2", edit: func(s *specIndex) { s.Version = 2 }, want: "version 2"},
		{name: "trailing byte", bytes: func(b []byte) []byte { return append(b, 0) }, want: "1 bytes after"},
		{name: "count one more", edit: func(s *specIndex) { s.Count = len(s.Entries) + 1 }, want: "entry 5 of 6: truncated"},
		{name: "count one less", edit: func(s *specIndex) { s.Count = len(s.Entries) - 1 }, want: "bytes after the last entry"},
		{name: "count 4G", edit: func(s *specIndex) { s.Count = math.MaxUint32 }, want: "truncated"},
		{name: "count 0, no entry", edit: func(s *specIndex) { s.Count, s.Entries = 0, nil; s.StreamSize = 1024 }, keep: true, want: "no entry"},
		{name: "id empty", edit: func(s *specIndex) { s.ID = "" }, want: "id length 0"},
		{name: "id 1025 bytes", edit: func(s *specIndex) { s.ID = strings.Repeat("A", 1025) }, want: "id length 1025"},
		{name: "id space", edit: func(s *specIndex) { s.ID = "A B" }, want: "printable ASCII"},
		{name: "id control", edit: func(s *specIndex) { s.ID = "A\x1b[2J" }, want: "printable ASCII"},
		{name: "id 8-bit", edit: func(s *specIndex) { s.ID = "A\xc3\xa9" }, want: "printable ASCII"},
		{name: "kind 0", edit: func(s *specIndex) { s.Entries[4].Kind = 0 }, want: "unknown kind 0"},
		{name: "kind 5", edit: func(s *specIndex) { s.Entries[4].Kind = 5 }, want: "unknown kind 5"},
		{name: "mode 010000", edit: func(s *specIndex) { s.Entries[1].Mode = 0o10000 }, want: "mode 010000"},
		{name: "nanoseconds 1e9", edit: func(s *specIndex) { s.Entries[3].Nsec = 1e9 }, want: "nanoseconds"},
		{name: "header length 0", edit: func(s *specIndex) { s.Entries[2].HeaderLen = 0 }, want: "header length 0"},
		{name: "header length 511", edit: func(s *specIndex) { s.Entries[2].HeaderLen = 511 }, want: "header length 511"},
		{name: "header length 513", edit: func(s *specIndex) { s.Entries[2].HeaderLen = 513 }, want: "header length 513"},
		{name: "size on a directory", edit: func(s *specIndex) { s.Entries[3].Size = 512 }, want: "size 512 on a directory"},
		{name: "size on a symlink", edit: func(s *specIndex) { s.Entries[4].Size = 1 }, want: "size 1 on a symbolic link"},
		{name: "size on a hard link", edit: func(s *specIndex) { s.Entries[2].Size = 6 }, want: "size 6 on a hard link"},
		{name: "size 2^63", edit: func(s *specIndex) { s.Entries[1].Size = 1 << 63 }, want: "out of range"},
		{name: "size too large to tile", edit: func(s *specIndex) { s.Entries[1].Size = math.MaxInt64 - 100 }, keep: true, want: "ends past"},
		{name: "sha256 on a directory", edit: func(s *specIndex) { s.Entries[3].SHA256 = hexSHA("") }, want: ""},
		{name: "no sha256 on a file", edit: func(s *specIndex) { s.Entries[1].SHA256 = "" }, want: ""},
		{name: "top is a file", edit: func(s *specIndex) { s.Entries[0].Kind, s.Entries[0].SHA256 = 1, hexSHA("") }, want: "not a top directory"},
		{name: "top of two components", edit: func(s *specIndex) {
			for i := range s.Entries {
				s.Entries[i].Path = "x/" + s.Entries[i].Path
			}
			s.Entries[2].Link = "x/" + s.Entries[2].Link
		}, want: "not a top directory"},
		{name: "top empty", edit: func(s *specIndex) { s.Entries[0].Path = "" }, want: "not a top directory"},
		{name: "top dot", edit: func(s *specIndex) { s.Entries[0].Path = "." }, want: "not a top directory"},
		{name: "top dot dot", edit: func(s *specIndex) { s.Entries[0].Path = ".." }, want: "not a top directory"},
		{name: "second top", edit: func(s *specIndex) { insert(s, 5, specEntry{Kind: 2, Mode: 0o755, HeaderLen: 512, Path: "photos2"}) }, want: "not under the top"},
		{name: "top again", edit: func(s *specIndex) { insert(s, 1, specEntry{Kind: 2, Mode: 0o755, HeaderLen: 512, Path: "photos"}) }, want: "not under the top"},
		{name: "absolute path", edit: func(s *specIndex) { insert(s, 1, file("/photos/a")) }, want: "not under the top"},
		{name: "other top", edit: func(s *specIndex) { insert(s, 5, file("photosx/a")) }, want: "not under the top"},
		{name: "dot dot component", edit: func(s *specIndex) { insert(s, 5, file("photos/../etc")) }, want: `component ".."`},
		{name: "dot dot last", edit: func(s *specIndex) { insert(s, 5, file("photos/x/..")) }, want: `component ".."`},
		{name: "dot component", edit: func(s *specIndex) { insert(s, 5, file("photos/./x")) }, want: `component "."`},
		{name: "empty component", edit: func(s *specIndex) { insert(s, 5, file("photos//x")) }, want: `component ""`},
		{name: "trailing slash", edit: func(s *specIndex) { s.Entries[3].Path = "photos/empty/" }, want: `component ""`},
		{name: "NUL in a path", edit: func(s *specIndex) { insert(s, 5, file("photos/x\x00y")) }, want: "NUL in the path"},
		{name: "NUL in a link", edit: func(s *specIndex) { s.Entries[4].Link = "a\x00" }, want: "NUL in the link"},
		{name: "NUL in an owner name", edit: func(s *specIndex) { s.Entries[4].Uname = "a\x00" }, want: "NUL in the owner name"},
		{name: "NUL in a group name", edit: func(s *specIndex) { s.Entries[4].Gname = "\x00" }, want: "NUL in the group name"},
		{name: "duplicate path", edit: func(s *specIndex) { insert(s, 2, file("photos/a.txt")) }, want: "listed twice"},
		{name: "out of order", edit: func(s *specIndex) { s.Entries[3], s.Entries[4] = s.Entries[4], s.Entries[3] }, want: `out of order: after "photos/link"`},
		{name: "out of walk order", edit: func(s *specIndex) {
			// "a b" sorts before "a/x" as strings, after it in the walk.
			insert(s, 5, specEntry{Kind: 2, HeaderLen: 512, Path: "photos/z"})
			insert(s, 6, file("photos/z b"))
			insert(s, 7, file("photos/z/x"))
		}, want: `out of order: after "photos/z b"`},
		{name: "parent missing", edit: func(s *specIndex) { insert(s, 5, file("photos/x/y")) }, want: `parent "photos/x" is not an earlier directory`},
		{name: "parent is a file", edit: func(s *specIndex) { insert(s, 2, file("photos/a.txt/y")) }, want: `parent "photos/a.txt"`},
		{name: "parent is a hard link", edit: func(s *specIndex) { insert(s, 3, file("photos/b/y")) }, want: `parent "photos/b"`},
		{name: "parent is a symlink", edit: func(s *specIndex) { insert(s, 5, file("photos/link/passwd")) }, want: `parent "photos/link"`},
		{name: "hard link forward", edit: func(s *specIndex) { insert(s, 5, file("photos/z")); entry(s, "photos/b").Link = "photos/z" }, want: "not an earlier file"},
		{name: "hard link to itself", edit: func(s *specIndex) { entry(s, "photos/b").Link = "photos/b" }, want: "not an earlier file"},
		{name: "hard link to a directory", edit: func(s *specIndex) { entry(s, "photos/b").Link = "photos" }, want: "not an earlier file"},
		{name: "hard link to a hard link", edit: func(s *specIndex) {
			insert(s, 3, specEntry{Kind: 4, HeaderLen: 512, Path: "photos/c", Link: "photos/b"})
		}, want: `hard link to "photos/b"`},
		{name: "hard link to a symlink", edit: func(s *specIndex) {
			insert(s, 5, specEntry{Kind: 4, HeaderLen: 512, Path: "photos/m", Link: "photos/link"})
		}, want: `hard link to "photos/link"`},
		{name: "hard link relative", edit: func(s *specIndex) { entry(s, "photos/b").Link = "a.txt" }, want: "not an earlier file"},
		{name: "hard link to nothing", edit: func(s *specIndex) { entry(s, "photos/b").Link = "" }, want: "hard link to nothing"},
		{name: "symlink to nothing", edit: func(s *specIndex) { entry(s, "photos/link").Link = "" }, want: "symbolic link to nothing"},
		{name: "file with a link", edit: func(s *specIndex) { entry(s, "photos/a.txt").Link = "x" }, want: "a file with a link"},
		{name: "directory with a link", edit: func(s *specIndex) { entry(s, "photos/empty").Link = "x" }, want: "a directory with a link"},
		{name: "first offset 512", edit: func(s *specIndex) {
			for i := range s.Entries {
				s.Entries[i].Offset += 512
			}
			s.StreamSize += 512
		}, keep: true, want: "at offset 512, not 0"},
		{name: "offset a block late", edit: func(s *specIndex) { s.Entries[2].Offset += 512 }, keep: true, want: "not 2560"},
		{name: "offset a block early", edit: func(s *specIndex) { s.Entries[2].Offset -= 512 }, keep: true, want: "not 2560"},
		{name: "offset off by one", edit: func(s *specIndex) { s.Entries[4].Offset++ }, keep: true, want: "not 5632"},
		{name: "offset 2^63", edit: func(s *specIndex) { s.Entries[0].Offset = 1 << 63 }, keep: true, want: "offset -9223372036854775808 out of range"},
		{name: "stream size one more", edit: func(s *specIndex) { s.StreamSize++ }, keep: true, want: "stream size 7169, not 7168"},
		{name: "stream size one less", edit: func(s *specIndex) { s.StreamSize-- }, keep: true, want: "stream size 7167, not 7168"},
		{name: "stream size without the zero blocks", edit: func(s *specIndex) { s.StreamSize -= 1024 }, keep: true, want: "stream size 6144"},
		{name: "stream size 2^63", edit: func(s *specIndex) { s.StreamSize = 1 << 63 }, keep: true, want: "stream size -9223372036854775808 out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := sampleSpec()
			if c.edit != nil {
				c.edit(s)
				if !c.keep {
					s.tile()
				}
			}
			b := s.encode()
			if c.bytes != nil {
				b = c.bytes(b)
			}
			ix, err := Parse(b)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", ix)
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse: %v; want ErrDamaged and %q", err, c.want)
			}
			// An Index can hold the case if the spec's decoder reads it and
			// it has no field an Index cannot represent.
			d, err := specDecode(b)
			if err != nil || d.Magic != "ogiveidx" || d.Version != 1 {
				return
			}
			for _, e := range d.Entries {
				if e.Nsec >= 1e9 || (e.Kind != 1 && e.SHA256 != "") {
					return
				}
			}
			if m, err := d.toIndex(t).Marshal(); err == nil {
				t.Errorf("Marshal accepted it: %x", m)
			} else if errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Marshal: %v; want %q, not ErrDamaged", err, c.want)
			}
		})
	}
}

// TestTruncated refuses every proper prefix of a valid index.
func TestTruncated(t *testing.T) {
	b := sampleSpec().encode()
	for n := range len(b) {
		if _, err := Parse(b[:n]); !errors.Is(err, ErrDamaged) {
			t.Fatalf("%d of %d bytes: %v", n, len(b), err)
		}
	}
}

// TestMarshalRefuses covers what the bytes cannot even say.
func TestMarshalRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(ix *Index)
		want string
	}{
		{"path of 64 KiB", func(ix *Index) { ix.Entries[4].Path = "photos/" + strings.Repeat("x", 65536) }, "path of 65543 bytes"},
		{"link of 64 KiB", func(ix *Index) { ix.Entries[4].Link = strings.Repeat("x", 65536) }, "link of 65536 bytes"},
		{"path of 4097 bytes", func(ix *Index) { ix.Entries[4].Path = "photos/" + strings.Repeat("x", 4090) }, "path of 4097 bytes, more than 4096"},
		{"link of 4097 bytes", func(ix *Index) { ix.Entries[4].Link = strings.Repeat("x", 4097) }, "link of 4097 bytes, more than 4096"},
		{"owner name of 256 bytes", func(ix *Index) { ix.Entries[1].Uname = strings.Repeat("u", 256) }, "owner name of 256 bytes"},
		{"group name of 256 bytes", func(ix *Index) { ix.Entries[1].Gname = strings.Repeat("g", 256) }, "group name of 256 bytes"},
		{"sha256 on a directory", func(ix *Index) { ix.Entries[3].SHA256[0] = 1 }, "SHA-256 on a directory"},
		{"sha256 on a hard link", func(ix *Index) { ix.Entries[2].SHA256[31] = 1 }, "SHA-256 on a hard link"},
		{"negative size", func(ix *Index) { ix.Entries[1].Size = -1 }, "size -1"},
		{"negative offset", func(ix *Index) { ix.Entries[0].Offset = -512 }, "offset -512"},
		{"header length 4 GiB", func(ix *Index) { ix.Entries[1].HeaderLen = 1 << 32 }, "header length 4294967296"},
		{"negative stream size", func(ix *Index) { ix.StreamSize = -1 }, "stream size -1"},
		{"no entries", func(ix *Index) { ix.Entries = nil }, "no entry"},
	} {
		ix := sampleSpec().toIndex(t)
		c.edit(ix)
		if _, err := ix.Marshal(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Marshal: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestOrderIsWalkOrder checks that the order Parse requires is the one in
// which filepath.WalkDir (hence the tree package) visits a directory.
func TestOrderIsWalkOrder(t *testing.T) {
	root := filepath.Join(t.TempDir(), "top")
	for _, d := range []string{"a", "a/z", "a b", "a-", "a0", "A", "b/c/d", "\xe9t\xe9", "~"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a/x", "a/z/y", "a!", "a b/c", "a.txt", "b/c.d", "b/c/d/e", "b/c0", "\xe9t\xe9/f", "\xff"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var walk []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(filepath.Dir(root), p)
		walk = append(walk, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(walk); i++ {
		if comparePaths(walk[i-1], walk[i]) >= 0 || comparePaths(walk[i], walk[i-1]) <= 0 {
			t.Errorf("%q then %q: not in order", walk[i-1], walk[i])
		}
	}
	if !slices.IsSortedFunc(walk, comparePaths) || len(walk) < 20 {
		t.Errorf("walk %q", walk)
	}
}

// randomIndex makes a valid index: a random tree in walk order, with every
// field drawn over its whole range.
func randomIndex(r *rand.Rand) *Index {
	str := func(max int, alphabet string) string {
		b := make([]byte, r.IntN(max+1))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	const nameBytes = "ab. -_~\x01\x7f\x80\xc3\xa9\xff"
	name := func() string {
		for {
			if n := str(6, nameBytes); n != "" && n != "." && n != ".." {
				return n
			}
		}
	}
	mtime := func() time.Time {
		switch r.IntN(4) {
		case 0:
			return time.Unix(int64(r.Uint64()), int64(r.IntN(1e9))).UTC()
		case 1:
			return time.Unix(r.Int64N(1<<32)-1<<31, 0).UTC()
		}
		return time.Unix(r.Int64N(1<<35)-1<<34, int64(r.IntN(1e9))).UTC()
	}
	entry := func(kind Kind, path string) Entry {
		e := Entry{
			Kind: kind, Mode: uint16(r.IntN(0o10000)), MTime: mtime(), Uid: r.Uint32(), Gid: r.Uint32(),
			HeaderLen: 512 * (1 + r.Int64N(4)), Path: path, Uname: str(3, "ab\xff"), Gname: str(3, "cd "),
		}
		if r.IntN(20) == 0 {
			e.Uname = str(255, "xyz")
		}
		return e
	}
	ix := &Index{ID: str(40, "ABCabc-_0~!") + "A", Entries: []Entry{entry(Dir, name())}}
	var files []string
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		names := map[string]bool{}
		for range r.IntN(5) {
			names[name()] = true
		}
		for _, n := range slices.Sorted(func(yield func(string) bool) {
			for n := range names {
				if !yield(n) {
					return
				}
			}
		}) {
			p := dir + "/" + n
			switch k := r.IntN(10); {
			case k < 3 && depth < 4:
				ix.Entries = append(ix.Entries, entry(Dir, p))
				walk(p, depth+1)
			case k < 7:
				e := entry(File, p)
				e.Size = r.Int64N(3000)
				if r.IntN(10) == 0 {
					e.Size = r.Int64N(1 << 50)
				}
				for i := range e.SHA256 {
					e.SHA256[i] = byte(r.Uint32())
				}
				ix.Entries = append(ix.Entries, e)
				files = append(files, p)
			case k < 9 || len(files) == 0:
				e := entry(Symlink, p)
				e.Link = "/" + str(30, "./ab\xff")
				ix.Entries = append(ix.Entries, e)
			default:
				e := entry(Hardlink, p)
				e.Link = files[r.IntN(len(files))]
				ix.Entries = append(ix.Entries, e)
			}
		}
	}
	walk(ix.Entries[0].Path, 0)
	var off int64
	for i := range ix.Entries {
		e := &ix.Entries[i]
		e.Offset = off
		off += e.HeaderLen + (e.Size+511)/512*512
	}
	ix.StreamSize = off + 1024
	return ix
}

func TestRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		ix := randomIndex(r)
		b, err := ix.Marshal()
		if err != nil {
			t.Fatalf("index %d: Marshal: %v", i, err)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("index %d: Parse: %v", i, err)
		}
		checkEqual(t, got, ix)
		for j := range ix.Entries {
			e := &ix.Entries[j]
			if f, ok := got.Lookup(e.Path); !ok || f != &got.Entries[j] {
				t.Fatalf("index %d: Lookup(%q) = %v, %v", i, e.Path, f, ok)
			}
			if _, ok := got.Lookup(e.Path + "\x00"); ok {
				t.Fatalf("index %d: Lookup(%q) found something", i, e.Path+"\x00")
			}
		}
		if t.Failed() {
			return
		}
	}
}

func TestEntryHelpers(t *testing.T) {
	ix, err := Parse(sampleSpec().encode())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, rel  string
		dataOffset int64
	}{
		{"photos", "", 512},
		{"photos/a.txt", "a.txt", 2048},
		{"photos/empty", "empty", 5632},
	} {
		e, ok := ix.Lookup(c.path)
		if !ok {
			t.Fatalf("Lookup(%q) found nothing", c.path)
		}
		if e.Path != c.path || e.Rel() != c.rel || e.DataOffset() != c.dataOffset {
			t.Errorf("%q: Rel %q, DataOffset %d; want %q, %d", e.Path, e.Rel(), e.DataOffset(), c.rel, c.dataOffset)
		}
	}
	for _, p := range []string{"", "photo", "photos/", "photos/a", "photos/a.txt/", "photos/zz", "a.txt"} {
		if e, ok := ix.Lookup(p); ok {
			t.Errorf("Lookup(%q) found %q", p, e.Path)
		}
	}
	e := Entry{Path: "t/a/b/c"}
	if e.Rel() != "a/b/c" {
		t.Errorf("Rel %q", e.Rel())
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		patterns []string
		rel      string
		want     bool
	}{
		{[]string{"a/b/c/*"}, "a/b/c/x", true},
		{[]string{"a/b/c/*"}, "a/b/c", false},
		{[]string{"a/b/c/*"}, "a/b/cd/x", false},
		// a/b/c/d matches, and it is the directory that holds x.
		{[]string{"a/b/c/*"}, "a/b/c/d/x", true},
		{[]string{"a/b"}, "a/b/x/y", true},
		{[]string{"a/b"}, "a/bc", false},
		{[]string{"a/b"}, "a", false},
		{[]string{"a/*/x"}, "a/b/c/x", false},
		{[]string{"a/*/x"}, "a/b/x", true},
		{[]string{"*.jpg"}, "x.jpg", true},
		{[]string{"*.jpg"}, "d/x.jpg", false},
		{[]string{"*.jpg"}, "d.jpg/x", true},
		{[]string{"*"}, "d/x", true},
		{[]string{"*"}, "", false},
		{[]string{"?"}, "é", true}, // path.Match's '?' is one rune
		{[]string{"??"}, "é", false},
		{[]string{"[a-c]"}, "b/z", true},
		{[]string{`\*`}, "*", true},
		{[]string{`\*`}, "x", false},
		{[]string{"x", "y"}, "y/1", true},
		{nil, "x", false},
	} {
		got, err := Match(c.patterns, c.rel)
		if err != nil || got != c.want {
			t.Errorf("Match(%q, %q) = %v, %v; want %v", c.patterns, c.rel, got, err, c.want)
		}
	}
	for _, bad := range [][]string{{"["}, {"a", "b["}, {`x\`}, {""}, {"*[a-"}} {
		if err := CheckPatterns(bad); err == nil {
			t.Errorf("CheckPatterns(%q) accepted it", bad)
		}
		// The error comes whatever rel is, even when a pattern before matches.
		for _, rel := range []string{"", "a", "a/b[", "zzz"} {
			if ok, err := Match(bad, rel); err == nil {
				t.Errorf("Match(%q, %q) = %v with no error", bad, rel, ok)
			}
		}
	}
	if err := CheckPatterns([]string{"a/*", "[a-z]?", `\[`}); err != nil {
		t.Error(err)
	}
}

// bigIndex is an index of n entries shaped like a photo library: directories
// of 100 files with names of 20-odd bytes.
func bigIndex(n int) []byte {
	ix := &Index{ID: strings.Repeat("A", 60)}
	ix.Entries = append(ix.Entries, Entry{Kind: Dir, Mode: 0o755, HeaderLen: 512, Path: "photos", Uname: "alice", Gname: "staff"})
	dir := ""
	for i := 1; len(ix.Entries) < n; i++ {
		e := Entry{Kind: File, Mode: 0o644, MTime: time.Unix(1700000000+int64(i), int64(i)), Uid: 1000, Gid: 1000,
			HeaderLen: 1536, Size: 100 << 10, Uname: "alice", Gname: "staff"}
		if i%100 == 1 {
			dir = fmt.Sprintf("photos/2024-%06d", i/100)
			ix.Entries = append(ix.Entries, Entry{Kind: Dir, Mode: 0o755, HeaderLen: 512, Path: dir, Uname: "alice", Gname: "staff"})
			if len(ix.Entries) == n {
				break
			}
		}
		e.Path = fmt.Sprintf("%s/IMG_%08d.jpg", dir, i)
		e.SHA256[0], e.SHA256[1] = byte(i), byte(i>>8)
		ix.Entries = append(ix.Entries, e)
	}
	var off int64
	for i := range ix.Entries {
		e := &ix.Entries[i]
		e.Offset = off
		off += e.HeaderLen + (e.Size+511)/512*512
	}
	ix.StreamSize = off + 1024
	b, err := ix.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// TestParseLean bounds what Parse allocates: a few allocations, and less
// than twice the input in all.
func TestParseLean(t *testing.T) {
	b := bigIndex(20000)
	if allocs := testing.AllocsPerRun(3, func() {
		if _, err := Parse(b); err != nil {
			t.Fatal(err)
		}
	}); allocs > 5 {
		t.Errorf("Parse made %v allocations, want at most 5", allocs)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ix, err := Parse(b)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 2*uint64(len(b)) {
		t.Errorf("Parse of %d bytes allocated %d bytes, more than twice", len(b), n)
	}
	runtime.KeepAlive(ix)
}

func BenchmarkParse100k(b *testing.B) {
	in := bigIndex(100000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var ix *Index
	for b.Loop() {
		var err error
		if ix, err = Parse(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(in))/1e6, "input-MB")
	runtime.KeepAlive(ix)
}

func BenchmarkMarshal100k(b *testing.B) {
	ix, err := Parse(bigIndex(100000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ix.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sampleSpec().encode())
	f.Add(docExampleBytes(f))
	r := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		b, err := randomIndex(r).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("error %v is not ErrDamaged", err)
			}
			return
		}
		again, err := ix.Marshal()
		if err != nil {
			t.Fatalf("Parse accepted what Marshal refuses: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-marshalled\n%x\nnot\n%x", again, b)
		}
	})
}

func docExampleBytes(f *testing.F) []byte {
	b, err := docExample().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	return b
}
