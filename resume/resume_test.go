package resume

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSaveLoadRemove(t *testing.T) {
	dir := t.TempDir()
	s := Open(filepath.Join(dir, "state"))
	src := Source{Path: "/data/a.tar", Size: 10, MTime: time.Unix(1700000000, 0).UTC(), Inode: 7, Dev: 3}
	if _, err := s.Load("b", "p/", src.Path); !errors.Is(err, ErrNoState) {
		t.Fatalf("empty store: %v", err)
	}
	u := &Upload{Bucket: "b", Prefix: "p/", ID: "Aid", UploadID: "up1", PartSize: 5 << 20, Source: src}
	if err := s.Save(u); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("b", "p/", src.Path)
	if err != nil {
		t.Fatal(err)
	}
	if got.UploadID != "up1" || !got.Matches(src) {
		t.Fatalf("loaded %+v", got)
	}
	// Another bucket or prefix is another upload.
	if _, err := s.Load("b", "", src.Path); !errors.Is(err, ErrNoState) {
		t.Fatalf("other prefix: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "state", "*"))
	for _, f := range files {
		st, _ := os.Stat(f)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	st, _ := os.Stat(filepath.Join(dir, "state"))
	if st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", st.Mode().Perm())
	}
	all, err := s.All("b", "p/")
	if err != nil || len(all) != 1 {
		t.Fatalf("All: %v %v", all, err)
	}
	if err := s.Forget("b", "p/", "up1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("b", "p/", src.Path); !errors.Is(err, ErrNoState) {
		t.Fatalf("after Forget: %v", err)
	}
	if err := s.Remove("b", "p/", src.Path); err != nil {
		t.Fatalf("removing nothing: %v", err)
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

func TestUnreadableStateIsNoState(t *testing.T) {
	dir := t.TempDir()
	s := Open(dir)
	if err := os.WriteFile(s.name("b", "", "/x"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("b", "", "/x"); !errors.Is(err, ErrNoState) {
		t.Fatalf("garbage state: %v", err)
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
