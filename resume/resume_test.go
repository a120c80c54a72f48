package resume

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
)

// vectorMaster is the master key of the known-answer vectors: bytes 0x00..0x1f.
func vectorMaster() []byte {
	m := make([]byte, crypt.MasterKeySize)
	for i := range m {
		m[i] = byte(i)
	}
	return m
}

func recordKey(t testing.TB, master []byte) *crypt.RecordKey {
	t.Helper()
	k, err := crypt.DeriveRecordKey(master)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Destroy)
	return k
}

func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// example is the record of docs/FORMAT.md §6's example.
func example() *Upload {
	return &Upload{
		Bucket: "b", Prefix: "p/", ID: "Aid", UploadID: "up1", PartSize: 256 * crypt.MaxPackageLen,
		Class: "DEEP_ARCHIVE",
		Source: Source{Path: "/data/a.tar", Size: 40000000, MTime: time.Unix(1700000000, 500000000).UTC(),
			Inode: 7, Dev: 3},
		Started: time.Unix(1704164645, 0).UTC(),
		Digests: map[int32][32]byte{2: fill(0x22), 1: fill(0x11)},
	}
}

func fill(b byte) (d [32]byte) {
	for i := range d {
		d[i] = b
	}
	return d
}

// TestCanonicalVector pins the bytes a record's MAC covers and the MAC; the expected
// values were computed from docs/FORMAT.md §6 with Python's struct, hmac and hashlib.
func TestCanonicalVector(t *testing.T) {
	const want = "00000002000000016200000002702f000000034169640000000375703100000000010020000000000c444545505f415243484956450000000b2f646174612f612e7461720000000002625a00000000006553f1001dcd650000000000000000070000000000000003000000000000000065937d250000000000000002000000011111111111111111111111111111111111111111111111111111111111111111000000022222222222222222222222222222222222222222222222222222222222222222"
	if got := hex.EncodeToString(canonical(example())); got != want {
		t.Fatalf("canonical bytes\n got %s\nwant %s", got, want)
	}
	mac, err := recordKey(t, vectorMaster()).MAC(canonical(example()))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(mac[:]); got != "9c9550a19846d9f0535cf94d2139b64fd8220388ae94fbb0e32eb7d126f13702" {
		t.Errorf("MAC %s", got)
	}
	// A block device's zero modification time is year 1: negative seconds.
	u := example()
	u.Source.MTime = time.Time{}
	if got := hex.EncodeToString(canonical(u)); !strings.Contains(got, "fffffff1886e0900"+"00000000") {
		t.Errorf("zero time not encoded as -62135596800 s: %s", got)
	}
}

func TestSaveLoadRemove(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "ogive", "uploads"))
	key := recordKey(t, vectorMaster())
	u := example()
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrNoState) {
		t.Fatalf("empty store: %v", err)
	}
	if err := s.Save(u, key); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.UploadID != "up1" || !got.Matches(u.Source) || len(got.Digests) != 2 || got.Digests[2] != fill(0x22) ||
		!got.Started.Equal(u.Started) || got.PartSize != u.PartSize || got.Class != u.Class {
		t.Fatalf("loaded %+v", got)
	}
	// Another bucket or prefix is another upload.
	if _, err := s.Load("b", "", u.Source.Path, key); !errors.Is(err, ErrNoState) {
		t.Fatalf("other prefix: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(s.Dir(), "*"))
	for _, f := range files {
		st, _ := os.Stat(f)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	for _, d := range []string{s.Dir(), filepath.Dir(s.Dir())} {
		if st, _ := os.Stat(d); st.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v, want 0700", d, st.Mode().Perm())
		}
	}
	if all, err := s.All("b", "p/", key); err != nil || len(all) != 1 {
		t.Fatalf("All: %v %v", all, err)
	}
	if err := s.Remove(u.Bucket, u.Prefix, u.Source.Path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrNoState) {
		t.Fatalf("after Remove: %v", err)
	}
	if err := s.Remove(u.Bucket, u.Prefix, u.Source.Path); err != nil {
		t.Fatalf("removing nothing: %v", err)
	}
	if names := dirNames(t, s.Dir()); len(names) != 0 {
		t.Errorf("left in the state directory: %v", names)
	}
}

func dirNames(t *testing.T, dir string) []string {
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

// recordFile is where s keeps the record of u.
func recordFile(s *Store, u *Upload) string {
	return filepath.Join(s.Dir(), base(u.Bucket, u.Prefix, u.Source.Path)+".json")
}

// TestChangedRecordIsUntrusted edits each field of a saved record, as someone who can
// write the state directory could, and checks that the record is no longer trusted.
func TestChangedRecordIsUntrusted(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ogive", "uploads"))
	key := recordKey(t, vectorMaster())
	u := example()
	edits := map[string]func(m map[string]any){
		"id":            func(m map[string]any) { m["id"] = "Bid" },
		"upload_id":     func(m map[string]any) { m["upload_id"] = "up2" },
		"part_size":     func(m map[string]any) { m["part_size"] = 5 << 20 },
		"storage_class": func(m map[string]any) { m["storage_class"] = "STANDARD" },
		"started":       func(m map[string]any) { m["started"] = "2024-01-02T03:04:06Z" },
		"size":          func(m map[string]any) { m["source"].(map[string]any)["size"] = 1 },
		"mtime":         func(m map[string]any) { m["source"].(map[string]any)["mtime"] = "2023-11-14T22:13:21.5Z" },
		"inode":         func(m map[string]any) { m["source"].(map[string]any)["inode"] = 8 },
		"dev":           func(m map[string]any) { m["source"].(map[string]any)["dev"] = 4 },
		"sample":        func(m map[string]any) { m["source"].(map[string]any)["sample"] = "ab" },
		"digest": func(m map[string]any) {
			m["parts"].([]any)[0].(map[string]any)["digest"] = hex.EncodeToString(make([]byte, 32))
		},
		"part dropped": func(m map[string]any) { m["parts"] = m["parts"].([]any)[1:] },
		"part number":  func(m map[string]any) { m["parts"].([]any)[0].(map[string]any)["number"] = 3 },
		"mac":          func(m map[string]any) { m["mac"] = hex.EncodeToString(make([]byte, 32)) },
		"no mac":       func(m map[string]any) { delete(m, "mac") },
		"new field":    func(m map[string]any) { m["trusted"] = true },
		"version 1":    func(m map[string]any) { m["version"] = 1 },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			if err := s.Save(u, key); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(recordFile(s, u))
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			edit(m)
			b, _ = json.Marshal(m)
			if err := os.WriteFile(recordFile(s, u), b, 0o600); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrUntrusted) {
				t.Fatalf("an edited record loads: %+v, %v", got, err)
			}
			if all, _ := s.All(u.Bucket, u.Prefix, key); len(all) != 0 {
				t.Fatalf("All lists an edited record")
			}
		})
	}
}

// TestRecordOfAnotherKeyIsUntrusted: a record MACed under another key (another master
// key, or a key the writer made up) and a record of the first format (no MAC) are both
// refused.
func TestRecordOfAnotherKeyIsUntrusted(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ogive", "uploads"))
	u := example()
	other := make([]byte, 32)
	other[0] = 1
	if err := s.Save(u, recordKey(t, other)); err != nil {
		t.Fatal(err)
	}
	key := recordKey(t, vectorMaster())
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("record of another key: %v", err)
	}
	v1 := `{"version":1,"bucket":"b","prefix":"p/","id":"Aid","upload_id":"up1","part_size":16785408,` +
		`"storage_class":"","source":{"path":"/data/a.tar","size":40000000,"mtime":"2023-11-14T22:13:20.5Z","inode":7,"dev":3},` +
		`"started":"2024-01-02T03:04:05Z"}`
	if err := os.WriteFile(recordFile(s, u), []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("version 1 record: %v", err)
	}
	// A valid record copied under another source's name.
	if err := s.Save(u, key); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(recordFile(s, u))
	moved := *u
	moved.Source.Path = "/data/b.tar"
	os.WriteFile(recordFile(s, &moved), b, 0o600)
	if _, err := s.Load(u.Bucket, u.Prefix, moved.Source.Path, key); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("record under another source's name: %v", err)
	}
	if all, _ := s.All(u.Bucket, u.Prefix, key); len(all) != 1 {
		t.Fatalf("All: %d records, want the one in its place", len(all))
	}
}

func TestDir(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/ogive/uploads"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/ogive/uploads"},
		{map[string]string{"XDG_STATE_HOME": "rel", "HOME": "/h"}, "/h/.local/state/ogive/uploads"},
		{map[string]string{"HOME": "rel"}, ""},
		{map[string]string{}, ""},
	} {
		got, err := Dir(func(k string) string { return tc.env[k] })
		if tc.want == "" {
			if !errors.Is(err, ErrNoStateDir) {
				t.Errorf("%v: %q, %v; want ErrNoStateDir", tc.env, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

func TestMatchesDetectsChanges(t *testing.T) {
	base := Source{Path: "/x", Size: 5, MTime: time.Unix(1, 0), Inode: 1, Dev: 1}
	u := &Upload{Source: base}
	if !u.Matches(base) {
		t.Fatal("same source does not match")
	}
	for name, change := range map[string]func(*Source){
		"size":   func(s *Source) { s.Size++ },
		"mtime":  func(s *Source) { s.MTime = s.MTime.Add(time.Nanosecond) },
		"inode":  func(s *Source) { s.Inode++ },
		"dev":    func(s *Source) { s.Dev++ },
		"path":   func(s *Source) { s.Path = "/y" },
		"sample": func(s *Source) { s.Sample = "ab" },
	} {
		s := base
		change(&s)
		if u.Matches(s) {
			t.Errorf("a changed %s still matches", name)
		}
	}
}

func TestIdentify(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := Identify(p, f, 5)
	if err != nil {
		t.Fatal(err)
	}
	if a.Inode == 0 || a.MTime.IsZero() || a.Sample != "" || !filepath.IsAbs(a.Path) {
		t.Fatalf("identity %+v", a)
	}
	// A rewrite changes the modification time.
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(p, []byte("HELLO"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := Identify(p, f, 5)
	if (&Upload{Source: a}).Matches(b) {
		t.Fatal("rewritten file still matches")
	}
}

func TestSampleSeesContent(t *testing.T) {
	data := make([]byte, 1<<20)
	r1, _ := sample(bytesReaderAt(data), int64(len(data)))
	data[0] ^= 1
	r2, _ := sample(bytesReaderAt(data), int64(len(data)))
	if r1 == r2 {
		t.Fatal("sample ignores a change in the first block")
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, nil
	}
	return copy(p, b[off:]), nil
}
