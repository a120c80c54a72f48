package dirarchive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirindex"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/tree"
)

// ErrDiffers means the local tree is not what the archive holds.
var ErrDiffers = errors.New("the directory does not match the archive")

// DiffError names the first entry, in stream order, that differs, is
// missing or is extra.
type DiffError struct {
	Path string // after the top directory
	What string // "missing", "extra" or how it differs
}

func (e *DiffError) Error() string {
	p := e.Path
	if p == "" {
		p = "."
	}
	return fmt.Sprintf("%s: %s", p, e.What)
}
func (e *DiffError) Unwrap() error { return ErrDiffers }

// Verified is what a successful Verify checked.
type Verified struct {
	Entries int   // compared with the index: kind, size, content, link
	Bytes   int64 // of file content hashed
	// Parts is the archive's parts whose checksums were compared with the
	// tree's stream encrypted again (archive.Verify), or 0 when the tree's
	// metadata (modes, times, owners) is not the archive's, so that its
	// stream cannot be the archive's: then PartsSkipped says which entry
	// showed it.
	Parts        int
	ByETag       bool
	PartsSkipped string
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	OnBytes func(int64) // bytes of the tree read, as they are read
}

// Verify checks the directory dir against the directory archive a, with
// no restore and no download of the archive's data: every entry of its
// index against the tree (kind, size, SHA-256 of the content, link target),
// then, when the tree's metadata is the archive's too, the tree's stream
// encrypted again against the parts' checksums S3 stored (archive.Verify).
// The first entry that differs, is missing or is extra is named in a
// *DiffError.
func Verify(ctx context.Context, s object.PartChecksummer, a *archive.Archive, keys crypt.Decrypter, ix *dirindex.Index, dir string, o VerifyOptions) (Verified, error) {
	var v Verified
	top := ix.Entries[0].Path
	t, err := tree.WalkAs(dir, top)
	if err != nil {
		return v, err
	}
	defer t.Close()
	local := make(map[string]int, len(t.Entries))
	for i := range t.Entries {
		local[t.Entries[i].Path] = i
	}
	rel := func(p string) string {
		if p == top {
			return ""
		}
		return strings.TrimPrefix(p, top+"/")
	}
	// Structure first: cheap, and it needs no read.
	seen := make(map[string]bool, len(ix.Entries))
	for i := range ix.Entries {
		e := &ix.Entries[i]
		seen[e.Path] = true
		j, ok := local[e.Path]
		if !ok {
			return v, &DiffError{rel(e.Path), "missing"}
		}
		if what := differs(e, &t.Entries[j]); what != "" {
			return v, &DiffError{rel(e.Path), what}
		}
	}
	for i := range t.Entries {
		if p := t.Entries[i].Path; !seen[p] {
			return v, &DiffError{rel(p), "extra: not in the archive"}
		}
	}
	sums, err := t.HashFiles(ctx, o.OnBytes)
	if err != nil {
		return v, err
	}
	for i := range ix.Entries {
		e := &ix.Entries[i]
		j := local[e.Path]
		if e.Kind == dirindex.File && sums[j] != e.SHA256 {
			return v, &DiffError{rel(e.Path), "content differs"}
		}
		v.Bytes += e.Size
	}
	v.Entries = len(ix.Entries)

	// The tree's stream is the archive's only if every header is: then the
	// parts can be compared too.
	for i := range ix.Entries {
		e := &ix.Entries[i]
		if why := headerDiffers(e, &t.Entries[local[e.Path]]); why != "" {
			v.PartsSkipped = fmt.Sprintf("%s: %s", printable(rel(e.Path)), why)
			return v, nil
		}
	}
	if t.Size() != ix.StreamSize {
		v.PartsSkipped = "the tree's stream is not the archive's size"
		return v, nil
	}
	pv, err := archive.Verify(ctx, s, a, keys, io.NewSectionReader(t, 0, t.Size()), t.Size(), archive.VerifyOptions{})
	if err != nil {
		return v, err
	}
	v.Parts, v.ByETag = pv.Parts, pv.ByETag
	return v, nil
}

func printable(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// differs says how a local entry's kind, size or link differ from the
// index's, or "".
func differs(e *dirindex.Entry, l *tree.Entry) string {
	kind := dirindex.Kind(l.Kind)
	switch {
	case kind != e.Kind:
		return fmt.Sprintf("a %s here, a %s in the archive", kind, e.Kind)
	case e.Kind == dirindex.File && l.Size != e.Size:
		return fmt.Sprintf("%d bytes here, %d in the archive", l.Size, e.Size)
	case l.Link != e.Link:
		return fmt.Sprintf("links to %q here, to %q in the archive", l.Link, e.Link)
	}
	return ""
}

// headerDiffers says which of the fields only the tar header holds differ.
func headerDiffers(e *dirindex.Entry, l *tree.Entry) string {
	switch {
	case l.PosixMode() != e.Mode:
		return "mode differs"
	case !l.MTime.Equal(e.MTime):
		return "modification time differs"
	case uint32(l.Uid) != e.Uid || uint32(l.Gid) != e.Gid || l.Uname != e.Uname || l.Gname != e.Gname:
		return "owner differs"
	case l.Offset() != e.Offset || l.HeaderLen() != e.HeaderLen:
		return "header differs"
	}
	return ""
}
