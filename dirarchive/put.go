package dirarchive

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirindex"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/resume"
	"github.com/ogive-project/ogive/tree"
)

// Name is the archive name of a directory: its base name and ".tar".
func Name(dir string) (string, error) {
	top, err := tree.TopName(dir)
	if err != nil {
		return "", err
	}
	return top + ".tar", nil
}

// Walk reads the directory dir as it will be archived (tree.Walk).
func Walk(dir string) (*tree.Tree, error) { return tree.Walk(dir) }

// MaxIDLen is the longest storage ID of a directory archive when maxIDLen
// is the longest the store takes: its index's key is IndexSuffix longer.
func MaxIDLen(maxIDLen int) int {
	if maxIDLen <= 0 {
		maxIDLen = crypt.MaxIDLen
	}
	return maxIDLen - len(IndexSuffix)
}

// Put archives the walked tree t under name: the tar stream as one
// archive, resumable as a file is (archive.PutResumable), and its index
// beside it. The files' SHA-256 sums are computed while the parts are sent;
// the index is stored once they are all sent and before the archive is
// completed, so an archive never exists without its index.
//
// The record of an interrupted upload names the directory and a digest of
// its walk (tree.Digest): the same command continues the upload if nothing
// in the tree changed, and starts afresh under a new salt otherwise. A
// file that changes while it is read fails the put with its name
// (tree.ErrChanged, which then also wraps archive.ErrSourceChanged), and
// the upload is aborted.
func Put(ctx context.Context, s object.Store, master archive.MasterKey, t *tree.Tree, name string, o archive.ResumableOptions) (archive.PutResult, error) {
	abs, err := filepath.Abs(t.Root)
	if err != nil {
		return archive.PutResult{}, err
	}
	st, err := os.Lstat(abs)
	if err != nil {
		return archive.PutResult{}, err
	}
	if len(t.Entries) == 0 {
		return archive.PutResult{}, fmt.Errorf("%s: no entry", t.Root)
	}
	top := t.Entries[0].Path
	identity := identify(abs, st, t)
	src := archive.SeekableSource{
		R:        changedReader{t},
		Name:     name,
		Size:     t.Size(),
		Identity: identity,
		Meta:     crypt.Meta{HasMode: true, Mode: t.Entries[0].PosixMode(), HasMTime: true, MTime: t.Entries[0].MTime, Tree: true},
		Recheck: func() (resume.Source, error) {
			again, err := tree.WalkAs(t.Root, top)
			if err != nil {
				return resume.Source{}, err
			}
			st, err := os.Lstat(abs)
			if err != nil {
				return resume.Source{}, err
			}
			return identify(abs, st, again), nil
		},
	}

	// The sums are taken from the plaintext the parts' first passes read
	// (scanHasher): the bytes sent, with no read of their own.
	sh := newScanHasher(t)
	src.Scanned = sh.scanned
	wrote := "" // the ID whose index was stored
	o.MaxIDLen = MaxIDLen(o.MaxIDLen)
	o.BeforeObject = func(ctx context.Context, id string) error {
		sums, err := sh.finish(ctx)
		if err != nil {
			return changed(err)
		}
		ix, err := Index(t, sums, id)
		if err != nil {
			return err
		}
		if err := writeIndex(ctx, s, master, ix); err != nil {
			return err
		}
		wrote = id
		return nil
	}
	// The index of an upload that will never complete goes with it, unless
	// an archive exists under that ID (whose index it is).
	o.OnAbort = func(ctx context.Context, id string) {
		if _, err := s.Head(ctx, id); errors.Is(err, object.ErrNotFound) {
			_ = s.Delete(ctx, IndexKey(id))
		}
	}
	res, err := archive.PutResumable(ctx, s, master, src, o)
	if err != nil && wrote != "" && archive.SinglePart(t.Size()) {
		// A put of one request has nothing to resume: its index goes too,
		// unless the archive is there after all (S3 stored it, and its
		// answer was lost).
		o.OnAbort(context.WithoutCancel(ctx), wrote)
	}
	return res, err
}

// identify is how an upload of the directory is recognised again: its
// path, inode and time, the stream's size and the digest of the walk.
func identify(abs string, st os.FileInfo, t *tree.Tree) resume.Source {
	d := t.Digest()
	src := resume.Source{Path: abs, Size: t.Size(), MTime: st.ModTime().UTC(), Sample: hex.EncodeToString(d[:])}
	src.Inode, src.Dev = inodeOf(st)
	return src
}

// Index is the index of the tree t, archived as id, with sums from
// t.HashFiles.
func Index(t *tree.Tree, sums [][32]byte, id string) (*dirindex.Index, error) {
	if len(sums) != len(t.Entries) {
		return nil, fmt.Errorf("index: %d sums for %d entries", len(sums), len(t.Entries))
	}
	ix := &dirindex.Index{ID: id, StreamSize: t.Size(), Entries: make([]dirindex.Entry, len(t.Entries))}
	for i := range t.Entries {
		e := &t.Entries[i]
		ix.Entries[i] = dirindex.Entry{
			Kind:      dirindex.Kind(e.Kind),
			Mode:      e.PosixMode(),
			MTime:     e.MTime,
			Uid:       uint32(e.Uid),
			Gid:       uint32(e.Gid),
			Offset:    e.Offset(),
			HeaderLen: e.HeaderLen(),
			Size:      e.Size,
			SHA256:    sums[i],
			Path:      e.Path,
			Link:      e.Link,
			Uname:     e.Uname,
			Gname:     e.Gname,
		}
	}
	return ix, nil
}

// changedReader is the tree as a source: a file that changed while the
// upload read it fails the upload as a changed source does, which ends it
// rather than leave it to be resumed.
type changedReader struct{ t *tree.Tree }

func (r changedReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.t.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = changed(err)
	}
	return n, err
}

func changed(err error) error {
	if errors.Is(err, tree.ErrChanged) && !errors.Is(err, archive.ErrSourceChanged) {
		return &changedError{err}
	}
	return err
}

// changedError is a tree.ErrChanged that is also an archive.ErrSourceChanged.
type changedError struct{ err error }

func (e *changedError) Error() string { return e.err.Error() }
func (e *changedError) Unwrap() []error {
	return []error{e.err, archive.ErrSourceChanged}
}
