package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// Entry is one archive as list shows it.
type Entry struct {
	ID     string
	Name   string
	Size   int64 // plaintext bytes, or -1 if the object's size is not a valid stream
	Date   time.Time
	Status object.RestoreStatus
	Class  string
	Legacy bool       // written by the 2019 ogive
	Meta   crypt.Meta // the file's mode and time, when its storage ID records them
}

// headConcurrency bounds the HEADs that 2019 archives need.
const headConcurrency = 16

// List calls fn for each archive of master in the store, in the store's
// order for v2 archives, then for 2019 ones. A v2 archive's name is
// decrypted from its storage ID alone, so one listing request covers 1,000
// of them. Objects of other tools or other master keys are skipped.
//
// With legacy set, keys that could be 2019 storage IDs are looked up with a
// HEAD each (their nonce is in the metadata), concurrently.
func List(ctx context.Context, s object.Store, master []byte, legacy bool, fn func(Entry) error) error {
	var candidates []object.Info
	err := s.List(ctx, func(info object.Info) error {
		name, meta, keys, err := crypt.OpenIDMeta(master, info.Key)
		if err != nil {
			if legacy && crypt.LooksLegacyID(info.Key) && !IsTreeIndex(master, info.Key) {
				candidates = append(candidates, info)
			}
			return nil
		}
		size, err := keys.PlainSize(info.Size)
		keys.Destroy()
		if err != nil {
			size = -1
		}
		return fn(Entry{ID: info.Key, Name: name, Size: size, Date: info.LastModified,
			Status: info.Status, Class: info.StorageClass, Meta: meta})
	})
	if err != nil || len(candidates) == 0 {
		return err
	}
	found := make([]*Entry, len(candidates))
	sem := make(chan struct{}, headConcurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i, c := range candidates {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			e, err := legacyEntry(ctx, s, master, c)
			if err == nil {
				found[i] = &e
				return
			}
			if errors.Is(err, crypt.ErrNotOgive) || errors.Is(err, object.ErrNotFound) {
				return // not ours, or deleted since the listing
			}
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	for _, e := range found {
		if e != nil {
			if err := fn(*e); err != nil {
				return err
			}
		}
	}
	return nil
}

// legacyEntry looks up c, a listed key that may be a 2019 storage ID, with
// one HEAD, and opens its name with the master key. ErrNotOgive means it is
// no archive of this key; ErrNotFound, that it went since the listing.
func legacyEntry(ctx context.Context, s object.Store, master []byte, c object.Info) (Entry, error) {
	head, err := s.Head(ctx, c.Key)
	if err != nil {
		return Entry{}, err
	}
	name, err := openLegacy(master, head)
	if err != nil {
		return Entry{}, err
	}
	size, err := crypt.LegacyPlainSize(head.Size)
	if err != nil {
		size = -1
	}
	return Entry{ID: c.Key, Name: name, Size: size, Date: c.LastModified,
		Status: head.Status, Class: head.StorageClass, Legacy: true}, nil
}

// openLegacy decrypts a 2019 archive's name from its key and its HEAD.
func openLegacy(master []byte, info object.Info) (string, error) {
	if info.ContentType != crypt.ContentType {
		return "", fmt.Errorf("content type %q: %w", info.ContentType, crypt.ErrNotOgive)
	}
	nonce, err := crypt.ParseLegacyNonce(info.Metadata["nonce"])
	if err != nil {
		return "", err
	}
	return crypt.OpenLegacyID(master, info.Key, nonce)
}

// Archive is one archive, identified and ready to be downloaded.
type Archive struct {
	ID     string
	Name   string
	Legacy bool
	Meta   crypt.Meta   // the file's mode and time, when its storage ID records them
	info   *object.Info // set when identifying it needed a HEAD
}

// Identify checks that id is an archive of master and decrypts its name.
// A v2 storage ID needs no request; a 2019 one (only tried when legacy is
// set) needs a HEAD for its nonce.
func Identify(ctx context.Context, s object.Store, master []byte, id string, legacy bool) (*Archive, error) {
	name, meta, keys, err := crypt.OpenIDMeta(master, id)
	if err == nil {
		keys.Destroy()
		return &Archive{ID: id, Name: name, Meta: meta}, nil
	}
	if !legacy || !crypt.LooksLegacyID(id) {
		return nil, fmt.Errorf("storage ID %s: %w", id, err)
	}
	info, err := s.Head(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("storage ID %s: %w", id, err)
	}
	name, err = openLegacy(master, info)
	if err != nil {
		return nil, fmt.Errorf("storage ID %s: %w", id, err)
	}
	return &Archive{ID: id, Name: name, Legacy: true, info: &info}, nil
}

// Keys derives the archive's decryption keys. The caller destroys them.
func (a *Archive) Keys(master []byte) (crypt.Decrypter, error) {
	if !a.Legacy {
		_, keys, err := crypt.OpenID(master, a.ID)
		return keys, err
	}
	nonce, err := crypt.ParseLegacyNonce(a.info.Metadata["nonce"])
	if err != nil {
		return nil, err
	}
	return crypt.DeriveLegacyKeys(master, nonce)
}

// TreeIndexSuffix follows a directory archive's storage ID in the key of its
// index object (FORMAT.md §7.2).
const TreeIndexSuffix = ".index"

// IsTreeIndex reports whether key is the index object of a directory archive
// of master: a key that no listing shows, and that is not worth a HEAD as a
// possible 2019 ID (which its alphabet may look like).
func IsTreeIndex(master []byte, key string) bool {
	stem, ok := strings.CutSuffix(key, TreeIndexSuffix)
	if !ok {
		return false
	}
	_, meta, keys, err := crypt.OpenIDMeta(master, stem)
	if err != nil {
		return false
	}
	keys.Destroy()
	return meta.Tree
}
