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
	sel := &Selection{Total: total}
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
	xo := extract.Options{Force: o.Force, Notice: o.Notice}
	if ix != nil {
		sums := make(map[string][32]byte, len(ix.Entries))
		for i := range ix.Entries {
			if e := &ix.Entries[i]; e.Kind == dirindex.File {
				sums[e.Path] = e.SHA256
			}
		}
		xo.Expect = func(path string) ([32]byte, bool) { sum, ok := sums[path]; return sum, ok }
	}

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
		if sel == nil || sel.Entries == nil {
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
	if sel == nil || sel.Entries == nil {
		err = x.Stream(ctx, br)
	} else {
		err = sel.extract(x, br)
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

// extract reads the selected entries' spans, back to back, from r.
func (sel *Selection) extract(x *extract.Extractor, r io.Reader) error {
	for k, e := range sel.Entries {
		sp := sel.spans[k]
		lr := &io.LimitedReader{R: r, N: sp.to - sp.from}
		tr := tar.NewReader(lr)
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		if h.Name != e.Path && h.Name != e.Path+"/" {
			return fmt.Errorf("%s: the archive holds %q there: %w", e.Path, h.Name, ErrIndexMismatch)
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
