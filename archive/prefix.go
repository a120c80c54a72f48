package archive

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// MinPrefixLen is the shortest beginning of a storage ID that is looked up
// in a listing. Every ID begins with "A" and one of 16 characters (the
// version byte, 0x02 or 0x03, and 4 bits of the salt), so a prefix of 6 characters carries 28 random bits of the salt:
// in a bucket of a million archives, a given one shares its first 6
// characters with another by chance about once in 270. Shorter prefixes
// would mostly be ambiguous and are more likely typos than choices.
const MinPrefixLen = 6

// ShortIDLen is the shortest an ID is shown when it is abbreviated: 12
// characters, 64 bits, unique among any number of archives a bucket holds
// in practice, and still short enough to type.
const ShortIDLen = 12

// ErrBadPrefix marks text that cannot be the beginning of a storage ID.
var ErrBadPrefix = errors.New("not a storage ID")

// CheckPrefix checks, without any request, that p could be a storage ID or
// the beginning of one, as current (base64url) or 2019 IDs are spelled.
func CheckPrefix(p string) error {
	if len(p) > crypt.MaxIDLen {
		return fmt.Errorf("%w: longer than %d characters", ErrBadPrefix, crypt.MaxIDLen)
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return fmt.Errorf("%w: %q at position %d is not a letter, digit, '-', '_' or '.'", ErrBadPrefix, rune(p[i]), i+1)
		}
	}
	if len(p) < MinPrefixLen {
		return fmt.Errorf("%w: %d characters; give at least %d of the ID", ErrBadPrefix, len(p), MinPrefixLen)
	}
	return nil
}

// Listing is the keys of a bucket, listed once so that any number of ID
// prefixes are resolved with no further listing request.
type Listing struct {
	infos []object.Info // sorted by key
}

// ListKeys lists the store once: one request per 1,000 objects.
func ListKeys(ctx context.Context, s object.Store) (*Listing, error) {
	l := &Listing{}
	err := s.List(ctx, func(info object.Info) error {
		l.infos = append(l.infos, info)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(l.infos, func(i, j int) bool { return l.infos[i].Key < l.infos[j].Key })
	return l, nil
}

// Objects is how many objects the listing saw, ogive's or not.
func (l *Listing) Objects() int { return len(l.infos) }

// Requests is how many listing requests S3 answered: one per 1,000 objects,
// and one for an empty bucket.
func (l *Listing) Requests() int { return max(1, (len(l.infos)+999)/1000) }

// Match returns the archives of master whose storage ID begins with prefix,
// by date then name. Objects of other tools or other master keys never
// match, whatever their key: only an ID that authenticates counts. With
// legacy set, a matching key that could be a 2019 ID costs a HEAD.
func (l *Listing) Match(ctx context.Context, s object.Store, master []byte, legacy bool, prefix string) ([]Entry, error) {
	first := sort.Search(len(l.infos), func(i int) bool { return l.infos[i].Key >= prefix })
	var found []Entry
	for _, info := range l.infos[first:] {
		if !strings.HasPrefix(info.Key, prefix) {
			break
		}
		name, keys, err := crypt.OpenID(master, info.Key)
		if err == nil {
			size, err := keys.PlainSize(info.Size)
			keys.Destroy()
			if err != nil {
				size = -1
			}
			found = append(found, Entry{ID: info.Key, Name: name, Size: size, Date: info.LastModified,
				Status: info.Status, Class: info.StorageClass})
			continue
		}
		if !legacy || !crypt.LooksLegacyID(info.Key) {
			continue
		}
		head, err := s.Head(ctx, info.Key)
		if err == nil {
			name, err = openLegacy(master, head)
			if err == nil {
				size, err := crypt.LegacyPlainSize(head.Size)
				if err != nil {
					size = -1
				}
				found = append(found, Entry{ID: info.Key, Name: name, Size: size, Date: info.LastModified,
					Status: head.Status, Class: head.StorageClass, Legacy: true})
				continue
			}
		}
		if errors.Is(err, crypt.ErrNotOgive) || errors.Is(err, object.ErrNotFound) {
			continue // not ours, or deleted since the listing
		}
		return nil, err
	}
	SortEntries(found)
	return found, nil
}

// SortEntries orders archives by date, then name, then ID, as list shows them.
func SortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if !a.Date.Equal(b.Date) {
			return a.Date.Before(b.Date)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
}

// ShortIDs returns, for each of ids, its shortest beginning of at least
// minLen characters that no other of ids shares, as git abbreviates commit
// names. An ID that is the beginning of another stays whole: typed in full,
// it is found without a listing.
func ShortIDs(ids []string, minLen int) map[string]string {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	short := make(map[string]string, len(sorted))
	for i, id := range sorted {
		n := minLen
		if i > 0 {
			n = max(n, commonPrefixLen(id, sorted[i-1])+1)
		}
		if i+1 < len(sorted) {
			n = max(n, commonPrefixLen(id, sorted[i+1])+1)
		}
		short[id] = id[:min(n, len(id))]
	}
	return short
}

func commonPrefixLen(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
