//go:build unix

package tree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The Unix walk reads the tree through descriptors: each directory is
// listed from a descriptor opened from its parent's (openat, O_NOFOLLOW),
// and checked to be the directory its parent's listing showed, so that
// another user who owns a directory of the tree and swaps it for a
// symbolic link, or for another directory, during the walk never leads it
// out of the tree.

// maxOpenDirs bounds the descriptors the walk keeps open, one per level:
// below that depth, a directory's descriptor is closed while its
// subdirectories are walked, and opened again from the root, checked level
// by level, when it has names left. Tests lower it.
var maxOpenDirs = 256

// beforeDescend, if not nil, is called between a directory's stat and its
// opening, with its path under the root: the window a racing user has.
// Tests set it.
var beforeDescend func(rel string)

const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// dirID is one directory on the way down from the root.
type dirID struct {
	name     string
	dev, ino uint64
}

type walker struct {
	root  string // as a path, for messages
	rootD int    // the root's descriptor, open for the whole walk
	visit func(*found) error
}

// walk calls visit for root and every name under it, in stream order: a
// directory's names sorted bytewise (as filepath.WalkDir sorts them), a
// directory before what it holds.
func walk(root string, visit func(*found) error) error {
	fd, err := openRetry(unix.AT_FDCWD, root, dirFlags)
	if err != nil {
		return &fs.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: root, Err: err}
	}
	w := &walker{root: root, rootD: fd, visit: visit}
	if err := visit(foundOf("", &st)); err != nil {
		return err
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "dup", Path: root, Err: err}
	}
	return w.dir(dup, "", nil)
}

// dir walks the directory open at fd, which it closes, whose path under
// the root is rel and whose directories from the root down are path.
func (w *walker) dir(fd int, rel string, path []dirID) (err error) {
	defer func() {
		if fd >= 0 {
			unix.Close(fd)
		}
	}()
	names, err := readNames(fd)
	if err != nil {
		return w.pathErr("read", rel, err)
	}
	for _, name := range names {
		if fd < 0 {
			// Let go while a subdirectory was walked: open it again.
			if fd, err = w.reopen(path); err != nil {
				return err
			}
		}
		crel := name
		if rel != "" {
			crel = rel + "/" + name
		}
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return w.pathErr("lstat", crel, err)
		}
		f := foundOf(crel, &st)
		if f.kind == Symlink {
			if f.link, err = readlinkat(fd, name); err != nil {
				return w.pathErr("readlink", crel, err)
			}
		}
		if err := w.visit(f); err != nil {
			return err
		}
		if f.kind != Dir {
			continue
		}
		if beforeDescend != nil {
			beforeDescend(crel)
		}
		id := dirID{name: name, dev: f.dev, ino: f.ino}
		cfd, err := openDir(fd, id)
		if err != nil {
			return w.changed(crel, err)
		}
		if len(path)+1 >= maxOpenDirs {
			unix.Close(fd)
			fd = -1
		}
		if err := w.dir(cfd, crel, append(path[:len(path):len(path)], id)); err != nil {
			return err
		}
	}
	return nil
}

// reopen opens the directory at path again from the root, each level
// without following a link and checked to be the directory the walk found.
func (w *walker) reopen(path []dirID) (int, error) {
	fd, err := unix.FcntlInt(uintptr(w.rootD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, w.pathErr("dup", "", err)
	}
	for i, id := range path {
		next, err := openDir(fd, id)
		unix.Close(fd)
		if err != nil {
			return -1, w.changed(joinIDs(path[:i+1]), err)
		}
		fd = next
	}
	return fd, nil
}

func joinIDs(path []dirID) string {
	names := make([]string, len(path))
	for i, id := range path {
		names[i] = id.name
	}
	return strings.Join(names, "/")
}

// errOther means a name holds another file than the walk found there.
var errOther = errors.New("another file under its name")

// openDir opens the directory id in the directory at parent, without
// following a link, and checks it is the one the walk found.
func openDir(parent int, id dirID) (int, error) {
	fd, err := openRetry(parent, id.name, dirFlags)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if uint64(st.Ino) != id.ino || uint64(st.Dev) != id.dev {
		unix.Close(fd)
		return -1, errOther
	}
	return fd, nil
}

func (w *walker) pathErr(op, rel string, err error) error {
	return &fs.PathError{Op: op, Path: filepath.Join(w.root, filepath.FromSlash(rel)), Err: err}
}

func (w *walker) changed(rel string, err error) error {
	return fmt.Errorf("%s: %w (%v)", filepath.Join(w.root, filepath.FromSlash(rel)), ErrChanged, err)
}

// readlinkat reads the target of the symbolic link name in the directory
// at dir.
func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

func openRetry(dir int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dir, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// statFile is what same compares, from f's own fstat.
func statFile(f *os.File) (fileState, error) {
	var st unix.Stat_t
	raw, err := f.SyscallConn()
	if err != nil {
		return fileState{}, err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil {
		return fileState{}, err
	}
	if serr != nil {
		return fileState{}, &fs.PathError{Op: "stat", Path: f.Name(), Err: serr}
	}
	return fileState{
		regular: st.Mode&unix.S_IFMT == unix.S_IFREG,
		size:    st.Size,
		mtime:   time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)),
		hasID:   true, ino: uint64(st.Ino), dev: uint64(st.Dev),
		ctime: int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec),
	}, nil
}

// foundOf is what a stat says of the name at rel.
func foundOf(rel string, st *unix.Stat_t) *found {
	f := &found{
		rel:   rel,
		mode:  fs.FileMode(uint32(st.Mode) & 0o777),
		mtime: time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)),
		uid:   int(st.Uid), gid: int(st.Gid),
		ino: uint64(st.Ino), dev: uint64(st.Dev), nlink: uint64(st.Nlink),
		ctime: int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec),
	}
	if st.Mode&unix.S_ISUID != 0 {
		f.mode |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISGID != 0 {
		f.mode |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		f.mode |= fs.ModeSticky
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		f.kind = Dir
	case unix.S_IFREG:
		f.kind, f.size = File, st.Size
	case unix.S_IFLNK:
		f.kind = Symlink
	}
	return f
}

// fileFlags open a file for its content: never through a link, and
// O_NONBLOCK, so that a FIFO put in its place does not hang the read.
const fileFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC

// open opens the file of e for reading without following a link in any
// component: the root again (O_NOFOLLOW, checked to be the directory the
// walk read), then the file's path under it, in one call where the system
// has one that refuses every link (openBeneath: openat2 on Linux), else
// each directory down from the root by descriptor (O_NOFOLLOW) and the file
// itself O_NOFOLLOW. The caller checks it is the file the walk found.
func (t *Tree) open(e *Entry) (*os.File, error) {
	fd, err := t.rootFD()
	if err != nil {
		return nil, err
	}
	if ffd, ok, err := openBeneath(fd, e.rel); err != nil {
		return nil, err
	} else if ok {
		return fileOf(ffd, t.src(e)), nil
	}
	parts := strings.Split(e.rel, "/")
	dir := fd
	for _, name := range parts[:len(parts)-1] {
		next, err := openRetry(dir, name, dirFlags)
		if dir != fd {
			unix.Close(dir)
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		dir = next
	}
	ffd, err := openRetry(dir, parts[len(parts)-1], fileFlags)
	if dir != fd {
		unix.Close(dir)
	}
	if err != nil {
		return nil, err
	}
	return fileOf(ffd, t.src(e)), nil
}

// fileOf makes the file open as fd, opened O_NONBLOCK, an *os.File. It is
// made blocking again first: os.NewFile would otherwise hand a descriptor
// left non-blocking to the poller, which on the BSDs and macOS (kqueue)
// accepts a regular file and reports it wrongly. Only a regular file is
// ever read (same checks first), which never blocks for long.
func fileOf(fd int, name string) *os.File {
	_ = unix.SetNonblock(fd, false)
	return os.NewFile(uintptr(fd), name)
}

// rootFD is the root directory, opened without following a link the first
// time a file is opened and checked to be the directory the walk read; it
// stays open, for every later file, until Close. A failure is not kept: the
// next file tries again.
func (t *Tree) rootFD() (int, error) {
	t.root.mu.Lock()
	defer t.root.mu.Unlock()
	if t.root.open {
		return t.root.fd, nil
	}
	root := filepath.Clean(t.Root)
	fd, err := openRetry(unix.AT_FDCWD, root, dirFlags)
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return 0, &fs.PathError{Op: "stat", Path: root, Err: err}
	}
	if uint64(st.Ino) != t.rootIno || uint64(st.Dev) != t.rootDev {
		unix.Close(fd)
		return 0, &fs.PathError{Op: "open", Path: root, Err: errOther}
	}
	t.root.fd, t.root.open = fd, true
	return fd, nil
}

// Close releases the root directory's descriptor, if a file was opened.
// The tree can still be read after: the root is opened, and checked, again.
func (t *Tree) Close() error {
	t.root.mu.Lock()
	defer t.root.mu.Unlock()
	if !t.root.open {
		return nil
	}
	err := unix.Close(t.root.fd)
	t.root.open = false
	return err
}
