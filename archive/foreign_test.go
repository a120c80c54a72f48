package archive

import (
	"crypto/rand"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// sealedID is a v2 storage ID of name under master, as put makes them.
func sealedID(t *testing.T, master []byte, name string) string {
	t.Helper()
	salt, err := crypt.NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	k, err := crypt.DeriveKeys(master, salt)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Destroy()
	id, err := crypt.SealName(k, name, crypt.MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newMaster(t *testing.T) []byte {
	t.Helper()
	m := make([]byte, 32)
	if _, err := rand.Read(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A bucket with one archive of ours, two of another key, one under another
// prefix and two objects of other tools.
func foreignBucket(t *testing.T, ours, theirs []byte) object.Store {
	t.Helper()
	s := object.NewMemory(nil, nil, 0)
	for _, key := range []string{
		sealedID(t, ours, "mine.txt"),
		sealedID(t, theirs, "a.txt"),
		sealedID(t, theirs, "b.txt"),
		"old/" + sealedID(t, theirs, "c.txt"),
		"notes.txt",
		"photos/2019/img.jpg",
	} {
		if err := s.Put(t.Context(), key, []byte("x"), object.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestCountForeign(t *testing.T) {
	ours, theirs := newMaster(t), newMaster(t)
	s := foreignBucket(t, ours, theirs)
	f, err := CountForeign(t.Context(), s, ours, 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.Ours != 1 || f.Ogive != 2 || f.Nested["old/"] != 1 || len(f.Nested) != 1 || f.Other != 2 || f.Capped {
		t.Errorf("got %+v, want 1 ours, 2 ogive, old/ 1, 2 other", f)
	}
	if f.Unreadable() != 5 {
		t.Errorf("Unreadable() = %d, want 5", f.Unreadable())
	}
	// The limit bounds the objects looked at, and says so.
	f, err = CountForeign(t.Context(), s, ours, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Capped || f.Ours+f.Unreadable() != 3 {
		t.Errorf("with a limit of 3: %+v", f)
	}
}

func TestListCounting(t *testing.T) {
	ours, theirs := newMaster(t), newMaster(t)
	s := foreignBucket(t, ours, theirs)
	var names []string
	f, err := ListCounting(t.Context(), s, ours, false, func(e Entry) error {
		names = append(names, e.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "mine.txt" {
		t.Errorf("listed %q, want mine.txt", names)
	}
	if f.Ours != 1 || f.Ogive != 2 || f.Nested["old/"] != 1 || f.Other != 2 {
		t.Errorf("got %+v, want 1 ours, 2 ogive, old/ 1, 2 other", f)
	}
	// A key that reads none of them.
	f, err = ListCounting(t.Context(), s, newMaster(t), false, func(Entry) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if f.Ours != 0 || f.Ogive != 3 || f.Unreadable() != 6 {
		t.Errorf("a stranger's key: %+v, want 0 ours, 3 ogive, 6 unreadable", f)
	}
}
