// Package tree makes a directory into a tar stream that can be read at any
// offset. One walk fixes every entry, its header and its place in the
// stream, so that the stream's size is known before a byte of it is read,
// the same tree always gives the same bytes, and any part of the stream can
// be made again without making what comes before it: a directory is then a
// source like a file, which a put can split into parts, send in parallel
// and resume.
//
// The stream is POSIX pax (archive/tar's FormatPAX, which writes plain
// ustar headers where they suffice), read by GNU tar and bsdtar. Entries
// come in the walk's order (each directory's entries sorted by name, a
// directory before what it holds), under the directory's own name:
// "photos/", "photos/a.jpg", ... Regular files, directories, symbolic links
// (stored, never followed) and hard links (a later name of a file already
// stored is a link to its first name) are kept, with their permission bits,
// modification time, and owner and group IDs and names; access and change
// times are not, nor extended attributes. Sockets, FIFOs and devices are
// skipped, and Walk names them.
package tree

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ErrChanged means a file of the tree is not what the walk found: it was
// modified, replaced or removed since.
var ErrChanged = errors.New("changed since the directory was read")

// Kind is what an entry is.
type Kind byte

const (
	File Kind = iota + 1
	Dir
	Symlink
	Hardlink
)

// Entry is one member of the stream.
type Entry struct {
	Path         string // slash-separated, under the root's own name; no trailing slash
	Kind         Kind
	Size         int64       // bytes of content: files only
	Mode         fs.FileMode // permission bits, setuid, setgid and sticky
	MTime        time.Time
	Uid, Gid     int
	Uname, Gname string
	Link         string // a symlink's target; a hard link's first name
	Inode, Dev   uint64

	// ctime is the change time the walk found, in nanoseconds: any write to
	// the file since (even one that puts its size and mtime back) moves it.
	ctime int64

	rel    string // where the walk found it: slash-separated under the root, "" for the root
	offset int64  // of its header in the stream
	hdrLen int64  // bytes of its header blocks, pax ones included
}

// Tree is a walked directory.
type Tree struct {
	Root    string  // the directory, as given to Walk
	Entries []Entry // in stream order
	// Skipped names what the walk left out: sockets, FIFOs, devices.
	Skipped []string
	size    int64

	// rootDev and rootIno identify the root directory the walk read, so
	// that a file is opened again only below that same directory.
	rootDev, rootIno uint64

	// root is the root directory, opened once and checked to be the one the
	// walk read, for every file opened after the walk (Unix); Close
	// releases it.
	//
	//lint:ignore U1000 the Windows walk opens files by name and leaves it unused
	root struct {
		mu   sync.Mutex
		open bool
		fd   int
	}
}

// found is what the walk learnt of one name, without following it.
type found struct {
	rel             string // slash-separated under the root; "" for the root
	kind            Kind   // 0 for a socket, FIFO or device
	mode            fs.FileMode
	size            int64
	mtime           time.Time
	uid, gid        int
	ino, dev, nlink uint64
	ctime           int64
	link            string // a symlink's target
}

// src is the file of e as a path, for messages.
func (t *Tree) src(e *Entry) string {
	return filepath.Join(filepath.Clean(t.Root), filepath.FromSlash(e.rel))
}

const block = 512

// trailer is the two zero blocks that end a tar stream.
const trailer = 2 * block

// Walk reads the tree under root, a directory, without following any
// symbolic link, and lays out its stream under the directory's base name.
// On Unix each directory is read through a descriptor opened from its
// parent's and checked to be the directory the listing showed, so a
// directory swapped for a link (or another directory) by another user
// during the walk fails it with ErrChanged rather than lead it out of the
// tree. On Windows the walk is by name, and weaker (see walk_windows.go).
func Walk(root string) (*Tree, error) { return WalkAs(root, "") }

// TopName is the name a walk of root gives its top directory: root's base
// name ("root" for "/").
func TopName(root string) (string, error) {
	clean := filepath.Clean(root)
	base := filepath.Base(clean)
	if base == "/" || base == string(filepath.Separator) || base == "." || base == ".." {
		abs, err := filepath.Abs(clean)
		if err != nil {
			return "", err
		}
		base = filepath.Base(abs)
		if base == "/" || base == string(filepath.Separator) {
			base = "root"
		}
	}
	return base, nil
}

// WalkAs is Walk with the top directory named top in the stream ("" for
// root's base name): a tree restored under another name gives the stream
// of the original again.
func WalkAs(root, top string) (*Tree, error) {
	st, err := os.Lstat(root)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", root)
	}
	clean := filepath.Clean(root)
	base := top
	if base == "" {
		if base, err = TopName(root); err != nil {
			return nil, err
		}
	}
	t := &Tree{Root: root}
	names := &owners{users: map[int]string{}, groups: map[int]string{}}
	first := map[[2]uint64]string{} // inode of a file with several links → its first name
	err = walk(clean, func(f *found) error {
		name := base
		if f.rel != "" {
			name = path.Join(base, f.rel)
		} else {
			t.rootDev, t.rootIno = f.dev, f.ino
		}
		e := Entry{
			Path: name, Kind: f.kind, Mode: f.mode, MTime: f.mtime,
			Uid: f.uid, Gid: f.gid, Inode: f.ino, Dev: f.dev, Link: f.link,
			ctime: f.ctime, rel: f.rel,
		}
		e.Uname, e.Gname = names.user(e.Uid), names.group(e.Gid)
		switch f.kind {
		case File:
			e.Size = f.size
			if f.nlink > 1 {
				key := [2]uint64{e.Dev, e.Inode}
				if to, ok := first[key]; ok {
					e.Kind, e.Size, e.Link = Hardlink, 0, to
				} else {
					first[key] = name
				}
			}
		case Dir, Symlink:
		default:
			t.Skipped = append(t.Skipped, name)
			return nil
		}
		t.Entries = append(t.Entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", root, err)
	}
	if err := t.layout(); err != nil {
		return nil, err
	}
	return t, nil
}

// layout places every entry in the stream and sets its size.
func (t *Tree) layout() error {
	var off int64
	for i := range t.Entries {
		e := &t.Entries[i]
		h, err := e.headerBytes()
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		e.offset, e.hdrLen = off, int64(len(h))
		off += e.hdrLen + padded(e.Size)
	}
	t.size = off + trailer
	return nil
}

// Size is the length of the stream.
func (t *Tree) Size() int64 { return t.size }

// Offset is where the entry's first header block starts in the stream.
func (e *Entry) Offset() int64 { return e.offset }

// HeaderLen is the length of the entry's header blocks, pax ones included:
// its content starts at Offset + HeaderLen.
func (e *Entry) HeaderLen() int64 { return e.hdrLen }

func padded(n int64) int64 { return (n + block - 1) / block * block }

// PosixMode is the entry's permission bits as POSIX numbers them, with
// setuid 04000, setgid 02000 and sticky 01000: what its header and the
// index record.
func (e *Entry) PosixMode() uint16 {
	m := uint16(e.Mode.Perm())
	if e.Mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if e.Mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if e.Mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// header is the entry's tar header.
func (e *Entry) header() *tar.Header {
	h := &tar.Header{
		Name: e.Path, Mode: int64(e.PosixMode()), Uid: e.Uid, Gid: e.Gid,
		Uname: e.Uname, Gname: e.Gname, ModTime: e.MTime, Format: tar.FormatPAX,
	}
	switch e.Kind {
	case File:
		h.Typeflag, h.Size = tar.TypeReg, e.Size
	case Dir:
		h.Typeflag, h.Name = tar.TypeDir, e.Path+"/"
	case Symlink:
		h.Typeflag, h.Linkname = tar.TypeSymlink, e.Link
	case Hardlink:
		h.Typeflag, h.Linkname = tar.TypeLink, e.Link
	}
	return h
}

// headerBytes is the header as the stream holds it.
func (e *Entry) headerBytes() ([]byte, error) {
	var b bytes.Buffer
	if err := tar.NewWriter(&b).WriteHeader(e.header()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadAt reads the stream at off. File contents are read from the tree
// then, each file opened without following a link (on Unix, in any
// component of its path below the root) and checked to be the one the walk
// found, of the same size and time (on Unix, also the same inode and change
// time): anything else fails with ErrChanged, naming the file.
func (t *Tree) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: negative offset", off)
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= t.size {
			return n, io.EOF
		}
		m, err := t.readOne(p[n:], at)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readOne reads from the one region of the stream (a header, a file's
// content, its padding, the trailer) that holds at.
func (t *Tree) readOne(p []byte, at int64) (int, error) {
	i := sort.Search(len(t.Entries), func(i int) bool { return t.Entries[i].offset > at }) - 1
	if i < 0 || at >= t.size-trailer {
		// The trailer (a stream with no entry is all trailer).
		end := t.size
		return zero(p[:min(int64(len(p)), end-at)]), nil
	}
	e := &t.Entries[i]
	rel := at - e.offset
	switch {
	case rel < e.hdrLen:
		h, err := e.headerBytes()
		if err != nil || int64(len(h)) != e.hdrLen {
			return 0, fmt.Errorf("%s: header: %w", e.Path, errors.Join(err, ErrChanged))
		}
		return copy(p, h[rel:]), nil
	case rel < e.hdrLen+e.Size:
		within := rel - e.hdrLen
		return t.content(e, p[:min(int64(len(p)), e.Size-within)], within)
	default:
		end := e.offset + e.hdrLen + padded(e.Size)
		return zero(p[:min(int64(len(p)), end-at)]), nil
	}
}

func zero(p []byte) int { clear(p); return len(p) }

// content reads the file of e at off into p, all of p.
func (t *Tree) content(e *Entry, p []byte, off int64) (int, error) {
	full := t.src(e)
	f, err := t.open(e)
	if err != nil {
		return 0, fmt.Errorf("%s: %w (%v)", full, ErrChanged, err)
	}
	defer f.Close()
	if err := same(f, e); err != nil {
		return 0, fmt.Errorf("%s: %w", full, err)
	}
	n, err := f.ReadAt(p, off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	if err != nil {
		return n, fmt.Errorf("%s: %w (%v)", full, ErrChanged, err)
	}
	if err := same(f, e); err != nil {
		return 0, fmt.Errorf("%s: %w", full, err)
	}
	return n, nil
}

// same checks that f is the file the walk found, unchanged.
func same(f *os.File, e *Entry) error {
	st, err := statFile(f)
	if err != nil {
		return err
	}
	switch {
	case !st.regular:
		return fmt.Errorf("%w: no longer a regular file", ErrChanged)
	case st.hasID && (st.ino != e.Inode || st.dev != e.Dev):
		return fmt.Errorf("%w: another file under its name", ErrChanged)
	case st.size != e.Size:
		return fmt.Errorf("%w: %d bytes, not %d", ErrChanged, st.size, e.Size)
	case !st.mtime.Equal(e.MTime):
		return fmt.Errorf("%w: modified at %s", ErrChanged, st.mtime.UTC().Format(time.RFC3339Nano))
	case st.hasID && st.ctime != e.ctime:
		return fmt.Errorf("%w: written to since it was read", ErrChanged)
	}
	return nil
}

// fileState is what same compares of an open file.
type fileState struct {
	regular  bool
	size     int64
	mtime    time.Time
	hasID    bool // ino, dev and ctime are known (not on Windows)
	ino, dev uint64
	ctime    int64 // nanoseconds
}

// HashFiles reads every file of the tree in stream order and returns the
// SHA-256 of each one's content, by entry (zero for other kinds). Files are
// opened and checked as ReadAt does them, so a sum is of the content the
// stream holds: a file written to since the walk fails with ErrChanged.
// read, if not nil, is told of the bytes as they are read.
func (t *Tree) HashFiles(ctx context.Context, read func(n int64)) ([][32]byte, error) {
	sums := make([][32]byte, len(t.Entries))
	return sums, t.HashSome(ctx, sums, nil, read)
}

// HashSome is HashFiles for the files whose entry skip does not skip (all
// of them when skip is nil), writing each sum into sums, by entry.
func (t *Tree) HashSome(ctx context.Context, sums [][32]byte, skip func(i int) bool, read func(n int64)) error {
	buf := make([]byte, 1<<20)
	h := sha256.New()
	for i := range t.Entries {
		e := &t.Entries[i]
		if e.Kind != File || skip != nil && skip(i) {
			continue
		}
		h.Reset()
		if err := t.hashFile(ctx, e, h, buf, read); err != nil {
			return err
		}
		h.Sum(sums[i][:0])
	}
	return nil
}

func (t *Tree) hashFile(ctx context.Context, e *Entry, h io.Writer, buf []byte, read func(n int64)) error {
	full := t.src(e)
	f, err := t.open(e)
	if err != nil {
		return fmt.Errorf("%s: %w (%v)", full, ErrChanged, err)
	}
	defer f.Close()
	if err := same(f, e); err != nil {
		return fmt.Errorf("%s: %w", full, err)
	}
	var done int64
	for done < e.Size {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.ReadAt(buf[:min(int64(len(buf)), e.Size-done)], done)
		h.Write(buf[:n])
		done += int64(n)
		if read != nil {
			read(int64(n))
		}
		if err != nil && !(err == io.EOF && done == e.Size) {
			return fmt.Errorf("%s: %w (%v)", full, ErrChanged, err)
		}
	}
	if err := same(f, e); err != nil {
		return fmt.Errorf("%s: %w", full, err)
	}
	return nil
}

// Digest commits to the walk: every entry's name, kind, size, mode, time,
// owner, link and inode, and what was skipped. Two walks with the same
// digest give the same stream, as long as no file's content changed under
// an unchanged size and time.
func (t *Tree) Digest() [32]byte {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	num := func(v uint64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], v)
		h.Write(n[:])
	}
	num(uint64(len(t.Entries)))
	for _, e := range t.Entries {
		field(e.Path)
		num(uint64(e.Kind))
		num(uint64(e.Size))
		num(uint64(e.Mode))
		num(uint64(e.MTime.UnixNano()))
		num(uint64(e.Uid))
		num(uint64(e.Gid))
		field(e.Uname)
		field(e.Gname)
		field(e.Link)
		num(e.Inode)
		num(e.Dev)
	}
	num(uint64(len(t.Skipped)))
	for _, s := range t.Skipped {
		field(s)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// owners caches user and group names by ID.
type owners struct {
	users, groups map[int]string
}

func (o *owners) user(id int) string {
	if n, ok := o.users[id]; ok {
		return n
	}
	n := ""
	if u, err := user.LookupId(strconv.Itoa(id)); err == nil {
		n = u.Username
	}
	o.users[id] = n
	return n
}

func (o *owners) group(id int) string {
	if n, ok := o.groups[id]; ok {
		return n
	}
	n := ""
	if g, err := user.LookupGroupId(strconv.Itoa(id)); err == nil {
		n = g.Name
	}
	o.groups[id] = n
	return n
}
