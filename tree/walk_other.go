//go:build !linux

package tree

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// walk calls visit for root and every name under it, in stream order. This
// fallback reads each directory by name (filepath.WalkDir), so a directory
// swapped for a symbolic link between its listing and its reading is
// followed: only the Linux walk, through descriptors, is safe against
// another user racing it (issue 17 ports it).
func walk(root string, visit func(*found) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			rel = ""
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := &found{rel: filepath.ToSlash(rel), mode: info.Mode() & keptMode, mtime: info.ModTime(), nlink: 1}
		if sys, ok := info.Sys().(*syscall.Stat_t); ok {
			f.uid, f.gid, f.ino, f.dev = int(sys.Uid), int(sys.Gid), uint64(sys.Ino), uint64(sys.Dev)
			f.ctime = ctimeOf(sys)
			f.nlink = uint64(sys.Nlink)
		}
		switch m := info.Mode(); {
		case m.IsDir():
			f.kind = Dir
		case m.IsRegular():
			f.kind, f.size = File, info.Size()
		case m&fs.ModeSymlink != 0:
			f.kind = Symlink
			if f.link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		return visit(f)
	})
}

// open opens the file of e without following a link in its last component;
// the caller checks it is the file the walk found.
func (t *Tree) open(e *Entry) (*os.File, error) {
	return os.OpenFile(t.src(e), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

// Close releases what the tree holds open: nothing here.
func (t *Tree) Close() error { return nil }

// keptMode is the part of a mode a stream keeps.
const keptMode = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
