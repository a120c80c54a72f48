// Package extract writes the entries of a directory archive's tar stream
// (docs/FORMAT.md §7.1) into a destination directory, and only there.
//
// The stream is authenticated, but it is still treated as hostile: every
// path must lie under the stream's top directory with no empty, "." or ".."
// component, never go through a symbolic link on disk (one made earlier by
// the same stream included), and a hard link may only name a regular file
// the same extraction wrote. Everything happens through an os.Root opened on
// the destination, so a name swapped by someone racing the extraction cannot
// lead it out either.
//
// A file is written to a hidden temporary in its own directory and gets its
// final name only once its content is complete, checked and on disk, so a
// crash never leaves a partial file under a final name. Files are made
// durable in batches (one sync of the file system for up to 1,000 files or
// 64 MiB, then their renames and a sync of the directories they went into)
// rather than one fsync each.
package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"
)

var (
	// ErrUnsafePath means an entry would be written outside the destination,
	// through a symbolic link, or as something other than a file, a
	// directory, a symbolic link or a hard link to a file extracted before.
	ErrUnsafePath = errors.New("unsafe path in archive")
	// ErrExists means an entry's name is taken on disk and Force was not
	// given, or is taken by a directory, which nothing replaces.
	ErrExists = errors.New("already exists")
	// ErrMismatch means a file's content is not the one the index records.
	ErrMismatch = errors.New("content differs from the index")
)

// Options tune an extraction.
type Options struct {
	// Force replaces a file or symbolic link that is in the way (the link
	// itself, never what it points to). A directory is never replaced.
	Force bool
	// Include, when set, selects the files, symbolic links and hard links to
	// extract by their path below the top directory ("a/b.txt"). A
	// directory is made when it matches or holds an entry that does.
	Include func(rel string) bool
	// Expect, when set, gives the SHA-256 the index records for a file, by
	// its path as the stream names it ("top/a/b.txt"); a file whose content
	// differs fails with ErrMismatch and gets no final name.
	Expect func(path string) (sha [32]byte, ok bool)
	// Notice receives warnings that do not stop the extraction: a mode or
	// time the file system refuses, a hard link whose file was not included.
	Notice func(string)
}

// Stats counts what an extraction made.
type Stats struct {
	Files int   // regular files given their final name
	Dirs  int   // directories made (the top one included)
	Links int   // symbolic and hard links made
	Bytes int64 // content of the files
}

// Batch limits: files are made durable together once this many of them, or
// this many bytes of them, wait for their final names.
const (
	batchFiles = 1000
	batchBytes = 64 << 20
)

// maxPath bounds a path of the stream: Linux's PATH_MAX, which every path
// package tree walks stays within.
const maxPath = 4096

// tempPrefix starts the name of every temporary: hidden, and recognisably
// ogive's.
const tempPrefix = ".ogive-extract-"

// what is what the stream put at a path.
type what byte

const (
	wFile    what = iota + 1 // a regular file extracted (or a hard link to one)
	wSkipped                 // a regular file left out by Include
	wDir
	wSymlink
)

// dirState is what is known about a directory of the stream.
type dirState struct {
	header bool // its entry was seen: mode and mtime are the archive's
	mode   uint32
	mtime  time.Time
	ok     bool // it is a directory on disk, checked or made by this run
	made   bool // this run made it: Finish gives it its mode and time
}

// pending is a name waiting for the end of the batch: a temporary file to
// rename, or a hard link to make.
type pending struct {
	tmp    string // the temporary holding the file ("" for a hard link)
	target string // a hard link's first name
	final  string
	entry  string // the path as the stream names it, for errors
	size   int64
}

// Extractor writes one stream's entries under its destination. It is not
// safe for concurrent use.
type Extractor struct {
	parent   *os.Root // the directory that holds the destination
	root     *os.Root // the destination
	rootDir  *os.File // the destination, open, for syncs
	name     string
	top      string
	o        Options
	umask    uint32
	ctx      context.Context
	created  bool // New made the destination
	unsynced bool // and its name in parent is not yet durable

	seen    map[string]what      // path below top → what the stream put there
	dirs    map[string]*dirState // path below top → directory ("" is the top)
	batch   []pending
	bytes   int64
	touched map[string]bool   // directories whose entries changed since the last sync
	devs    map[uint64]string // file systems under the root other than its own → a directory on each
	rootDev uint64
	stats   Stats
	buf     []byte
	sum     hash.Hash

	err    error // the first failure: every later call returns it
	closed bool
}

// New prepares the extraction of a stream whose top directory is top (its
// entries are "top/", "top/a", ...) into parent/name. parent must exist.
// name is made, 0700 until Finish; if it is already a directory of the
// user's, the extraction goes into it, and no file in it is replaced
// without Force. After any error of the Extractor's methods, call Abort.
func New(parent, name, top string, o Options) (*Extractor, error) {
	if err := oneComponent(name); err != nil {
		return nil, fmt.Errorf("destination %q: %w", name, err)
	}
	if err := oneComponent(top); err != nil {
		return nil, fmt.Errorf("top directory %q: %w", top, err)
	}
	pr, err := os.OpenRoot(parent)
	if err != nil {
		return nil, err
	}
	x := &Extractor{
		parent: pr, name: name, top: top, o: o, umask: processUmask(),
		ctx:  context.Background(),
		seen: map[string]what{}, dirs: map[string]*dirState{},
		touched: map[string]bool{}, devs: map[uint64]string{}, buf: make([]byte, 256<<10),
	}
	if err := x.open(); err != nil {
		x.Abort()
		return nil, err
	}
	return x, nil
}

// oneComponent checks that s names an entry of a directory.
func oneComponent(s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\x00") {
		return errors.New("not a plain file name")
	}
	return nil
}

// open makes or checks the destination and opens it as the root.
func (x *Extractor) open() error {
	full := path.Join(x.parent.Name(), x.name)
	fi, err := x.parent.Lstat(x.name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = x.mkdir(x.parent, x.name)
		x.created = err == nil
	case err != nil:
	case fi.IsDir():
	case !x.o.Force:
		err = fmt.Errorf("%s: %w (not a directory)", full, ErrExists)
	default:
		if err = x.parent.Remove(x.name); err == nil {
			err = x.mkdir(x.parent, x.name)
			x.created = err == nil
		}
	}
	if err != nil {
		return err
	}
	if fi, err = x.parent.Lstat(x.name); err != nil {
		return err
	}
	if x.root, err = x.parent.OpenRoot(x.name); err != nil {
		return err
	}
	if x.rootDir, err = x.root.Open("."); err != nil {
		return err
	}
	st, err := x.rootDir.Stat()
	if err != nil {
		return err
	}
	// In a directory others may write to (/tmp), someone may have made the
	// destination before us, or swapped it since it was checked: a
	// directory of theirs is no place for the user's files.
	if !st.IsDir() || !os.SameFile(fi, st) {
		return fmt.Errorf("%s: %w: replaced while it was opened", full, ErrUnsafePath)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("%s: %w: owned by another user", full, ErrUnsafePath)
	}
	x.rootDev, _ = device(st)
	// Without an entry of its own, the top directory gets the usual mode.
	x.dirs[""] = &dirState{mode: 0o777 &^ x.umask, ok: true, made: x.created}
	x.unsynced = x.created
	if x.created {
		x.stats.Dirs++
	}
	return nil
}

// mkdir makes a directory 0700: while the extraction runs, no other local
// user can enter it, nor race it.
func (x *Extractor) mkdir(r *os.Root, name string) error {
	if err := r.Mkdir(name, 0o700); err != nil {
		return err
	}
	if x.umask&0o700 != 0 {
		return r.Chmod(name, 0o700)
	}
	return nil
}

// Stats reports what was made so far.
func (x *Extractor) Stats() Stats { return x.stats }

// Stream extracts every entry of the tar stream r. Cancelling ctx stops it
// between entries and within a file's content; what was not committed is
// left for Abort to remove.
func (x *Extractor) Stream(ctx context.Context, r io.Reader) error {
	if x.err != nil {
		return x.err
	}
	x.ctx = ctx
	defer func() { x.ctx = context.Background() }()
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return x.fail(err)
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return x.fail(fmt.Errorf("read the tar stream: %w", err))
		}
		if err := x.Entry(h, tr); err != nil {
			return err
		}
	}
}

func (x *Extractor) fail(err error) error {
	if x.err == nil {
		x.err = err
	}
	return x.err
}

// Entry extracts one entry, h with its content.
func (x *Extractor) Entry(h *tar.Header, content io.Reader) error {
	if x.err != nil {
		return x.err
	}
	if x.closed {
		return errors.New("extraction already finished")
	}
	if h == nil {
		return errors.New("no tar header")
	}
	if content == nil {
		content = strings.NewReader("")
	}
	if err := x.entry(h, content); err != nil {
		return x.fail(err)
	}
	return nil
}

func unsafePath(name, why string, args ...any) error {
	return fmt.Errorf("%q: %w: %s", name, ErrUnsafePath, fmt.Sprintf(why, args...))
}

// rel checks name, a path of the stream, and returns it below the top
// directory ("" for the top directory itself).
func (x *Extractor) rel(name string, dir bool) (string, error) {
	p := name
	if dir {
		p = strings.TrimSuffix(p, "/")
	}
	switch {
	case name == "":
		return "", unsafePath(name, "empty path")
	case strings.HasPrefix(name, "/"):
		return "", unsafePath(name, "absolute path")
	case strings.IndexByte(name, 0) >= 0:
		return "", unsafePath(name, "NUL byte in the path")
	case len(name) > maxPath:
		// No walk of a tree gives a longer path; a deeper one would cost
		// the extraction a system call per level for each of its entries.
		return "", unsafePath(name[:64]+"...", "path longer than %d bytes", maxPath)
	}
	parts := strings.Split(p, "/")
	for _, c := range parts {
		switch c {
		case "":
			return "", unsafePath(name, "empty path component")
		case ".", "..":
			return "", unsafePath(name, "%q path component", c)
		}
	}
	if parts[0] != x.top {
		return "", unsafePath(name, "outside the top directory %q", x.top)
	}
	return strings.Join(parts[1:], "/"), nil
}

// fsPath is rel as a name in the root.
func fsPath(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

func parentOf(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

func (x *Extractor) entry(h *tar.Header, content io.Reader) error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeXGlobalHeader:
		return nil // archive/tar has read it; it names nothing to extract
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	default:
		return unsafePath(h.Name, "entry of type %q is neither a file, a directory, a symbolic link nor a hard link", string(h.Typeflag))
	}
	// archive/tar expands a GNU sparse file's holes as it reads: a few bytes
	// of stream would write as much as the header claims, none of it
	// checked. §7.1 stores no sparse file (type 'S' is refused above).
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return unsafePath(h.Name, "sparse file (PAX record %q), which the format never stores", k)
		}
	}
	rel, err := x.rel(h.Name, h.Typeflag == tar.TypeDir)
	if err != nil {
		return err
	}
	if _, dup := x.seen[rel]; dup {
		return unsafePath(h.Name, "appears twice in the archive")
	}
	if rel == "" && h.Typeflag != tar.TypeDir {
		return unsafePath(h.Name, "the top of the archive is not a directory")
	}
	if h.Typeflag == tar.TypeDir {
		return x.dir(h, rel)
	}
	// Include selects what is not a directory; the directories on its way
	// are made for it.
	if x.o.Include != nil && !x.o.Include(rel) {
		if h.Typeflag == tar.TypeReg {
			x.seen[rel] = wSkipped
		}
		return nil
	}
	if err := x.ensureDir(h.Name, parentOf(rel)); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeReg:
		return x.file(h, rel, content)
	case tar.TypeSymlink:
		return x.symlink(h, rel)
	case tar.TypeLink:
		return x.hardlink(h, rel)
	}
	return nil
}

// dir remembers a directory's mode and time, and makes it if it is
// included.
func (x *Extractor) dir(h *tar.Header, rel string) error {
	x.seen[rel] = wDir
	d := x.dirs[rel]
	if d == nil {
		d = &dirState{}
		x.dirs[rel] = d
	}
	d.header, d.mode, d.mtime = true, uint32(h.Mode)&0o777&^x.umask, h.ModTime
	if rel == "" || (x.o.Include != nil && !x.o.Include(rel)) {
		return nil
	}
	return x.ensureDir(h.Name, rel)
}

// ensureDir makes sure rel and each directory above it is a directory on
// disk, not a symbolic link, making what is missing.
func (x *Extractor) ensureDir(entry, rel string) error {
	if d := x.dirs[rel]; d != nil && d.ok {
		return nil // the usual case: a directory already made or checked
	}
	for i := 0; i <= len(rel); i++ {
		if i == len(rel) || rel[i] == '/' {
			if err := x.ensureOne(entry, rel[:i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureOne makes sure rel, whose parent is a directory, is one too.
func (x *Extractor) ensureOne(entry, rel string) error {
	if d := x.dirs[rel]; d != nil && d.ok {
		return nil
	}
	switch x.seen[rel] {
	case wSymlink:
		return unsafePath(entry, "goes through the symbolic link %q", x.top+"/"+rel)
	case wFile, wSkipped:
		return unsafePath(entry, "goes through the file %q", x.top+"/"+rel)
	}
	d := x.dirs[rel]
	if d == nil {
		// No entry for it (yet): a directory made for what it holds gets the
		// usual mode, and keeps the time of its making.
		d = &dirState{mode: 0o777 &^ x.umask}
		x.dirs[rel] = d
	}
	fi, err := x.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("%q: %w", entry, err)
	case fi.IsDir():
		d.ok = true // the user's own: its mode and time are left alone
		if dev, ok := device(fi); ok && dev != x.rootDev && x.devs[dev] == "" {
			// A file system mounted in the destination: the batch's sync
			// must reach it too.
			x.devs[dev] = rel
		}
		return nil
	case fi.Mode()&fs.ModeSymlink != 0:
		return unsafePath(entry, "%q is a symbolic link on disk", x.top+"/"+rel)
	case !x.o.Force:
		return fmt.Errorf("%q: %w (not a directory)", x.top+"/"+rel, ErrExists)
	default:
		if err := x.root.Remove(rel); err != nil {
			return fmt.Errorf("%q: %w", entry, err)
		}
	}
	if err := x.mkdir(x.root, rel); err != nil {
		return fmt.Errorf("%q: %w", entry, err)
	}
	d.ok, d.made = true, true
	x.touched[parentOf(rel)] = true
	x.stats.Dirs++
	return nil
}

// device is the file system fi is on.
func device(fi fs.FileInfo) (uint64, bool) {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(sys.Dev), true
}

// free checks that nothing keeps an entry from the name rel: nothing is
// there, or Force is given and it is not a directory.
func (x *Extractor) free(entry, rel string) error {
	fi, err := x.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%q: %w", entry, err)
	case fi.IsDir():
		return fmt.Errorf("%q: %w (a directory, which is never replaced)", entry, ErrExists)
	case !x.o.Force:
		return fmt.Errorf("%q: %w", entry, ErrExists)
	}
	return nil
}

// tempName is a fresh name for a temporary in the directory of rel.
func tempName(rel string) string {
	var b [12]byte
	rand.Read(b[:])
	return path.Join(parentOf(rel), tempPrefix+hex.EncodeToString(b[:]))
}

// createTemp makes a new temporary file, 0600, beside rel.
func (x *Extractor) createTemp(rel string) (*os.File, string, error) {
	for range 10 {
		tmp := tempName(rel)
		f, err := x.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", fmt.Errorf("no free temporary name beside %s", rel)
}

// file writes a regular file to a temporary and adds it to the batch.
func (x *Extractor) file(h *tar.Header, rel string, content io.Reader) error {
	if err := x.free(h.Name, rel); err != nil {
		return err
	}
	f, tmp, err := x.createTemp(rel)
	if err != nil {
		return fmt.Errorf("%q: %w", h.Name, err)
	}
	n, err := x.write(h, f, tmp, content)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%q: %w", h.Name, cerr)
	}
	if err != nil {
		x.root.Remove(tmp)
		return err
	}
	x.seen[rel] = wFile
	x.batch = append(x.batch, pending{tmp: tmp, final: rel, entry: h.Name, size: n})
	x.bytes += n
	x.touched[parentOf(rel)] = true
	if len(x.batch) >= batchFiles || x.bytes >= batchBytes {
		return x.flush()
	}
	return nil
}

// write copies content into f, checks it, and gives f its mode and time.
func (x *Extractor) write(h *tar.Header, f *os.File, tmp string, content io.Reader) (int64, error) {
	want, check := [32]byte{}, false
	if x.o.Expect != nil {
		want, check = x.o.Expect(h.Name)
	}
	if check {
		if x.sum == nil {
			x.sum = sha256.New()
		}
		x.sum.Reset()
	}
	var n int64
	for {
		if err := x.ctx.Err(); err != nil {
			return n, fmt.Errorf("%q: %w", h.Name, err)
		}
		m, rerr := content.Read(x.buf)
		if m > 0 {
			if _, err := f.Write(x.buf[:m]); err != nil {
				return n, fmt.Errorf("%q: %w", h.Name, err)
			}
			if check {
				x.sum.Write(x.buf[:m])
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, fmt.Errorf("%q: %w", h.Name, rerr)
		}
	}
	if n != h.Size {
		return n, fmt.Errorf("%q: %d bytes of content, the header says %d: %w", h.Name, n, h.Size, io.ErrUnexpectedEOF)
	}
	if check {
		var got [32]byte
		if !bytes.Equal(x.sum.Sum(got[:0]), want[:]) {
			return n, fmt.Errorf("%q: %w", h.Name, ErrMismatch)
		}
	}
	// The mode is given on the temporary, in a directory made 0700 (or the
	// user's own): a second name that someone else gave it in between would
	// only let them do what the mode lets them do anyway.
	if err := f.Chmod(os.FileMode(uint32(h.Mode) & 0o777 &^ x.umask)); err != nil {
		x.notice("%q: its mode could not be set: %v", h.Name, err)
	}
	if err := x.setFileTime(f, tmp, h.ModTime); err != nil {
		x.notice("%q: its modification time could not be set: %v", h.Name, err)
	}
	if err := syncEach(f); err != nil {
		return n, fmt.Errorf("%q: %w", h.Name, err)
	}
	return n, nil
}

func (x *Extractor) notice(format string, args ...any) {
	if x.o.Notice != nil {
		x.o.Notice(fmt.Sprintf(format, args...))
	}
}

// symlink makes a symbolic link as stored; it is never followed.
func (x *Extractor) symlink(h *tar.Header, rel string) error {
	if h.Linkname == "" || strings.IndexByte(h.Linkname, 0) >= 0 {
		return fmt.Errorf("%q: symbolic link with an invalid target", h.Name)
	}
	if err := x.free(h.Name, rel); err != nil {
		return err
	}
	err := x.root.Symlink(h.Linkname, rel)
	if errors.Is(err, fs.ErrExist) && x.o.Force {
		// What is in the way (a file or a link, never a directory) is
		// replaced by the new link in one rename.
		tmp := tempName(rel)
		if err = x.root.Symlink(h.Linkname, tmp); err == nil {
			if err = x.rename(tmp, rel); err != nil {
				x.root.Remove(tmp)
			}
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%q: %w", h.Name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("%q: %w", h.Name, err)
	}
	x.seen[rel] = wSymlink
	x.touched[parentOf(rel)] = true
	x.stats.Links++
	if err := x.lchtimes(rel, h.ModTime); err != nil {
		x.notice("%q: its modification time could not be set: %v", h.Name, err)
	}
	return nil
}

// rename gives the temporary tmp the name rel, replacing a file or link
// there (never a directory).
func (x *Extractor) rename(tmp, rel string) error {
	if fi, err := x.root.Lstat(rel); err == nil && fi.IsDir() {
		return fmt.Errorf("%w (a directory, which is never replaced)", ErrExists)
	}
	return x.root.Rename(tmp, rel)
}

// hardlink adds a hard link to a file extracted before to the batch.
func (x *Extractor) hardlink(h *tar.Header, rel string) error {
	target, err := x.rel(h.Linkname, false)
	if err != nil {
		return unsafePath(h.Name, "hard link to %q, outside the archive", h.Linkname)
	}
	switch x.seen[target] {
	case wFile:
	case wSkipped:
		x.notice("%q: not extracted: it is a hard link to %q, which is not included", h.Name, h.Linkname)
		return nil
	default:
		return unsafePath(h.Name, "hard link to %q, not a file extracted before it", h.Linkname)
	}
	if err := x.free(h.Name, rel); err != nil {
		return err
	}
	x.seen[rel] = wFile
	x.batch = append(x.batch, pending{target: target, final: rel, entry: h.Name})
	x.touched[parentOf(rel)] = true
	if len(x.batch) >= batchFiles {
		return x.flush()
	}
	return nil
}

// flush makes the batch's files durable, then gives them their final names
// and syncs the directories that changed.
func (x *Extractor) flush() error {
	if len(x.batch) > 0 {
		if err := x.syncData(); err != nil {
			return fmt.Errorf("sync the extracted files: %w", err)
		}
	}
	for i, p := range x.batch {
		if err := x.commit(p); err != nil {
			x.batch = x.batch[i:] // what is left for Abort to remove
			return err
		}
	}
	x.batch, x.bytes = x.batch[:0], 0
	return x.syncDirs()
}

// commit gives one entry of the batch its final name.
func (x *Extractor) commit(p pending) error {
	src := p.tmp
	if src == "" {
		// A hard link is made under a temporary name when it must replace
		// something, so that the replacement is one rename.
		if !x.o.Force {
			if err := x.root.Link(p.target, p.final); err != nil {
				if errors.Is(err, fs.ErrExist) {
					err = ErrExists
				}
				return fmt.Errorf("%q: %w", p.entry, err)
			}
			x.stats.Links++
			return nil
		}
		src = tempName(p.final)
		if err := x.root.Link(p.target, src); err != nil {
			return fmt.Errorf("%q: %w", p.entry, err)
		}
	}
	var err error
	if x.o.Force {
		if err = x.rename(src, p.final); err != nil && p.tmp == "" {
			x.root.Remove(src)
		}
	} else {
		// No rename can fail if the name is taken: a second name for the
		// temporary, then the temporary's removal, can.
		err = x.root.Link(src, p.final)
		switch {
		case err == nil:
			err = x.root.Remove(src)
		case errors.Is(err, fs.ErrExist):
			err = ErrExists
		default:
			// A file system with no hard links: the name was checked free
			// when the file was written.
			if err = x.free(p.entry, p.final); err == nil {
				err = x.root.Rename(src, p.final)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%q: %w", p.entry, err)
	}
	if p.tmp == "" {
		x.stats.Links++
	} else {
		x.stats.Files++
		x.stats.Bytes += p.size
	}
	return nil
}

// syncDirs syncs the directories whose entries changed.
func (x *Extractor) syncDirs() error {
	dirs := make([]string, 0, len(x.touched))
	for d := range x.touched {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		if err := syncDir(x.root, fsPath(d)); err != nil {
			return fmt.Errorf("sync %s: %w", path.Join(x.top, d), err)
		}
		delete(x.touched, d)
	}
	if x.unsynced {
		if err := syncDir(x.parent, "."); err != nil {
			return fmt.Errorf("sync %s: %w", x.parent.Name(), err)
		}
		x.unsynced = false
	}
	return nil
}

func syncDir(r *os.Root, name string) error {
	d, err := r.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Finish commits what is left, gives the directories this run made their
// modes and times (deepest first, so that a directory's time is set after
// everything in it changed), and makes it all durable.
func (x *Extractor) Finish() error {
	if x.err != nil {
		return x.err
	}
	if x.closed {
		return errors.New("extraction already finished")
	}
	if err := x.flush(); err != nil {
		return x.fail(err)
	}
	made := x.madeDirs()
	for _, rel := range made {
		d := x.dirs[rel]
		name := path.Join(x.top, rel)
		if err := x.root.Chmod(fsPath(rel), os.FileMode(d.mode)); err != nil {
			x.notice("%q: its mode could not be set: %v", name, err)
		}
		if d.header {
			if err := x.root.Chtimes(fsPath(rel), time.Time{}, d.mtime); err != nil {
				x.notice("%q: its modification time could not be set: %v", name, err)
			}
		}
	}
	if err := x.syncMeta(made); err != nil {
		return x.fail(fmt.Errorf("sync the extracted directories: %w", err))
	}
	x.close()
	return nil
}

// madeDirs lists the directories this run made, deepest first: each one
// before the directory that holds it, so that a parent's mode cannot keep
// its children from getting theirs, nor their changes alter its time.
func (x *Extractor) madeDirs() []string {
	var made []string
	for rel, d := range x.dirs {
		if d.made {
			made = append(made, rel)
		}
	}
	slices.SortFunc(made, func(a, b string) int {
		return depth(b) - depth(a)
	})
	return made
}

// depth is how many directories down rel is ("" is 0).
func depth(rel string) int {
	if rel == "" {
		return 0
	}
	return strings.Count(rel, "/") + 1
}

// Abort removes the temporaries of files not yet committed and leaves
// everything committed as it is. It may be called at any time, also after
// Finish (it then does nothing).
func (x *Extractor) Abort() {
	if x.closed {
		return
	}
	for _, p := range x.batch {
		if p.tmp != "" {
			x.root.Remove(p.tmp)
		}
	}
	x.batch = nil
	x.close()
}

func (x *Extractor) close() {
	x.closed = true
	if x.rootDir != nil {
		x.rootDir.Close()
	}
	if x.root != nil {
		x.root.Close()
	}
	x.parent.Close()
}

// control runs op on f's descriptor.
func control(f *os.File, op func(fd int) error) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var oerr error
	if err := raw.Control(func(fd uintptr) { oerr = op(int(fd)) }); err != nil {
		return err
	}
	return oerr
}
