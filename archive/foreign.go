package archive

import (
	"context"
	"errors"
	"strings"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// Foreign counts the objects of a listing that are not archives of the
// master key: what a profile cannot read where it looks. It tells a user
// who made a new key (init instead of init --recover), or forgot the
// prefix, that the backups are there and not lost.
type Foreign struct {
	Ours int // archives of the master key
	// Ogive counts keys that parse as v2 storage IDs but do not open with
	// the master key: another profile's archives, very likely.
	Ogive int
	// Nested counts, by the key prefix in front of them, keys whose last
	// path element parses as a v2 storage ID: archives stored with another
	// --prefix, under this one. Nested keys are not in Ogive.
	Nested map[string]int
	// Other counts every other object: another tool's, or a 2019
	// archive's (which only a HEAD could tell).
	Other int
	// Capped means counting stopped at the limit: the numbers are lower
	// bounds.
	Capped bool
}

// Unreadable is how many listed objects the master key cannot read.
func (f Foreign) Unreadable() int {
	n := f.Ogive + f.Other
	for _, c := range f.Nested {
		n += c
	}
	return n
}

// classify counts key, which is not an archive of the master key.
func (f *Foreign) classify(key string) { f.add(key, 1) }

// add adds n to key's count: n is -1 to take back a key that turned out
// to be an archive of the master key.
func (f *Foreign) add(key string, n int) {
	if stem, ok := strings.CutSuffix(key, TreeIndexSuffix); ok {
		if _, err := crypt.ParseID(stem[strings.LastIndexByte(stem, '/')+1:]); err == nil {
			return // a directory archive's index goes with its archive, counted once
		}
	}
	if _, err := crypt.ParseID(key); err == nil {
		f.Ogive += n
		return
	}
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		if _, err := crypt.ParseID(key[i+1:]); err == nil {
			if f.Nested == nil {
				f.Nested = make(map[string]int)
			}
			f.Nested[key[:i+1]] += n
			return
		}
	}
	f.Other += n
}

var errCountDone = errors.New("count done")

// CountForeign lists the store once, stopping after limit objects (no
// limit if limit <= 0), and counts those master cannot open. Each key
// costs one HKDF and one AES-GCM open at most; 2019 archives are not
// looked up and count as Other.
func CountForeign(ctx context.Context, s object.Store, master []byte, limit int) (Foreign, error) {
	var f Foreign
	seen := 0
	err := s.List(ctx, func(info object.Info) error {
		if limit > 0 && seen >= limit {
			f.Capped = true
			return errCountDone
		}
		seen++
		if _, keys, err := crypt.OpenID(master, info.Key); err == nil {
			keys.Destroy()
			f.Ours++
			return nil
		}
		f.classify(info.Key)
		return nil
	})
	if err != nil && !errors.Is(err, errCountDone) {
		return f, err
	}
	return f, nil
}

// ListCounting is List, and also counts what the listing held that is not
// an archive of master, for list to say so when it finds none of its own.
// It keeps counts only, not keys: every listed key is counted, and each
// archive List reports is taken back.
func ListCounting(ctx context.Context, s object.Store, master []byte, legacy bool, fn func(Entry) error) (Foreign, error) {
	f := &Foreign{}
	err := List(ctx, countingStore{Store: s, f: f}, master, legacy, func(e Entry) error {
		f.add(e.ID, -1)
		f.Ours++
		return fn(e)
	})
	return *f, err
}

// countingStore counts every key its listing passes on.
type countingStore struct {
	object.Store
	f *Foreign
}

func (c countingStore) List(ctx context.Context, fn func(object.Info) error) error {
	return c.Store.List(ctx, func(info object.Info) error {
		c.f.classify(info.Key)
		return fn(info)
	})
}
