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

// MaxLegacyCandidates is how many keys that could be 2019 storage IDs one
// prefix may match. Telling whether such a key is an archive of this master
// key costs a HEAD, and only someone who can write to the bucket makes many
// of them share a beginning with an archive: real 2019 IDs are random, so in
// a bucket of a million of them a given 6 characters begin one by chance
// about once in 70,000. Beyond this many, MatchPrefix asks for more of the ID
// (ErrTooManyCandidates) rather than sending a HEAD per planted key.
const MaxLegacyCandidates = 100

// ErrTooManyCandidates is a prefix that more than MaxLegacyCandidates keys
// that could be 2019 storage IDs begin with.
var ErrTooManyCandidates = errors.New("too many keys that could be 2019 archives begin with it")

// PrefixMatch is what looking up one beginning of a storage ID found, and
// what it cost.
type PrefixMatch struct {
	// Entries are the archives of the master key whose storage ID begins
	// with the prefix, by date then name.
	Entries []Entry
	// Objects is how many objects, ogive's or not, have a key beginning
	// with the prefix: all that was listed.
	Objects int
	// Heads is how many HEAD requests 2019 candidates cost.
	Heads int
	// Unchecked is how many 2019 candidates could not be told apart
	// because their HEAD failed, and UncheckedErr the first such failure.
	// They are left out of Entries.
	Unchecked    int
	UncheckedErr error
}

// Requests is how many LIST requests the lookup cost: one per 1,000
// objects that begin with the prefix, and one when none does.
func (m *PrefixMatch) Requests() int { return max(1, (m.Objects+999)/1000) }

// MatchPrefix finds the archives of master whose storage ID begins with
// prefix, listing only the keys that begin with it (object.Store.ListPrefix),
// however many other objects the bucket holds. Objects of other tools or
// other master keys never match, whatever their key: only an ID that
// authenticates counts, and only matching keys are kept in memory. With
// legacy set, a key that could be a 2019 ID costs a HEAD, for at most
// MaxLegacyCandidates of them (ErrTooManyCandidates beyond); one whose HEAD
// fails is left out and counted in Unchecked, so that a key planted where a
// HEAD fails cannot stop the lookup.
func MatchPrefix(ctx context.Context, s object.Store, master []byte, legacy bool, prefix string) (*PrefixMatch, error) {
	m := &PrefixMatch{}
	var candidates []object.Info // that could be 2019 IDs, at most MaxLegacyCandidates
	legacyKeys := 0
	err := s.ListPrefix(ctx, prefix, func(info object.Info) error {
		if !strings.HasPrefix(info.Key, prefix) {
			return nil // a store that lists more than asked
		}
		m.Objects++
		name, keys, err := crypt.OpenID(master, info.Key)
		if err == nil {
			size, err := keys.PlainSize(info.Size)
			keys.Destroy()
			if err != nil {
				size = -1
			}
			m.Entries = append(m.Entries, Entry{ID: info.Key, Name: name, Size: size, Date: info.LastModified,
				Status: info.Status, Class: info.StorageClass})
			return nil
		}
		if legacy && crypt.LooksLegacyID(info.Key) && !IsTreeIndex(master, info.Key) {
			legacyKeys++
			if len(candidates) < MaxLegacyCandidates {
				candidates = append(candidates, info)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if legacyKeys > MaxLegacyCandidates {
		return nil, fmt.Errorf("%w: %d, more than the %d ogive checks (a HEAD request each)",
			ErrTooManyCandidates, legacyKeys, MaxLegacyCandidates)
	}
	for _, info := range candidates {
		m.Heads++
		e, err := legacyEntry(ctx, s, master, info)
		if err == nil {
			m.Entries = append(m.Entries, e)
			continue
		}
		switch {
		case errors.Is(err, crypt.ErrNotOgive) || errors.Is(err, object.ErrNotFound):
			// not ours, or deleted since the listing
		case ctx.Err() != nil:
			return nil, err
		default:
			m.Unchecked++
			if m.UncheckedErr == nil {
				m.UncheckedErr = err
			}
		}
	}
	SortEntries(m.Entries)
	return m, nil
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
