package dirarchive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirindex"
	"github.com/ogive-project/ogive/extract"
	"github.com/ogive-project/ogive/object"
)

// GetOptions tune Extract.
type GetOptions struct {
	Force bool
	// Include, if not empty, extracts only the entries whose path after the
	// top directory matches one of the patterns (dirindex.Match), and
	// fetches only the ranges of the archive that hold them.
	Include  []string
	Download archive.DownloadOptions
	Notice   func(string)
}

// span is the bytes [from, to) of the tar stream an extraction needs: one
// entry's header blocks and content.
type span struct{ from, to int64 }

// Selection is what a get of a directory archive fetches.
type Selection struct {
	Entries []*dirindex.Entry // in stream order; nil for the whole stream
	Fetch   int64             // plaintext bytes of the ranges fetched
	Total   int64             // plaintext bytes of the whole archive
	spans   []span
}

// Select is what a get with include patterns extracts of the archive
// indexed by ix, of cipherSize bytes: the files, symlinks and hard links
// that match (with the first name of each hard link, which it needs), and
// the directories above them or that match, and the bytes of the ranges
// (package-aligned, as DownloadPlainRanges fetches them) that hold them.
// No pattern selects everything.
func Select(ix *dirindex.Index, cipherSize int64, patterns []string) (*Selection, error) {
	total := ix.StreamSize
	if len(patterns) == 0 {
		return &Selection{Fetch: total, Total: total}, nil
	}
	if err := dirindex.CheckPatterns(patterns); err != nil {
		return nil, err
	}
	chosen := make([]bool, len(ix.Entries))
	byPath := make(map[string]int, len(ix.Entries))
	for i := range ix.Entries {
		byPath[ix.Entries[i].Path] = i
	}
	var choose func(i int)
	choose = func(i int) {
		if chosen[i] {
			return
		}
		chosen[i] = true
		e := &ix.Entries[i]
		if e.Kind == dirindex.Hardlink {
			if j, ok := byPath[e.Link]; ok {
				choose(j)
			}
		}
		// Every directory above it.
		for p := e.Path; ; {
			k := strings.LastIndexByte(p, '/')
			if k < 0 {
				break
			}
			p = p[:k]
			if j, ok := byPath[p]; ok {
				chosen[j] = true
			}
		}
	}
	for i := range ix.Entries {
		e := &ix.Entries[i]
		ok, err := dirindex.Match(patterns, e.Rel())
		if err != nil {
			return nil, err
		}
		if ok {
			choose(i)
		}
	}
	// Never nil with patterns: an empty selection extracts nothing.
	sel := &Selection{Total: total, Entries: []*dirindex.Entry{}}
	for i := range ix.Entries {
		if chosen[i] {
			e := &ix.Entries[i]
			sel.Entries = append(sel.Entries, e)
			sel.spans = append(sel.spans, span{e.Offset, e.DataOffset() + e.Size})
		}
	}
	archive.ChunkPlain(cipherSize, 0, func(from, to int64) {
		if sel.wants(from, to) {
			sel.Fetch += to - from
		}
	})
	return sel, nil
}

// wants reports whether the plaintext [from, to) holds a byte the
// selection needs.
func (sel *Selection) wants(from, to int64) bool {
	i := sort.Search(len(sel.spans), func(i int) bool { return sel.spans[i].to > from })
	return i < len(sel.spans) && sel.spans[i].from < to
}

// Extract downloads the directory archive id (cipherSize bytes, already
// restored) and extracts its tree into parent/name. keys are the archive's;
// ix is its index, which checks every file's content, or nil when the index
// is missing: then the whole stream is extracted, checked by its own
// authentication alone. With include patterns only the selected entries'
// ranges are fetched.
func Extract(ctx context.Context, s object.Store, keys crypt.Decrypter, id string, cipherSize int64, ix *dirindex.Index, parent, name string, o GetOptions) (extract.Stats, error) {
	plain, err := keys.PlainSize(cipherSize)
	if err != nil {
		return extract.Stats{}, err
	}
	if ix != nil && ix.StreamSize != plain {
		return extract.Stats{}, fmt.Errorf("index of %s: a stream of %d bytes, the archive holds %d: %w", id, ix.StreamSize, plain, ErrIndexMismatch)
	}
	if ix == nil && len(o.Include) > 0 {
		return extract.Stats{}, fmt.Errorf("%s: --include needs the index: %w", id, ErrNoIndex)
	}
	// Every entry is checked against the index (extractIndexed), and every
	// byte of content is authenticated by the archive's own encryption. The
	// index's SHA-256 sums are not computed again here: they would cost a
	// third of the extraction's CPU (0.6 s a GiB) to tell what the
	// authentication already proves; "ogive verify ID DEST/name" compares
	// them with the files.
	xo := extract.Options{Force: o.Force, Notice: o.Notice}

	pr, pw := io.Pipe()
	defer pr.Close()
	var top string
	var sel *Selection
	if ix != nil {
		top = ix.Entries[0].Path
		if sel, err = Select(ix, cipherSize, o.Include); err != nil {
			return extract.Stats{}, err
		}
	}
	got := make(chan error, 1)
	go func() {
		var err error
		if len(o.Include) == 0 {
			_, err = archive.DownloadStream(ctx, s, keys, id, cipherSize, pw, o.Download)
		} else {
			_, err = archive.DownloadPlainRanges(ctx, s, keys, id, cipherSize, sel.wants, sel.feeder(pw), o.Download)
		}
		pw.CloseWithError(err)
		got <- err
	}()
	br := bufio.NewReaderSize(pr, 1<<20)
	if top == "" {
		if top, err = peekTop(br); err != nil {
			pr.CloseWithError(err)
			<-got
			return extract.Stats{}, err
		}
	}
	x, err := extract.New(parent, name, top, xo)
	if err != nil {
		pr.CloseWithError(err)
		<-got
		return extract.Stats{}, err
	}
	switch {
	case ix == nil:
		err = x.Stream(ctx, br)
	case len(o.Include) == 0:
		err = extractIndexed(ctx, x, br, ix)
	default:
		err = sel.extract(ctx, x, br)
	}
	if err != nil {
		pr.CloseWithError(err)
		if derr := <-got; derr != nil && !errors.Is(derr, err) && !errors.Is(derr, io.ErrClosedPipe) {
			err = derr // the download failed first: that is the cause
		}
		x.Abort()
		return x.Stats(), err
	}
	// The whole stream, the final package included, must have
	// authenticated before the extraction is called done.
	io.Copy(io.Discard, br)
	if err := <-got; err != nil {
		x.Abort()
		return x.Stats(), err
	}
	if err := x.Finish(); err != nil {
		return x.Stats(), err
	}
	return x.Stats(), nil
}

// feeder writes the selected spans' bytes, in order, from the ranges
// DownloadPlainRanges hands over.
func (sel *Selection) feeder(w io.Writer) func(off int64, p []byte) error {
	i := 0
	return func(off int64, p []byte) error {
		end := off + int64(len(p))
		for i < len(sel.spans) && sel.spans[i].from < end {
			sp := sel.spans[i]
			from, to := max(sp.from, off), min(sp.to, end)
			if from < to {
				if _, err := w.Write(p[from-off : to-off]); err != nil {
					return err
				}
			}
			if sp.to > end {
				break // continues in the next range
			}
			i++
		}
		return nil
	}
}

// extract reads the selected entries' spans, back to back, from r, each
// checked against its index entry.
func (sel *Selection) extract(ctx context.Context, x *extract.Extractor, r io.Reader) error {
	for k, e := range sel.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		sp := sel.spans[k]
		lr := &io.LimitedReader{R: r, N: sp.to - sp.from}
		tr := tar.NewReader(lr)
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("%q: %w", e.Path, err)
		}
		if err := sameEntry(h, e, e.Offset+(sp.to-sp.from-lr.N)); err != nil {
			return err
		}
		if err := x.Entry(h, tr); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, lr); err != nil {
			return err
		}
	}
	return nil
}

// extractIndexed extracts a whole stream whose every entry must be, in
// order, the index's: what ls shows is what get writes, and nothing else.
func extractIndexed(ctx context.Context, x *extract.Extractor, r io.Reader, ix *dirindex.Index) error {
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			if i != len(ix.Entries) {
				return fmt.Errorf("the archive ends after %d entries, its index lists %d: %w", i, len(ix.Entries), ErrIndexMismatch)
			}
			if cr.n != ix.StreamSize {
				return fmt.Errorf("the archive's entries end at byte %d, its index says %d: %w", cr.n, ix.StreamSize, ErrIndexMismatch)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if i >= len(ix.Entries) {
			return fmt.Errorf("%q: in the archive, not in its index: %w", h.Name, ErrIndexMismatch)
		}
		if err := sameEntry(h, &ix.Entries[i], cr.n); err != nil {
			return err
		}
		if err := x.Entry(h, tr); err != nil {
			return err
		}
	}
}

// sameEntry checks a tar header against its index entry: name, kind, size,
// link, mode and time, and that its content starts where the index says
// (at is the stream offset the header ended at).
func sameEntry(h *tar.Header, e *dirindex.Entry, at int64) error {
	name, flag := e.Path, tarFlags[e.Kind]
	if e.Kind == dirindex.Dir {
		name += "/"
	}
	var why string
	switch {
	case h.Name != name:
		why = fmt.Sprintf("the archive holds %q where its index has %q", h.Name, name)
	case h.Typeflag != flag:
		why = fmt.Sprintf("a %s in the archive, a %s in its index", typeName(h.Typeflag), e.Kind)
	case h.Size != e.Size:
		why = fmt.Sprintf("%d bytes in the archive, %d in its index", h.Size, e.Size)
	case h.Linkname != e.Link:
		why = fmt.Sprintf("links to %q in the archive, to %q in its index", h.Linkname, e.Link)
	case h.Mode&0o7777 != int64(e.Mode) || h.Mode&^0o7777 != 0:
		why = fmt.Sprintf("mode %#o in the archive, %#o in its index", h.Mode, e.Mode)
	case !h.ModTime.Equal(e.MTime):
		why = "its time in the archive is not its index's"
	case at != e.DataOffset():
		why = fmt.Sprintf("its content starts at byte %d of the archive, at %d by its index", at, e.DataOffset())
	default:
		for k := range h.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				why = "a sparse file, which directory archives never hold"
			}
		}
	}
	if why != "" {
		return fmt.Errorf("%q: %s: %w", e.Path, why, ErrIndexMismatch)
	}
	return nil
}

// tarFlags is the tar type of each kind of index entry.
var tarFlags = map[dirindex.Kind]byte{
	dirindex.File: tar.TypeReg, dirindex.Dir: tar.TypeDir, dirindex.Symlink: tar.TypeSymlink, dirindex.Hardlink: tar.TypeLink,
}

// typeName names a tar type as the index names its kind.
func typeName(flag byte) string {
	for k, f := range tarFlags {
		if f == flag {
			return k.String()
		}
	}
	return fmt.Sprintf("entry of type %q", string(flag))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// peekTop reads the top directory's name from the first header of a
// stream, without consuming it.
func peekTop(br *bufio.Reader) (string, error) {
	head, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", err
	}
	h, err := tar.NewReader(bytes.NewReader(head)).Next()
	if err != nil {
		return "", fmt.Errorf("read the first entry: %w", err)
	}
	top := strings.TrimSuffix(h.Name, "/")
	if h.Typeflag != tar.TypeDir || top == "" || strings.Contains(top, "/") || top == "." || top == ".." {
		return "", fmt.Errorf("first entry %q is not a top directory: %w", h.Name, extract.ErrUnsafePath)
	}
	return top, nil
}
