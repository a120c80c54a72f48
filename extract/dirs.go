//go:build unix

package extract

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// The directories of the destination are reached one component at a time,
// each opened relative to its parent's descriptor without following a
// link, and checked against the (device, inode) recorded when this run made
// or first checked it. The directories of the path the extraction is at
// stay open on a stack: the stream is depth-first, so an entry usually
// costs no walk at all, and a path costs one step per component, never one
// walk from the destination per component (a crafted stream of deep paths
// would otherwise cost the square of their depth).

// fileID identifies a directory on disk.
type fileID struct{ dev, ino uint64 }

func statID(st *unix.Stat_t) fileID { return fileID{uint64(st.Dev), uint64(st.Ino)} }

// level is one directory of the path the extraction is at.
type level struct {
	rel string
	fd  int // -1 once closed, to bound the descriptors held
}

// maxOpenLevels bounds the descriptors the stack keeps open: the deepest
// ones; a closed level is opened again through ".." of its child, checked.
const maxOpenLevels = 32

// within reports whether a is rel or a directory above it.
func within(a, rel string) bool {
	return a == "" || rel == a || len(rel) > len(a) && rel[len(a)] == '/' && rel[:len(a)] == a
}

// baseOf is the last component of rel.
func baseOf(rel string) string {
	return rel[strings.LastIndexByte(rel, '/')+1:]
}

// pathErr words a failed system call on rel for the user.
func (x *Extractor) pathErr(op, rel string, err error) error {
	return &fs.PathError{Op: op, Path: x.top + "/" + rel, Err: err}
}

// openDir returns a descriptor of the directory rel, valid until the next
// call of openDir. With create, the directories missing on the way are
// made (and those of the user's already there checked and recorded);
// without, each must be one this run made or checked. entry names the
// stream's entry, for errors.
func (x *Extractor) openDir(entry, rel string, create bool) (int, error) {
	for len(x.stack) > 1 && !within(x.stack[len(x.stack)-1].rel, rel) {
		x.pop()
	}
	if err := x.reopen(); err != nil {
		return -1, err
	}
	for {
		top := x.stack[len(x.stack)-1]
		if top.rel == rel {
			return top.fd, nil
		}
		start := len(top.rel)
		if start > 0 {
			start++
		}
		end := strings.IndexByte(rel[start:], '/')
		if end < 0 {
			end = len(rel)
		} else {
			end += start
		}
		next := rel[:end]
		var fd int
		var err error
		if d := x.dirs[next]; d != nil && d.ok {
			fd, err = x.openKnown(top.fd, baseOf(next), next, d)
		} else if create {
			fd, err = x.ensureOne(entry, top.fd, next)
		} else {
			err = unsafePath(entry, "%q is not a directory of this extraction", x.top+"/"+next)
		}
		if err != nil {
			return -1, err
		}
		x.push(next, fd)
	}
}

// push opens a level, closing the one that falls out of the window.
func (x *Extractor) push(rel string, fd int) {
	x.stack = append(x.stack, level{rel: rel, fd: fd})
	if i := len(x.stack) - 1 - maxOpenLevels; i > 0 && x.stack[i].fd >= 0 {
		unix.Close(x.stack[i].fd)
		x.stack[i].fd = -1
	}
}

// pop closes the deepest level; its parent, if closed, is opened again
// through "..", if that is still the directory recorded.
func (x *Extractor) pop() {
	n := len(x.stack)
	child, parent := x.stack[n-1], &x.stack[n-2]
	x.stack = x.stack[:n-1]
	if child.fd < 0 {
		return
	}
	if parent.fd < 0 {
		if d := x.dirs[parent.rel]; d != nil {
			if fd, err := x.openKnown(child.fd, "..", parent.rel, d); err == nil {
				parent.fd = fd
			}
		}
	}
	unix.Close(child.fd)
}

// reopen opens the deepest level again if it was closed, walking from the
// deepest one open (the destination's at worst).
func (x *Extractor) reopen() error {
	n := len(x.stack)
	if x.stack[n-1].fd >= 0 {
		return nil
	}
	j := n - 1
	for x.stack[j].fd < 0 {
		j--
	}
	fd := x.stack[j].fd
	for k := j + 1; k < n; k++ {
		l := x.stack[k]
		nfd, err := x.openKnown(fd, baseOf(l.rel), l.rel, x.dirs[l.rel])
		if fd != x.stack[j].fd {
			unix.Close(fd)
		}
		if err != nil {
			return err
		}
		fd = nfd
	}
	x.stack[n-1].fd = fd
	return nil
}

// dirFlags open a directory to reach what it holds: never through a link.
const dirFlags = openPath | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// openKnown opens rel, a directory this run made or checked, as name in
// pfd (its parent, or its child with ".."), and checks it is still that
// directory.
func (x *Extractor) openKnown(pfd int, name, rel string, d *dirState) (int, error) {
	if d == nil || !d.ok {
		return -1, unsafePath(x.top+"/"+rel, "not a directory of this extraction")
	}
	fd, err := unix.Openat(pfd, name, dirFlags, 0)
	if err != nil {
		return -1, x.pathErr("open", rel, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, x.pathErr("stat", rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || statID(&st) != d.id {
		unix.Close(fd)
		return -1, unsafePath(x.top+"/"+rel, "replaced while the extraction ran")
	}
	return fd, nil
}

// ensureOne makes sure rel, in the directory pfd, is a directory, making
// it if it is missing, and returns it open.
func (x *Extractor) ensureOne(entry string, pfd int, rel string) (int, error) {
	switch x.seen[rel] {
	case wSymlink:
		return -1, unsafePath(entry, "goes through the symbolic link %q", x.top+"/"+rel)
	case wFile, wSkipped:
		return -1, unsafePath(entry, "goes through the file %q", x.top+"/"+rel)
	}
	d := x.dirs[rel]
	if d == nil {
		// No entry for it (yet): a directory made for what it holds gets the
		// usual mode, and keeps the time of its making.
		d = &dirState{mode: 0o777 &^ x.umask}
		x.dirs[rel] = d
	}
	base := baseOf(rel)
	fd, err := unix.Openat(pfd, base, dirFlags, 0)
	switch {
	case err == nil:
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, x.pathErr("stat", rel, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			unix.Close(fd)
			return -1, unsafePath(entry, "%q is not a directory on disk", x.top+"/"+rel)
		}
		// The user's own: its mode and time are left alone.
		d.ok, d.id = true, statID(&st)
		if dev := uint64(st.Dev); dev != x.rootDev && x.devs[dev] == "" {
			// A file system mounted in the destination: the batch's sync
			// must reach it too.
			x.devs[dev] = rel
		}
		return fd, nil
	case errors.Is(err, unix.ENOENT):
	case errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EMLINK):
		// Not a directory, or a link (O_NOFOLLOW: ELOOP, EMLINK on FreeBSD).
		var st unix.Stat_t
		if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return -1, x.pathErr("lstat", rel, err)
		}
		switch {
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			return -1, unsafePath(entry, "%q is a symbolic link on disk", x.top+"/"+rel)
		case !x.o.Force:
			return -1, fmt.Errorf("%q: %w (not a directory)", x.top+"/"+rel, ErrExists)
		}
		if err := unix.Unlinkat(pfd, base, 0); err != nil {
			return -1, x.pathErr("remove", rel, err)
		}
	default:
		return -1, x.pathErr("open", rel, err)
	}
	if err := unix.Mkdirat(pfd, base, mkdirMode); err != nil {
		return -1, x.pathErr("mkdir", rel, err)
	}
	fd, err = unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, x.pathErr("open", rel, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, x.pathErr("stat", rel, err)
	}
	// In a directory others may write to, the one just made may have been
	// swapped for one of theirs, or exchanged for one of the user's own
	// (renameat2 RENAME_EXCHANGE): a directory just made is empty.
	if !x.justMade(&st, fd) {
		unix.Close(fd)
		return -1, unsafePath(entry, "%q was replaced as it was made", x.top+"/"+rel)
	}
	if st.Mode&0o777 != 0o700 {
		if err := unix.Fchmod(fd, 0o700); err != nil {
			unix.Close(fd)
			return -1, x.pathErr("chmod", rel, err)
		}
	}
	d.ok, d.made, d.id = true, true, statID(&st)
	x.touched[parentOf(rel)] = true
	x.stats.Dirs++
	return fd, nil
}

// closeDirs closes every level but the destination's.
func (x *Extractor) closeDirs() {
	for len(x.stack) > 1 {
		l := x.stack[len(x.stack)-1]
		x.stack = x.stack[:len(x.stack)-1]
		if l.fd >= 0 {
			unix.Close(l.fd)
		}
	}
}

// freeAt checks that nothing keeps an entry from the name base in pfd:
// nothing is there, or Force is given and it is not a directory.
func (x *Extractor) freeAt(entry string, pfd int, base string) error {
	var st unix.Stat_t
	err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil
	case err != nil:
		return fmt.Errorf("%q: %w", entry, err)
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return fmt.Errorf("%q: %w (a directory, which is never replaced)", entry, ErrExists)
	case !x.o.Force:
		return fmt.Errorf("%q: %w", entry, ErrExists)
	}
	return nil
}

// syncDirAt syncs the directory open as fd.
func syncDirAt(fd int) error {
	sfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	return unix.Fsync(sfd)
}

// noReplace gives tmp, in the directory pfd, the name base there, never
// replacing what has that name.
func noReplace(pfd int, tmp, base string) error {
	err := renameNoReplace(pfd, tmp, base)
	if err == nil || !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOTSUP) {
		return err
	}
	return linkNoReplace(pfd, tmp, base)
}

// linkNoReplace is noReplace where no rename refuses to replace: a second
// name for the temporary, then the temporary's removal.
func linkNoReplace(pfd int, tmp, base string) error {
	err := unix.Linkat(pfd, tmp, pfd, base, 0)
	switch {
	case err == nil:
		return unix.Unlinkat(pfd, tmp, 0)
	case errors.Is(err, unix.EEXIST):
		return err
	}
	// A file system with no hard links: the name was free when the file
	// was written, and is checked again.
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		return unix.EEXIST
	} else if !errors.Is(err, unix.ENOENT) {
		return err
	}
	return unix.Renameat(pfd, tmp, pfd, base)
}

// emptyDir reports whether the directory open as fd holds nothing but "."
// and "..". It reads through its own descriptor, so fd's offset is left
// alone.
func emptyDir(fd int) bool {
	dup, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(dup), ".")
	defer f.Close()
	names, err := f.Readdirnames(1)
	return len(names) == 0 && err == io.EOF
}

// mkdirMode is the mode a directory is made with: an odd one, which tells
// the directory just made from one of the user's exchanged for it
// (renameat2 RENAME_EXCHANGE, by someone who can write to its parent)
// between the mkdir and the open. It has no write bit for anyone, and gets
// 0700 through the opened descriptor once checked.
const mkdirMode = 0o511

// justMade reports whether st, the directory open as fd, is the one just
// made with mkdirMode: the user's, of that mode less the umask (when the
// umask leaves the mode recognisable), and empty.
func (x *Extractor) justMade(st *unix.Stat_t, fd int) bool {
	if int(st.Uid) != os.Geteuid() {
		return false
	}
	if want := mkdirMode &^ x.umask; want&0o500 == 0o500 && uint32(st.Mode)&0o7777 != want {
		return false
	}
	return emptyDir(fd)
}
