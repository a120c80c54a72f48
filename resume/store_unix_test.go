//go:build unix

package resume

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestUnreadableRecordIsUntrusted(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ogive", "uploads"))
	key := recordKey(t, vectorMaster())
	u := example()
	if err := os.WriteFile(recordFile(s, u), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("garbage record: %v", err)
	}
	big := make([]byte, maxRecordSize+1)
	if err := os.WriteFile(recordFile(s, u), big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("oversized record: %v", err)
	}
	// A FIFO would block a plain open.
	os.Remove(recordFile(s, u))
	if err := unix.Mkfifo(recordFile(s, u), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("FIFO record: %v", err)
	}
}

// TestRecordOfAnotherOwnerIsUntrusted: a valid record that belongs to another user
// (possible only if that user could write the directory once) is not read.
func TestRecordOfAnotherOwnerIsUntrusted(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ogive", "uploads"))
	key := recordKey(t, vectorMaster())
	u := example()
	if err := s.Save(u, key); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(recordFile(s, u), 65534, 65534); err != nil {
		t.Skipf("cannot give the record away (not root?): %v", err)
	}
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("record of uid 65534: %v", err)
	}
}

// TestRecordSymlinkIsNotFollowed: a record that is a symbolic link is neither read nor
// written through: the file it points to stays as it was.
func TestRecordSymlinkIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "ogive", "uploads"))
	key := recordKey(t, vectorMaster())
	u := example()
	// The link points at a valid record, as it could to one the attacker copied.
	other := openStore(t, filepath.Join(dir, "elsewhere", "uploads"))
	if err := other.Save(u, key); err != nil {
		t.Fatal(err)
	}
	target := recordFile(other, u)
	before, _ := os.ReadFile(target)
	if err := os.Symlink(target, recordFile(s, u)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(u.Bucket, u.Prefix, u.Source.Path, key); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("symlinked record: %v", err)
	}
	if all, _ := s.All(u.Bucket, u.Prefix, key); len(all) != 0 {
		t.Fatal("All follows a symlinked record")
	}
	changed := *u
	changed.UploadID = "up9"
	if err := s.Save(&changed, key); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(target); string(after) != string(before) {
		t.Fatal("Save wrote through the symlink")
	}
	if st, _ := os.Lstat(recordFile(s, u)); st.Mode()&os.ModeSymlink != 0 {
		t.Fatal("the symlink is still there after Save")
	}
	if err := s.Remove(u.Bucket, u.Prefix, u.Source.Path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(target); err != nil {
		t.Fatalf("Remove removed the link's target: %v", err)
	}
}

// TestOpenRefusesUnsafeDirs: a state directory or its parent that another user owns or
// that group or others may write is refused, and nothing is created inside.
func TestOpenRefusesUnsafeDirs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		which string // "uploads" or "ogive"
		mode  os.FileMode
		owner int
	}{
		{"uploads 0777", "uploads", 0o777, -1},
		{"uploads 0720", "uploads", 0o720, -1},
		{"ogive 0777", "ogive", 0o777, -1},
		{"ogive 0702", "ogive", 0o702, -1},
		{"uploads of another user", "uploads", 0o700, 65534},
		{"ogive of another user", "ogive", 0o700, 65534},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "ogive", "uploads")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			bad := filepath.Join(root, tc.which)
			if tc.which == "uploads" {
				bad = dir
			}
			if err := os.Chmod(bad, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.owner >= 0 {
				if err := os.Lchown(bad, tc.owner, tc.owner); err != nil {
					t.Skipf("cannot chown (not root?): %v", err)
				}
			}
			s, err := Open(dir)
			var unsafe *UnsafeDirError
			if !errors.As(err, &unsafe) || unsafe.Dir != bad {
				s.Close()
				t.Fatalf("Open: %v, want an UnsafeDirError for %s", err, bad)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("created in a refused directory: %v", names)
			}
		})
	}
	// 0750 and 0755 let nobody else write: accepted.
	root := t.TempDir()
	dir := filepath.Join(root, "ogive", "uploads")
	os.MkdirAll(dir, 0o755)
	os.Chmod(filepath.Join(root, "ogive"), 0o750)
	openStore(t, dir)
}
