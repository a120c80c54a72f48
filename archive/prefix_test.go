package archive

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

func TestCheckPrefix(t *testing.T) {
	for _, ok := range []string{"AgXyZ1", "AgXyZ1-_abc", "abc.def-ghij"} {
		if err := CheckPrefix(ok); err != nil {
			t.Errorf("CheckPrefix(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Ag12", "AgXyZ1!", "AgXy/Z1", "Ag XyZ1", "AgXyZ1\n", strings.Repeat("A", crypt.MaxIDLen+1)} {
		if err := CheckPrefix(bad); !errors.Is(err, ErrBadPrefix) {
			t.Errorf("CheckPrefix(%q) = %v, want ErrBadPrefix", bad, err)
		}
	}
}

func TestShortIDs(t *testing.T) {
	ids := []string{
		"AgAAAAAAAAAAAAAAAAAAAAAA",
		"AgAAAAAAAAAAAAAAZAAAAAAA", // shares 16 characters with the first
		"AhBBBBBBBBBBBBBBBBBBBBBB",
		"AhBBB", // the beginning of the one above: stays whole
	}
	got := ShortIDs(ids, 12)
	want := map[string]string{
		ids[0]: "AgAAAAAAAAAAAAAAA",
		ids[1]: "AgAAAAAAAAAAAAAAZ",
		ids[2]: "AhBBBBBBBBBB",
		ids[3]: "AhBBB",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("ShortIDs[%s] = %q, want %q", id, got[id], w)
		}
	}
}

// sealWithSalt stores an archive key of master whose salt is chosen, so
// that IDs share a beginning.
func sealWithSalt(t *testing.T, s object.Store, master []byte, salt crypt.Salt, name string) string {
	t.Helper()
	k, err := crypt.DeriveKeys(master, salt)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Destroy()
	id, err := crypt.SealName(k, name, crypt.MaxIDLen)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), id, []byte("x"), object.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMatchPrefix(t *testing.T) {
	ctx := context.Background()
	s := object.NewMemory(time.Now, nil, time.Hour)
	master := make([]byte, crypt.MasterKeySize)
	other := make([]byte, crypt.MasterKeySize)
	other[0] = 1
	var salt crypt.Salt
	salt[15] = 1
	a := sealWithSalt(t, s, master, salt, "a.txt")
	salt[15] = 2
	b := sealWithSalt(t, s, master, salt, "b.txt")
	salt[15] = 3
	foreign := sealWithSalt(t, s, other, salt, "theirs.txt") // same beginning, another key
	salt[0] = 0xff
	c := sealWithSalt(t, s, master, salt, "c.txt")
	if err := s.Put(ctx, a[:12]+"-not-ogive", []byte("x"), object.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	common := a[:commonPrefixLen(a, b)]
	if len(common) < ShortIDLen || !strings.HasPrefix(foreign, common) {
		t.Fatalf("salts do not give a shared beginning: %s %s %s", a, b, foreign)
	}
	match := func(p string) []string {
		m, err := MatchPrefix(ctx, s, master, false, p)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range m.Entries {
			ids = append(ids, e.ID)
		}
		return ids
	}
	if got := match(common); len(got) != 2 || got[0] != a && got[0] != b {
		t.Errorf("Match(%s) = %v, want a and b only", common, got)
	}
	if got := match(a[:len(common)+1]); len(got) != 1 || got[0] != a {
		t.Errorf("Match(a's unique prefix) = %v, want %s", got, a)
	}
	if got := match(c[:8]); len(got) != 1 || got[0] != c {
		t.Errorf("Match(c's prefix) = %v, want %s", got, c)
	}
	if got := match(foreign[:len(common)+1]); len(got) != 0 {
		t.Errorf("another key's archive matched: %v", got)
	}
	if got := match("AzzzzzzzZ"); len(got) != 0 {
		t.Errorf("Match(nothing) = %v", got)
	}
}
