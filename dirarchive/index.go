// Package dirarchive is what a directory archive is (docs/FORMAT.md §7): a
// tree sent as one archive whose data is its tar stream (package tree), with
// an index object beside it that lists every entry and stays readable
// without a restore (package dirindex). It puts a directory, reads an
// index, extracts an archive into a directory (package extract) and
// verifies a directory against an archive. Single-file archives are
// package archive's; this package builds on it.
package dirarchive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirindex"
	"github.com/ogive-project/ogive/object"
)

// IndexSuffix follows an archive's storage ID in the key of its index.
const IndexSuffix = archive.TreeIndexSuffix

// MaxIndexSize bounds the index object read: 10 million entries of 100
// bytes. A larger object under an index key is refused unread.
const MaxIndexSize = 1 << 30

var (
	// ErrNotTree means the archive is not a directory archive: its storage
	// ID does not carry the tree flag.
	ErrNotTree = errors.New("not a directory archive")
	// ErrNoIndex means the index object of a directory archive is missing.
	ErrNoIndex = errors.New("its index is missing from the bucket")
	// ErrIndexMismatch means the index object is not the archive's: it
	// authenticates under the archive's keys but names another archive or
	// another stream size, or it is not the one this put would write.
	ErrIndexMismatch = errors.New("index does not belong to this archive")
)

// IndexKey is the storage key (before the profile's prefix) of the index
// of the archive id.
func IndexKey(id string) string { return id + IndexSuffix }

// sealIndex encrypts the index plaintext under the index keys of id's salt
// (FORMAT.md §7.2).
func sealIndex(master archive.MasterKey, id string, plain []byte) ([]byte, error) {
	keys, err := indexKeys(master, id)
	if err != nil {
		return nil, err
	}
	defer keys.Destroy()
	enc, err := keys.EncryptReader(bytes.NewReader(plain), 0)
	if err != nil {
		return nil, err
	}
	out := bytes.NewBuffer(make([]byte, 0, crypt.EncryptedSize(int64(len(plain)))))
	if _, err := io.Copy(out, enc); err != nil {
		return nil, fmt.Errorf("encrypt index: %w", err)
	}
	return out.Bytes(), nil
}

func indexKeys(master archive.MasterKey, id string) (*crypt.Keys, error) {
	salt, err := crypt.ParseID(id)
	if err != nil {
		return nil, err
	}
	var keys *crypt.Keys
	err = master(func(m []byte) error {
		keys, err = crypt.DeriveIndexKeys(m, salt)
		return err
	})
	return keys, err
}

// fetchIndex reads the index object of id, decrypting it package by
// package as it arrives, and checks that it is the index of id (FORMAT.md
// §7.2, Binding). A forged body fails at its first package: nobody without
// the master key makes one that authenticates, so whatever its size, no more
// than a package of it is held or read before it is refused.
func fetchIndex(ctx context.Context, s object.Store, master archive.MasterKey, id string) (*dirindex.Index, []byte, error) {
	keys, err := indexKeys(master, id)
	if err != nil {
		return nil, nil, err
	}
	defer keys.Destroy()
	rc, err := s.Get(ctx, IndexKey(id), 0, MaxIndexSize+1)
	if errors.Is(err, object.ErrNotFound) {
		return nil, nil, fmt.Errorf("%s: %w", id, ErrNoIndex)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read the index of %s: %w", id, err)
	}
	defer rc.Close()
	var plain bytes.Buffer
	body := &io.LimitedReader{R: rc, N: MaxIndexSize + 1}
	if _, err := keys.Decrypt(&plain, body); err != nil {
		if body.N <= 0 {
			return nil, nil, fmt.Errorf("index of %s: larger than %d bytes: %w", id, MaxIndexSize, dirindex.ErrDamaged)
		}
		return nil, nil, fmt.Errorf("index of %s: %w", id, err)
	}
	ix, err := dirindex.Parse(plain.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("index of %s: %w", id, err)
	}
	if ix.ID != id {
		return nil, nil, fmt.Errorf("index of %s names archive %s: %w", id, ix.ID, ErrIndexMismatch)
	}
	return ix, plain.Bytes(), nil
}

// ReadIndex fetches, authenticates and parses the index of the directory
// archive id, with one GET. The index is bound to the archive: an index
// object of another archive, or one altered in any way, fails (with
// crypt.ErrAuthentication, dirindex.ErrDamaged or ErrIndexMismatch).
func ReadIndex(ctx context.Context, s object.Store, master archive.MasterKey, id string) (*dirindex.Index, error) {
	var tree bool
	err := master(func(m []byte) error {
		_, meta, keys, err := crypt.OpenIDMeta(m, id)
		if err != nil {
			return err
		}
		keys.Destroy()
		tree = meta.Tree
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !tree {
		return nil, fmt.Errorf("%s: %w", id, ErrNotTree)
	}
	ix, _, err := fetchIndex(ctx, s, master, id)
	return ix, err
}

// writeIndex stores the index of id, once: S3 keeps the first index written
// under a key (If-None-Match). An index already there (an interrupted run
// of the same put wrote it) is kept if it is this very index; any other
// one fails with ErrIndexMismatch, which also wraps archive.ErrSourceChanged
// so that the upload starts again under a new salt.
func writeIndex(ctx context.Context, s object.Store, master archive.MasterKey, ix *dirindex.Index) error {
	id := ix.ID
	plain, err := ix.Marshal()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	body, err := sealIndex(master, id, plain)
	if err != nil {
		return err
	}
	// Only its sum is kept for the comparison below: an index of 100,000
	// entries is 13 MB, held twice (plaintext and ciphertext) otherwise.
	sum := sha256.Sum256(plain)
	plain = nil
	err = s.Put(ctx, IndexKey(id), body, object.PutOptions{StorageClass: "STANDARD"})
	if !errors.Is(err, object.ErrExists) {
		if err != nil {
			return fmt.Errorf("store the index: %w", err)
		}
		return nil
	}
	body = nil
	_, oldPlain, err := fetchIndex(ctx, s, master, id)
	if err == nil && sha256.Sum256(oldPlain) == sum {
		return nil
	}
	if err != nil && !errors.Is(err, crypt.ErrAuthentication) && !errors.Is(err, dirindex.ErrDamaged) && !errors.Is(err, ErrIndexMismatch) {
		return err // it could not be read: the next run looks again
	}
	return fmt.Errorf("another index exists under this archive's storage ID: %w", errors.Join(ErrIndexMismatch, archive.ErrSourceChanged))
}
