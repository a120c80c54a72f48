package dirarchive

import (
	"context"
	"crypto/sha256"
	"hash"
	"sort"
	"sync"

	"github.com/ogive-project/ogive/tree"
)

// scanHasher takes the files' SHA-256 sums from the plaintext the upload's
// first pass reads (archive.SeekableSource.Scanned): the very bytes whose
// ciphertext is sent, with no read of its own. Parts are scanned in
// parallel and in any order, each from its start to its end, so a file is
// hashed here when its bytes come in order: a file within one part always,
// a file across parts when the part holding its start was scanned first.
// Whatever is left (parts an earlier run sent are checked, hence scanned,
// again; a source sent in one request is not scanned at all) is hashed from
// the tree at the end (finish).
type scanHasher struct {
	t *tree.Tree
	// starts are the stream offsets of the non-empty files' contents, in
	// order, and files their entries.
	starts []int64
	files  []int

	mu      sync.Mutex
	waiting map[int64]*fileHash // by the offset of the next byte each needs
	sums    [][32]byte
	done    []bool
}

// fileHash is a file being hashed.
type fileHash struct {
	entry int
	end   int64 // offset after its content
	h     hash.Hash
}

func newScanHasher(t *tree.Tree) *scanHasher {
	sh := &scanHasher{t: t, waiting: map[int64]*fileHash{}, sums: make([][32]byte, len(t.Entries)), done: make([]bool, len(t.Entries))}
	empty := sha256.Sum256(nil)
	for i := range t.Entries {
		e := &t.Entries[i]
		if e.Kind != tree.File {
			continue
		}
		if e.Size == 0 {
			sh.sums[i], sh.done[i] = empty, true
			continue
		}
		start := e.Offset() + e.HeaderLen()
		sh.starts = append(sh.starts, start)
		sh.files = append(sh.files, i)
		sh.waiting[start] = &fileHash{entry: i, end: start + e.Size}
	}
	return sh
}

// scanned is archive's Scanned hook: p is the plaintext at stream offset
// off, read by a part's first pass.
func (sh *scanHasher) scanned(off int64, p []byte) {
	end := off + int64(len(p))
	for off < end {
		sh.mu.Lock()
		fh := sh.waiting[off]
		if fh != nil {
			delete(sh.waiting, off)
		}
		sh.mu.Unlock()
		if fh == nil {
			// Nothing needs this byte: on to the next file's start.
			k := sort.Search(len(sh.starts), func(k int) bool { return sh.starts[k] > off })
			if k == len(sh.starts) || sh.starts[k] >= end {
				return
			}
			off = sh.starts[k]
			continue
		}
		if fh.h == nil {
			fh.h = sha256.New()
		}
		n := min(end, fh.end) - off
		fh.h.Write(p[off-(end-int64(len(p))) : off-(end-int64(len(p)))+n])
		off += n
		sh.mu.Lock()
		if off == fh.end {
			fh.h.Sum(sh.sums[fh.entry][:0])
			sh.done[fh.entry] = true
		} else if _, taken := sh.waiting[off]; !taken {
			sh.waiting[off] = fh
		}
		sh.mu.Unlock()
	}
}

// finish hashes, from the tree, the files the scans did not, and returns
// every file's sum, by entry.
func (sh *scanHasher) finish(ctx context.Context) ([][32]byte, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := sh.t.HashSome(ctx, sh.sums, func(i int) bool { return sh.done[i] }, nil); err != nil {
		return nil, err
	}
	return sh.sums, nil
}
