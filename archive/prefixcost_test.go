package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// prefixStore counts the listings and HEADs a store answers, and fails
// the HEADs of the keys in failHead.
type prefixStore struct {
	object.Store
	mu        sync.Mutex
	listed    int // objects handed out by List and ListPrefix
	fullLists int
	heads     int
	failHead  map[string]bool
}

func (c *prefixStore) List(ctx context.Context, fn func(object.Info) error) error {
	c.mu.Lock()
	c.fullLists++
	c.mu.Unlock()
	return c.ListPrefix(ctx, "", fn)
}

func (c *prefixStore) ListPrefix(ctx context.Context, prefix string, fn func(object.Info) error) error {
	return c.Store.ListPrefix(ctx, prefix, func(info object.Info) error {
		c.mu.Lock()
		c.listed++
		c.mu.Unlock()
		return fn(info)
	})
}

var errHeadRefused = errors.New("400 Bad Request")

func (c *prefixStore) Head(ctx context.Context, key string) (object.Info, error) {
	c.mu.Lock()
	c.heads++
	fail := c.failHead[key]
	c.mu.Unlock()
	if fail {
		return object.Info{}, fmt.Errorf("head %s: %w", key, errHeadRefused)
	}
	return c.Store.Head(ctx, key)
}

// A lookup reads only the keys that begin with the prefix, however many
// other objects the bucket holds.
func TestMatchPrefixListsOnlyThePrefix(t *testing.T) {
	ctx := context.Background()
	mem := object.NewMemory(time.Now, nil, time.Hour)
	master := make([]byte, crypt.MasterKeySize)
	var salt crypt.Salt
	salt[15] = 1
	id := sealWithSalt(t, mem, master, salt, "one.txt")
	for i := range 2500 {
		if err := mem.Put(ctx, fmt.Sprintf("zz-foreign-%04d", i), nil, object.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s := &prefixStore{Store: mem}
	m, err := MatchPrefix(ctx, s, master, true, id[:12])
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) != 1 || m.Entries[0].ID != id || m.Entries[0].Name != "one.txt" {
		t.Fatalf("MatchPrefix(%s) = %+v, want %s", id[:12], m.Entries, id)
	}
	if s.fullLists != 0 || s.listed != 1 || m.Objects != 1 || m.Requests() != 1 {
		t.Errorf("MatchPrefix listed the whole bucket: %d full listings, %d objects read, Objects %d, Requests %d; want 0, 1, 1, 1",
			s.fullLists, s.listed, m.Objects, m.Requests())
	}
}

// plantLegacyLooking stores n keys that begin with prefix and could be
// 2019 storage IDs, as anyone who can write to the bucket may.
func plantLegacyLooking(t *testing.T, s object.Store, prefix string, n int) []string {
	t.Helper()
	var keys []string
	for i := range n {
		key := prefix + strings.Repeat("x", 52-len(prefix)) + string(rune('A'+i%26)) + string(rune('a'+i/26%26)) + "AA"
		if !crypt.LooksLegacyID(key) {
			t.Fatalf("planted key %s does not look like a 2019 ID", key)
		}
		if err := s.Put(context.Background(), key, []byte("junk"), object.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return keys
}

// v3IDWithoutUnderscore seals names until the first 12 characters of the
// ID hold no '_', so that keys beginning with them can look like 2019 IDs.
func v3IDWithoutUnderscore(t *testing.T, s object.Store, master []byte) string {
	t.Helper()
	var salt crypt.Salt
	for i := range 200 {
		salt[14], salt[15] = 7, byte(i)
		k, err := crypt.DeriveKeys(master, salt)
		if err != nil {
			t.Fatal(err)
		}
		id, err := crypt.SealName(k, "victim.txt", crypt.MaxIDLen)
		k.Destroy()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(id[:12], "_") {
			if err := s.Put(context.Background(), id, []byte("x"), object.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			return id
		}
	}
	t.Fatal("no ID without '_'")
	return ""
}

// Keys planted in the bucket to look like 2019 IDs beginning with an
// archive's prefix cost at most MaxLegacyCandidates HEADs, and one whose
// HEAD fails does not stop the lookup.
func TestMatchPrefixPlantedLegacyKeys(t *testing.T) {
	ctx := context.Background()
	mem := object.NewMemory(time.Now, nil, time.Hour)
	master := make([]byte, crypt.MasterKeySize)
	id := v3IDWithoutUnderscore(t, mem, master)
	prefix := id[:12]

	planted := plantLegacyLooking(t, mem, prefix, 3)
	s := &prefixStore{Store: mem, failHead: map[string]bool{planted[1]: true}}
	m, err := MatchPrefix(ctx, s, master, true, prefix)
	if err != nil {
		t.Fatalf("a planted key whose HEAD fails stopped the lookup: %v", err)
	}
	if len(m.Entries) != 1 || m.Entries[0].ID != id {
		t.Fatalf("MatchPrefix = %+v, want %s alone", m.Entries, id)
	}
	if m.Heads != 3 || m.Unchecked != 1 || !errors.Is(m.UncheckedErr, errHeadRefused) {
		t.Errorf("Heads %d, Unchecked %d (%v), want 3, 1, the HEAD's error", m.Heads, m.Unchecked, m.UncheckedErr)
	}

	plantLegacyLooking(t, mem, prefix+"y", MaxLegacyCandidates)
	s = &prefixStore{Store: mem}
	_, err = MatchPrefix(ctx, s, master, true, prefix)
	if !errors.Is(err, ErrTooManyCandidates) {
		t.Fatalf("%d planted keys: MatchPrefix returned %v, want ErrTooManyCandidates", MaxLegacyCandidates+3, err)
	}
	if s.heads != 0 {
		t.Errorf("%d planted keys cost %d HEADs before the lookup gave up, want none", MaxLegacyCandidates+3, s.heads)
	}
	// Without 2019 archives in the profile, planted keys cost nothing.
	m, err = MatchPrefix(ctx, s, master, false, prefix)
	if err != nil || len(m.Entries) != 1 || s.heads != 0 {
		t.Errorf("without legacy: %v, %+v, %d HEADs", err, m, s.heads)
	}
}
