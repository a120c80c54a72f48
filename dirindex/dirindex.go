// Package dirindex encodes and parses the plaintext of a directory archive's
// index (docs/FORMAT.md §7.3): the list of the tar stream's entries, with
// where each one lies in the stream, that stays readable without a restore.
//
// Parse is strict: it accepts only what Marshal writes for a valid index, so
// that everything downstream (listing, extraction, verification) can rely on
// the rules of §7.3 instead of checking them again: paths are clean and under
// one top directory, every entry's parent is an earlier directory (so no path
// goes through a link), hard links name earlier files, and the entries tile
// the stream exactly.
package dirindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ErrDamaged means the bytes are not a valid index; Parse wraps it with what
// is wrong.
var ErrDamaged = errors.New("damaged index")

// Kind is what an entry is.
type Kind byte

const (
	File     Kind = 1
	Dir      Kind = 2
	Symlink  Kind = 3
	Hardlink Kind = 4
)

func (k Kind) String() string {
	switch k {
	case File:
		return "file"
	case Dir:
		return "directory"
	case Symlink:
		return "symbolic link"
	case Hardlink:
		return "hard link"
	}
	return fmt.Sprintf("kind %d", byte(k))
}

// Entry is one member of the tar stream.
type Entry struct {
	Kind      Kind
	Mode      uint16    // permission bits with setuid, setgid and sticky; at most 07777
	MTime     time.Time // to the nanosecond; UTC when parsed
	Uid, Gid  uint32
	Offset    int64    // of the entry's first header block in the stream
	HeaderLen int64    // bytes of its header blocks
	Size      int64    // bytes of content: files only
	SHA256    [32]byte // of the content: files only
	Path      string   // the stream's path: the top directory's name, then "/" and the rest
	Link      string   // a symbolic link's target; a hard link's first name (a Path)
	Uname     string
	Gname     string
}

// Index lists the entries of one directory archive, in stream order.
type Index struct {
	ID         string // the archive's storage ID
	StreamSize int64  // bytes of the tar stream
	Entries    []Entry
}

// Rel is the entry's path after the top directory: "" for the top itself.
func (e *Entry) Rel() string {
	if i := strings.IndexByte(e.Path, '/'); i >= 0 {
		return e.Path[i+1:]
	}
	return ""
}

// DataOffset is where the entry's content starts in the stream.
func (e *Entry) DataOffset() int64 { return e.Offset + e.HeaderLen }

// Lookup finds the entry of a stream path ("top/a/b"). The index must be one
// that Parse returned or Marshal accepted: it searches the stream's order.
func (ix *Index) Lookup(path string) (*Entry, bool) {
	if i, ok := find(ix.Entries, path); ok {
		return &ix.Entries[i], true
	}
	return nil, false
}

// find searches entries, which are in stream order, for path.
func find(entries []Entry, path string) (int, bool) {
	lo, hi := 0, len(entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if comparePaths(entries[m].Path, path) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(entries) && entries[lo].Path == path
}

// comparePaths orders paths as the stream does (FORMAT.md §7.1): component by
// component, bytewise, so that a directory comes right before what it holds
// ("a" < "a/z" < "a b"). Comparing whole strings with '/' below every other
// byte does exactly that, as paths hold no NUL.
func comparePaths(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	switch {
	case i < n:
		ca, cb := a[i], b[i]
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		if ca < cb {
			return -1
		}
		return 1
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// Layout of I (FORMAT.md §7.3).
const (
	magic       = "ogiveidx"
	version     = 1
	maxIDLen    = 1024
	headerFixed = len(magic) + 1 + 2 + 8 + 4
	// entryFixed is an entry without its SHA-256 and its strings: kind, mode,
	// seconds, nanoseconds, uid, gid, offset, header length, size and the four
	// lengths.
	entryFixed = 1 + 2 + 8 + 4 + 4 + 4 + 8 + 4 + 8 + 2 + 2 + 1 + 1
	block      = 512
	trailer    = 2 * block // the two zero blocks that end the stream
	maxMode    = 0o7777
	maxPathLen = 4096 // also of a link: PATH_MAX, the longest a walk gives and extraction takes
	maxNameLen = math.MaxUint8
)

// Marshal checks the index by every rule Parse applies and encodes it.
func (ix *Index) Marshal() ([]byte, error) {
	if err := ix.validate(); err != nil {
		return nil, fmt.Errorf("invalid index: %w", err)
	}
	n := headerFixed + len(ix.ID)
	for i := range ix.Entries {
		e := &ix.Entries[i]
		n += entryFixed + len(e.Path) + len(e.Link) + len(e.Uname) + len(e.Gname)
		if e.Kind == File {
			n += len(e.SHA256)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, magic...)
	b = append(b, version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ix.ID)))
	b = append(b, ix.ID...)
	b = binary.BigEndian.AppendUint64(b, uint64(ix.StreamSize))
	b = binary.BigEndian.AppendUint32(b, uint32(len(ix.Entries)))
	for i := range ix.Entries {
		e := &ix.Entries[i]
		b = append(b, byte(e.Kind))
		b = binary.BigEndian.AppendUint16(b, e.Mode)
		b = binary.BigEndian.AppendUint64(b, uint64(e.MTime.Unix()))
		b = binary.BigEndian.AppendUint32(b, uint32(e.MTime.Nanosecond()))
		b = binary.BigEndian.AppendUint32(b, e.Uid)
		b = binary.BigEndian.AppendUint32(b, e.Gid)
		b = binary.BigEndian.AppendUint64(b, uint64(e.Offset))
		b = binary.BigEndian.AppendUint32(b, uint32(e.HeaderLen))
		b = binary.BigEndian.AppendUint64(b, uint64(e.Size))
		if e.Kind == File {
			b = append(b, e.SHA256[:]...)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.Path)))
		b = append(b, e.Path...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.Link)))
		b = append(b, e.Link...)
		b = append(b, byte(len(e.Uname)))
		b = append(b, e.Uname...)
		b = append(b, byte(len(e.Gname)))
		b = append(b, e.Gname...)
	}
	return b, nil
}

// Parse decodes an index plaintext, refusing with ErrDamaged anything but what
// FORMAT.md §7.3 allows. The caller still compares the ID with the archive's,
// and the stream size with the archive's plaintext size when it knows it.
//
// It reads b three times rather than allocating per field: once for the
// framing (so that a count an attacker inflated allocates nothing), once to
// copy every string into one allocation, once to fill the entries, which
// then share that allocation.
func Parse(b []byte) (*Index, error) {
	ix, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return ix, nil
}

func parse(b []byte) (*Index, error) {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, errors.New("not an ogive index (bad magic)")
	}
	if len(b) < headerFixed {
		return nil, errors.New("truncated header")
	}
	if v := b[len(magic)]; v != version {
		return nil, fmt.Errorf("unknown version %d", v)
	}
	pos := len(magic) + 1
	idLen := int(binary.BigEndian.Uint16(b[pos:]))
	pos += 2
	if idLen < 1 || idLen > maxIDLen {
		return nil, fmt.Errorf("id length %d out of range", idLen)
	}
	if len(b)-pos < idLen+8+4 {
		return nil, errors.New("truncated header")
	}
	id := b[pos : pos+idLen]
	pos += idLen
	streamSize := binary.BigEndian.Uint64(b[pos:])
	pos += 8
	count := binary.BigEndian.Uint32(b[pos:])
	pos += 4
	first := pos

	// Framing: count entries, then the end of b.
	text := 0
	for i := range count {
		var r raw
		var err error
		if pos, err = r.decode(b, pos); err != nil {
			return nil, fmt.Errorf("entry %d of %d: %w", i, count, err)
		}
		text += len(r.path) + len(r.link) + len(r.uname) + len(r.gname)
	}
	if pos != len(b) {
		return nil, fmt.Errorf("%d bytes after the last entry", len(b)-pos)
	}

	var sb strings.Builder
	sb.Grow(text)
	pos = first
	for range count {
		var r raw
		pos, _ = r.decode(b, pos)
		sb.Write(r.path)
		sb.Write(r.link)
		sb.Write(r.uname)
		sb.Write(r.gname)
	}
	all := sb.String()
	cut := func(n int) string {
		s := all[:n]
		all = all[n:]
		return s
	}

	ix := &Index{ID: string(id), StreamSize: int64(streamSize), Entries: make([]Entry, count)}
	pos = first
	for i := range ix.Entries {
		var r raw
		pos, _ = r.decode(b, pos)
		ix.Entries[i] = Entry{
			Kind:      r.kind,
			Mode:      r.mode,
			MTime:     time.Unix(r.sec, int64(r.nsec)).UTC(),
			Uid:       r.uid,
			Gid:       r.gid,
			Offset:    int64(r.offset),
			HeaderLen: int64(r.headerLen),
			Size:      int64(r.size),
			SHA256:    r.sha256,
			Path:      cut(len(r.path)),
			Link:      cut(len(r.link)),
			Uname:     cut(len(r.uname)),
			Gname:     cut(len(r.gname)),
		}
	}
	if err := ix.validate(); err != nil {
		return nil, err
	}
	return ix, nil
}

var errTruncated = errors.New("truncated")

// raw is an entry as I holds it, its strings still in the input.
type raw struct {
	kind                     Kind
	mode                     uint16
	sec                      int64
	nsec, uid, gid           uint32
	offset                   uint64
	headerLen                uint32
	size                     uint64
	sha256                   [32]byte
	path, link, uname, gname []byte
}

// decode reads the entry at b[pos:] and returns where the next one starts. It
// checks what the framing needs (the kind, since it tells whether a SHA-256
// follows) and what an Entry cannot hold (nanoseconds out of range); validate
// checks the rest.
func (r *raw) decode(b []byte, pos int) (int, error) {
	short := errTruncated
	if len(b)-pos < entryFixed-6 {
		return 0, short
	}
	be := binary.BigEndian
	r.kind = Kind(b[pos])
	r.mode = be.Uint16(b[pos+1:])
	r.sec = int64(be.Uint64(b[pos+3:]))
	r.nsec = be.Uint32(b[pos+11:])
	r.uid = be.Uint32(b[pos+15:])
	r.gid = be.Uint32(b[pos+19:])
	r.offset = be.Uint64(b[pos+23:])
	r.headerLen = be.Uint32(b[pos+31:])
	r.size = be.Uint64(b[pos+35:])
	pos += entryFixed - 6
	switch r.kind {
	case File:
		if len(b)-pos < len(r.sha256) {
			return 0, short
		}
		copy(r.sha256[:], b[pos:])
		pos += len(r.sha256)
	case Dir, Symlink, Hardlink:
	default:
		return 0, fmt.Errorf("unknown kind %d", byte(r.kind))
	}
	if r.nsec >= 1e9 {
		return 0, fmt.Errorf("nanoseconds %d out of range", r.nsec)
	}
	var ok bool
	if r.path, pos, ok = lengthPrefixed(b, pos, 2); !ok {
		return 0, short
	}
	if r.link, pos, ok = lengthPrefixed(b, pos, 2); !ok {
		return 0, short
	}
	if r.uname, pos, ok = lengthPrefixed(b, pos, 1); !ok {
		return 0, short
	}
	if r.gname, pos, ok = lengthPrefixed(b, pos, 1); !ok {
		return 0, short
	}
	return pos, nil
}

// lengthPrefixed reads a string after its length of size bytes (1 or 2).
func lengthPrefixed(b []byte, pos, size int) ([]byte, int, bool) {
	if len(b)-pos < size {
		return nil, 0, false
	}
	n := int(b[pos])
	if size == 2 {
		n = int(binary.BigEndian.Uint16(b[pos:]))
	}
	pos += size
	if len(b)-pos < n {
		return nil, 0, false
	}
	return b[pos : pos+n], pos + n, true
}

// validate applies the rules of FORMAT.md §7.3 to a decoded index, or to one
// about to be encoded: both Parse and Marshal go through it, so that Marshal
// writes nothing Parse refuses.
func (ix *Index) validate() error {
	if n := len(ix.ID); n < 1 || n > maxIDLen {
		return fmt.Errorf("id length %d out of range", n)
	}
	for i := 0; i < len(ix.ID); i++ {
		if c := ix.ID[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("id %q is not printable ASCII", ix.ID)
		}
	}
	if ix.StreamSize < 0 {
		return fmt.Errorf("stream size %d out of range", ix.StreamSize)
	}
	if len(ix.Entries) == 0 {
		return errors.New("no entry")
	}
	if uint64(len(ix.Entries)) > math.MaxUint32 {
		return fmt.Errorf("%d entries, too many", len(ix.Entries))
	}
	var top string
	var end int64 // of the entry before
	for i := range ix.Entries {
		e := &ix.Entries[i]
		fail := func(format string, a ...any) error {
			return fmt.Errorf("entry %d (%q): %s", i, e.Path, fmt.Sprintf(format, a...))
		}
		if err := e.validateFields(); err != nil {
			return fail("%v", err)
		}
		if i == 0 {
			if e.Kind != Dir || strings.IndexByte(e.Path, '/') >= 0 || !goodComponent(e.Path) {
				return fail("the first entry is not a top directory")
			}
			top = e.Path
		} else {
			if err := ix.validatePlace(i, top); err != nil {
				return fail("%v", err)
			}
		}
		if e.Offset != end {
			return fail("at offset %d, not %d where the entry before ends", e.Offset, end)
		}
		var ok bool
		if end, ok = e.end(); !ok {
			return fail("ends past the largest size")
		}
	}
	if end > math.MaxInt64-trailer || ix.StreamSize != end+trailer {
		return fmt.Errorf("stream size %d, not %d after the last entry and the two zero blocks", ix.StreamSize, end+trailer)
	}
	return nil
}

// validateFields checks an entry's fields on their own.
func (e *Entry) validateFields() error {
	switch e.Kind {
	case File, Dir, Symlink, Hardlink:
	default:
		return fmt.Errorf("unknown kind %d", byte(e.Kind))
	}
	if e.Mode > maxMode {
		return fmt.Errorf("mode %#o out of range", e.Mode)
	}
	if e.HeaderLen < block || e.HeaderLen%block != 0 || e.HeaderLen > math.MaxUint32 {
		return fmt.Errorf("header length %d is not a positive multiple of %d that fits 32 bits", e.HeaderLen, block)
	}
	if e.Offset < 0 {
		return fmt.Errorf("offset %d out of range", e.Offset)
	}
	if e.Size < 0 {
		return fmt.Errorf("size %d out of range", e.Size)
	}
	if e.Kind != File {
		if e.Size != 0 {
			return fmt.Errorf("size %d on a %s", e.Size, e.Kind)
		}
		if e.SHA256 != [32]byte{} {
			return fmt.Errorf("SHA-256 on a %s", e.Kind)
		}
	}
	for _, f := range [...]struct {
		what, s string
		max     int
	}{{"path", e.Path, maxPathLen}, {"link", e.Link, maxPathLen}, {"owner name", e.Uname, maxNameLen}, {"group name", e.Gname, maxNameLen}} {
		if len(f.s) > f.max {
			return fmt.Errorf("%s of %d bytes, more than %d", f.what, len(f.s), f.max)
		}
		if strings.IndexByte(f.s, 0) >= 0 {
			return fmt.Errorf("NUL in the %s", f.what)
		}
	}
	switch e.Kind {
	case File, Dir:
		if e.Link != "" {
			return fmt.Errorf("a %s with a link", e.Kind)
		}
	case Symlink, Hardlink:
		if e.Link == "" {
			return fmt.Errorf("a %s to nothing", e.Kind)
		}
	}
	return nil
}

// validatePlace checks entry i (not the first) against those before it: its
// path, its place in the stream's order, its parent and a hard link's target.
func (ix *Index) validatePlace(i int, top string) error {
	e := &ix.Entries[i]
	if len(e.Path) <= len(top) || e.Path[len(top)] != '/' || e.Path[:len(top)] != top {
		return fmt.Errorf("not under the top directory %q", top)
	}
	for rest := e.Path[len(top)+1:]; ; {
		c, after, more := strings.Cut(rest, "/")
		if !goodComponent(c) {
			return fmt.Errorf("path component %q", c)
		}
		if !more {
			break
		}
		rest = after
	}
	switch c := comparePaths(ix.Entries[i-1].Path, e.Path); {
	case c == 0:
		return errors.New("path listed twice")
	case c > 0:
		return fmt.Errorf("out of order: after %q", ix.Entries[i-1].Path)
	}
	// Entries before i are in order, so they can be searched.
	before := ix.Entries[:i]
	parent := e.Path[:strings.LastIndexByte(e.Path, '/')]
	// Most often the parent is the entry before, or that entry's parent,
	// which passed this check: no need to search.
	prev := &before[i-1]
	switch {
	case parent == prev.Path:
		if prev.Kind != Dir {
			return fmt.Errorf("parent %q is not an earlier directory", parent)
		}
	case i > 1 && parent == prev.Path[:strings.LastIndexByte(prev.Path, '/')]:
	default:
		if j, ok := find(before, parent); !ok || before[j].Kind != Dir {
			return fmt.Errorf("parent %q is not an earlier directory", parent)
		}
	}
	if e.Kind == Hardlink {
		if j, ok := find(before, e.Link); !ok || before[j].Kind != File {
			return fmt.Errorf("hard link to %q, not an earlier file", e.Link)
		}
	}
	return nil
}

// goodComponent reports whether c can be one component of a path.
func goodComponent(c string) bool {
	return c != "" && c != "." && c != ".." && strings.IndexByte(c, '/') < 0
}

// end is where the entry's content, padded to a block, ends; false if past
// the largest int64.
func (e *Entry) end() (int64, bool) {
	if e.Size > math.MaxInt64-block {
		return 0, false
	}
	padded := (e.Size + block - 1) / block * block
	if e.HeaderLen > math.MaxInt64-padded || e.Offset > math.MaxInt64-e.HeaderLen-padded {
		return 0, false
	}
	return e.Offset + e.HeaderLen + padded, true
}
