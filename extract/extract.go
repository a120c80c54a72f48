//go:build unix

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
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

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
	ok     bool   // it is a directory on disk, checked or made by this run
	made   bool   // this run made it: Finish gives it its mode and time
	id     fileID // which directory it is, once ok
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
	rootDir  *os.File // the destination, open
	rootFD   int      // rootDir's descriptor
	name     string
	top      string
	o        Options
	umask    uint32
	ctx      context.Context
	created  bool // New made the destination
	unsynced bool // and its name in parent is not yet durable

	seen    map[string]what      // path below top → what the stream put there
	dirs    map[string]*dirState // path below top → directory ("" is the top)
	stack   []level              // the directories of the current path, open
	batch   []pending
	bytes   int64
	touched map[string]bool   // directories whose entries changed since the last sync
	devs    map[uint64]string // file systems under the root other than its own → a directory on each
	rootDev uint64
	stats   Stats
	buf     []byte
	sum     hash.Hash
	pool    *pool // writes small files in parallel, once started

	noticeMu sync.Mutex // Notice may be called from the pool's goroutines

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
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no device and inode numbers", full)
	}
	if int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("%s: %w: owned by another user", full, ErrUnsafePath)
	}
	// One just made has mkdirMode and is empty: anything else was exchanged
	// for it (renameat2 RENAME_EXCHANGE) by someone who can write to its
	// parent.
	if x.created {
		var ust unix.Stat_t
		if err := unix.Fstat(int(x.rootDir.Fd()), &ust); err != nil || !x.justMade(&ust, int(x.rootDir.Fd())) {
			return fmt.Errorf("%s: %w: replaced as it was made", full, ErrUnsafePath)
		}
		if err := unix.Fchmod(int(x.rootDir.Fd()), 0o700); err != nil {
			return err
		}
	}
	x.rootDev = uint64(sys.Dev)
	x.rootFD = int(x.rootDir.Fd())
	x.stack = []level{{rel: "", fd: x.rootFD}}
	// Without an entry of its own, the top directory gets the usual mode.
	x.dirs[""] = &dirState{mode: 0o777 &^ x.umask, ok: true, made: x.created,
		id: fileID{uint64(sys.Dev), uint64(sys.Ino)}}
	x.unsynced = x.created
	if x.created {
		x.stats.Dirs++
	}
	return nil
}

// mkdir makes the destination: 0700 while the extraction runs, so that no
// other local user can enter it, nor race it.
func (x *Extractor) mkdir(r *os.Root, name string) error {
	// Made with mkdirMode, then checked and given 0700 through its
	// descriptor by open.
	return r.Mkdir(name, mkdirMode)
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

// Entry extracts one entry, h with its content. A file's content is read
// before Entry returns, but may be written after: an error writing it is
// returned by a later call.
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
		// No walk of a tree gives a longer path.
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
	if err := x.poolErr(); err != nil {
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
	if _, err := x.openDir(h.Name, parentOf(rel), true); err != nil {
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
	_, err := x.openDir(h.Name, rel, true)
	return err
}

// tempBase is a fresh name for a temporary.
func tempBase() string {
	var b [12]byte
	rand.Read(b[:])
	return tempPrefix + hex.EncodeToString(b[:])
}

// createTemp makes a new temporary file, 0600, in the directory pfd, which
// holds rel.
func (x *Extractor) createTemp(pfd int, rel string) (*os.File, string, error) {
	for range 10 {
		base := tempBase()
		fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		tmp := path.Join(parentOf(rel), base)
		if err != nil {
			return nil, "", x.pathErr("create", tmp, err)
		}
		return os.NewFile(uintptr(fd), path.Join(x.top, tmp)), tmp, nil
	}
	return nil, "", fmt.Errorf("no free temporary name beside %s", rel)
}

// file writes a regular file to a temporary and adds it to the batch: a
// small one by the pool, once its content is read, a large one here.
func (x *Extractor) file(h *tar.Header, rel string, content io.Reader) error {
	want, check := [32]byte{}, false
	if x.o.Expect != nil {
		want, check = x.o.Expect(h.Name)
	}
	var buf []byte
	small := h.Size >= 0 && h.Size <= smallFile
	if small {
		var err error
		if buf, err = x.readSmall(h, content); err != nil {
			return err
		}
	}
	pfd, err := x.openDir(h.Name, parentOf(rel), false)
	if err == nil && !x.dirs[parentOf(rel)].made {
		// In a directory this run made, only the stream put names, and it
		// names nothing twice.
		err = x.freeAt(h.Name, pfd, baseOf(rel))
	}
	var f *os.File
	var tmp string
	if err == nil {
		if f, tmp, err = x.createTemp(pfd, rel); err != nil {
			err = fmt.Errorf("%q: %w", h.Name, err)
		}
	}
	if err != nil {
		if small {
			x.pool.free <- buf
		}
		return err
	}
	j := job{f: f, data: buf, name: h.Name, mode: os.FileMode(uint32(h.Mode) & 0o777 &^ x.umask),
		mtime: h.ModTime, want: want, check: check}
	if !small {
		if x.sum == nil {
			x.sum = sha256.New()
		}
		err = x.write(j, content, h.Size)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("%q: %w", h.Name, cerr)
		}
		if err != nil {
			unix.Unlinkat(pfd, baseOf(tmp), 0)
			return err
		}
	}
	// From here the temporary is in the batch: Abort removes it, whatever
	// the pool does with it.
	x.seen[rel] = wFile
	x.batch = append(x.batch, pending{tmp: tmp, final: rel, entry: h.Name, size: h.Size})
	x.bytes += h.Size
	x.touched[parentOf(rel)] = true
	if small {
		x.pool.run(j)
	}
	if len(x.batch) >= batchFiles || x.bytes >= batchBytes {
		return x.flush()
	}
	return nil
}

// readSmall reads a small file's content into a buffer of the pool.
func (x *Extractor) readSmall(h *tar.Header, content io.Reader) ([]byte, error) {
	if x.pool == nil {
		x.pool = newPool(x)
	}
	buf := <-x.pool.free
	if int64(cap(buf)) < h.Size {
		buf = make([]byte, h.Size)
	}
	buf = buf[:h.Size]
	n, err := io.ReadFull(content, buf)
	if err == nil {
		// The content must end where the header says.
		var one [1]byte
		var m int
		m, err = io.ReadFull(content, one[:])
		n += m
		switch {
		case err == io.EOF:
			err = nil
		case err == nil:
			err = fmt.Errorf("more content than the header's %d bytes", h.Size)
		}
	} else if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		x.pool.free <- buf
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%d bytes of content, the header says %d: %w", n, h.Size, err)
		}
		return nil, fmt.Errorf("%q: %w", h.Name, err)
	}
	return buf, nil
}

// write copies a large file's content into j.f, checks it, and gives the
// file its mode and time.
func (x *Extractor) write(j job, content io.Reader, size int64) error {
	if j.check {
		x.sum.Reset()
	}
	var n int64
	for {
		if err := x.ctx.Err(); err != nil {
			return fmt.Errorf("%q: %w", j.name, err)
		}
		m, rerr := content.Read(x.buf)
		if m > 0 {
			if _, err := j.f.Write(x.buf[:m]); err != nil {
				return fmt.Errorf("%q: %w", j.name, err)
			}
			if j.check {
				x.sum.Write(x.buf[:m])
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("%q: %w", j.name, rerr)
		}
	}
	if n != size {
		return fmt.Errorf("%q: %d bytes of content, the header says %d: %w", j.name, n, size, io.ErrUnexpectedEOF)
	}
	var sum []byte
	if j.check {
		sum = x.sum.Sum(nil)
	}
	return x.seal(j, sum)
}

// seal checks a written file's sum (when it is to be checked), and gives
// it its mode and time.
func (x *Extractor) seal(j job, sum []byte) error {
	if j.check {
		if !bytes.Equal(sum, j.want[:]) {
			return fmt.Errorf("%q: %w", j.name, ErrMismatch)
		}
	}
	// The mode is given on the temporary, in a directory made 0700 (or the
	// user's own): a second name that someone else gave it in between would
	// only let them do what the mode lets them do anyway.
	if err := j.f.Chmod(j.mode); err != nil {
		x.notice("%q: its mode could not be set: %v", j.name, err)
	}
	if err := control(j.f, func(fd int) error { return futimens(fd, j.mtime) }); err != nil {
		x.notice("%q: its modification time could not be set: %v", j.name, err)
	}
	if err := syncEach(j.f); err != nil {
		return fmt.Errorf("%q: %w", j.name, err)
	}
	return nil
}

func (x *Extractor) notice(format string, args ...any) {
	if x.o.Notice != nil {
		x.noticeMu.Lock()
		defer x.noticeMu.Unlock()
		x.o.Notice(fmt.Sprintf(format, args...))
	}
}

// symlink makes a symbolic link as stored; it is never followed.
func (x *Extractor) symlink(h *tar.Header, rel string) error {
	if h.Linkname == "" || strings.IndexByte(h.Linkname, 0) >= 0 {
		return fmt.Errorf("%q: symbolic link with an invalid target", h.Name)
	}
	pfd, err := x.openDir(h.Name, parentOf(rel), false)
	if err != nil {
		return err
	}
	base := baseOf(rel)
	if err := x.freeAt(h.Name, pfd, base); err != nil {
		return err
	}
	err = unix.Symlinkat(h.Linkname, pfd, base)
	if errors.Is(err, unix.EEXIST) && x.o.Force {
		// What is in the way (a file or a link, never a directory) is
		// replaced by the new link in one rename.
		tmp := tempBase()
		if err = unix.Symlinkat(h.Linkname, pfd, tmp); err == nil {
			if err = replace(pfd, tmp, base); err != nil {
				unix.Unlinkat(pfd, tmp, 0)
			}
		}
	}
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%q: %w", h.Name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("%q: %w", h.Name, err)
	}
	x.seen[rel] = wSymlink
	x.touched[parentOf(rel)] = true
	x.stats.Links++
	if err := lchtimes(pfd, base, h.ModTime); err != nil {
		x.notice("%q: its modification time could not be set: %v", h.Name, err)
	}
	return nil
}

// replace gives tmp, in the directory pfd, the name base there, replacing
// a file or link (never a directory: a rename refuses to).
func replace(pfd int, tmp, base string) error {
	err := unix.Renameat(pfd, tmp, pfd, base)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%w (a directory, which is never replaced)", ErrExists)
	}
	return err
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
	pfd, err := x.openDir(h.Name, parentOf(rel), false)
	if err != nil {
		return err
	}
	if err := x.freeAt(h.Name, pfd, baseOf(rel)); err != nil {
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

// flush waits for the pool's files, makes the batch's files durable, then
// gives them their final names and syncs the directories that changed.
func (x *Extractor) flush() error {
	if err := x.pool.wait(); err != nil {
		return err
	}
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
	if p.tmp == "" {
		return x.commitLink(p)
	}
	pfd, err := x.openDir(p.entry, parentOf(p.final), false)
	if err != nil {
		return err
	}
	if x.o.Force {
		err = replace(pfd, baseOf(p.tmp), baseOf(p.final))
	} else if err = noReplace(pfd, baseOf(p.tmp), baseOf(p.final)); errors.Is(err, unix.EEXIST) {
		err = ErrExists
	}
	if err != nil {
		return fmt.Errorf("%q: %w", p.entry, err)
	}
	x.stats.Files++
	x.stats.Bytes += p.size
	return nil
}

// commitLink makes a hard link of the batch, to a file committed before
// it.
func (x *Extractor) commitLink(p pending) error {
	tfd, err := x.openDir(p.entry, parentOf(p.target), false)
	if err != nil {
		return err
	}
	// Opening the link's directory may close the target's.
	if tfd, err = unix.Dup(tfd); err != nil {
		return fmt.Errorf("%q: %w", p.entry, err)
	}
	defer unix.Close(tfd)
	pfd, err := x.openDir(p.entry, parentOf(p.final), false)
	if err != nil {
		return err
	}
	base := baseOf(p.final)
	if !x.o.Force {
		err = unix.Linkat(tfd, baseOf(p.target), pfd, base, 0)
		if errors.Is(err, unix.EEXIST) {
			err = ErrExists
		}
	} else {
		// Made under a temporary name, so that the replacement is one
		// rename.
		tmp := tempBase()
		if err = unix.Linkat(tfd, baseOf(p.target), pfd, tmp, 0); err == nil {
			if err = replace(pfd, tmp, base); err != nil {
				unix.Unlinkat(pfd, tmp, 0)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%q: %w", p.entry, err)
	}
	x.stats.Links++
	return nil
}

// cmpPath orders paths so that a directory's whole subtree follows it
// before anything else does ('/' sorts first).
func cmpPath(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		return int(ca) - int(cb)
	}
	return len(a) - len(b)
}

// syncDirs syncs the directories whose entries changed.
func (x *Extractor) syncDirs() error {
	dirs := make([]string, 0, len(x.touched))
	for d := range x.touched {
		dirs = append(dirs, d)
	}
	slices.SortFunc(dirs, cmpPath)
	for _, d := range dirs {
		fd, err := x.openDir(x.top+"/"+d, d, false)
		if err == nil {
			err = syncDirAt(fd)
		}
		if err != nil {
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
	if err := x.flushDrives(); err != nil {
		return fmt.Errorf("sync the extracted directories: %w", err)
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
// everything in it changed), and makes it all durable. On failure it
// removes what Abort would.
func (x *Extractor) Finish() error {
	if x.err != nil {
		return x.err
	}
	if x.closed {
		return errors.New("extraction already finished")
	}
	if err := x.flush(); err != nil {
		x.fail(err)
		x.Abort()
		return err
	}
	made := x.madeDirs()
	for _, rel := range made {
		if err := x.setDirMeta(rel, x.dirs[rel]); err != nil {
			x.fail(fmt.Errorf("sync %s: %w", path.Join(x.top, rel), err))
			x.Abort()
			return x.err
		}
	}
	if err := x.syncMeta(made); err != nil {
		x.fail(fmt.Errorf("sync the extracted directories: %w", err))
		x.Abort()
		return x.err
	}
	x.close()
	return nil
}

// setDirMeta gives a directory this run made its mode and time, through a
// descriptor of it opened without following a link and checked to be the
// directory made: someone who may rename in its parent (a directory of
// theirs the user extracts into) may have put something else there. Where
// there is no syncfs, the directory is fsynced through that same
// descriptor (syncMadeDir): its mode may no longer let it be opened again.
// Only that sync's failure is an error; the rest are notices.
func (x *Extractor) setDirMeta(rel string, d *dirState) error {
	name := path.Join(x.top, rel)
	fd := x.rootFD
	if rel != "" {
		pfd, err := x.openDir(name, parentOf(rel), false)
		if err == nil {
			fd, err = unix.Openat(pfd, baseOf(rel), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			x.notice("%q: its mode and time were not set: %v", name, err)
			return nil
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || statID(&st) != d.id {
			x.notice("%q: its mode and time were not set: it was replaced while the extraction ran", name)
			return nil
		}
	}
	if err := unix.Fchmod(fd, d.mode); err != nil {
		x.notice("%q: its mode could not be set: %v", name, err)
	}
	if d.header {
		if err := futimens(fd, d.mtime); err != nil {
			x.notice("%q: its modification time could not be set: %v", name, err)
		}
	}
	return syncMadeDir(fd)
}

// madeDirs lists the directories this run made, deepest first: each one
// before the directory that holds it, so that a parent's mode cannot keep
// its children from getting theirs, nor their changes alter its time.
// (Each subtree together, so that reaching them costs a step each.)
func (x *Extractor) madeDirs() []string {
	var made []string
	for rel, d := range x.dirs {
		if d.made {
			made = append(made, rel)
		}
	}
	slices.SortFunc(made, func(a, b string) int { return cmpPath(b, a) })
	return made
}

// Abort removes the temporaries of files not yet committed and leaves
// everything committed as it is. It may be called at any time, also after
// Finish (it then does nothing).
func (x *Extractor) Abort() {
	if x.closed {
		return
	}
	x.pool.stop()
	for _, p := range x.batch {
		if p.tmp == "" {
			continue
		}
		if pfd, err := x.openDir(p.entry, parentOf(p.tmp), false); err == nil {
			unix.Unlinkat(pfd, baseOf(p.tmp), 0)
		}
	}
	x.batch = nil
	x.close()
}

func (x *Extractor) close() {
	x.closed = true
	x.pool.stop()
	x.closeDirs()
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
