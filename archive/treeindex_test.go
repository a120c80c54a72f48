package archive

import (
	"context"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// headCounter counts HEAD requests.
type headCounter struct {
	object.Store
	heads int
}

func (h *headCounter) Head(ctx context.Context, key string) (object.Info, error) {
	h.heads++
	return h.Store.Head(ctx, key)
}

// TestTreeIndexNotLegacyCandidate: the index object of a directory archive,
// whose key may look like a 2019 ID, is neither listed, nor worth a HEAD in
// a profile with 2019 archives, nor counted as a foreign object.
func TestTreeIndexNotLegacyCandidate(t *testing.T) {
	master := newMaster(t)
	var id string
	for i := 0; ; i++ {
		salt, _ := crypt.NewSalt()
		k, err := crypt.DeriveKeys(master, salt)
		if err != nil {
			t.Fatal(err)
		}
		id, err = crypt.SealNameMeta(k, "photos.tar", crypt.Meta{HasMode: true, Mode: 0o755, Tree: true}, crypt.MaxIDLen)
		k.Destroy()
		if err != nil {
			t.Fatal(err)
		}
		if crypt.LooksLegacyID(id + TreeIndexSuffix) {
			break
		}
		if i > 10000 {
			t.Fatal("no ID whose index key looks like a 2019 ID")
		}
	}
	mem := object.NewMemory(time.Now, nil, time.Hour)
	ctx := context.Background()
	for _, key := range []string{id, id + TreeIndexSuffix} {
		if err := mem.Put(ctx, key, []byte("x"), object.PutOptions{StorageClass: "STANDARD"}); err != nil {
			t.Fatal(err)
		}
	}
	s := &headCounter{Store: mem}
	var listed []string
	f, err := ListCounting(ctx, s, master, true, func(e Entry) error { listed = append(listed, e.ID); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0] != id || s.heads != 0 || f.Unreadable() != 0 {
		t.Errorf("listed %v with %d HEADs, %d unreadable; want the archive alone, no HEAD, none", listed, s.heads, f.Unreadable())
	}
	m, err := MatchPrefix(ctx, s, master, true, id[:8])
	if err != nil || len(m.Entries) != 1 || s.heads != 0 {
		t.Errorf("MatchPrefix: %+v, %v, %d HEADs", m, err, s.heads)
	}
}

// TestChunkPlain: the ranges DownloadPlainRanges fetches tile the plaintext,
// the terminator left out, whatever the size.
func TestChunkPlain(t *testing.T) {
	for _, plain := range []int64{0, 1, 65535, 65536, 65537, 2<<20 - 1, 2 << 20, 2<<20 + 1, 5*2<<20 + 12345} {
		var next int64
		ChunkPlain(crypt.EncryptedSize(plain), 0, func(from, to int64) {
			if from != next || to < from {
				t.Errorf("size %d: range [%d, %d) after %d", plain, from, to, next)
			}
			next = to
		})
		if next != plain {
			t.Errorf("size %d: ranges end at %d", plain, next)
		}
	}
}
