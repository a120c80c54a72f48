package tree

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// The Windows walk is weaker than the Unix one, and says so here:
//
//   - It reads each directory by name (filepath.WalkDir), not through
//     descriptors: a directory of the tree that another user swaps for a
//     symbolic link or a junction between its listing and its reading is
//     followed, out of the tree.
//   - A file's content is opened by name, without following a reparse
//     point in its last component (FILE_FLAG_OPEN_REPARSE_POINT), but the
//     directories on its way are resolved by the system as they are then.
//   - There is no inode number nor change time: a file is checked against
//     the walk by its size and modification time only, so a rewrite that
//     keeps both goes unnoticed, another file of that size and time put in
//     its place too, and hard links are stored as separate files.
//   - Modes are what Go reports (0666, or 0444 for a read-only file; 0777 for
//     a directory), and owners are 0, with no names.
//
// Symbolic links are stored as links (their target with '/' for '\'), and
// never followed; junctions (mount points), and files that are other
// reparse points (Go reports them irregular), are skipped and named, like
// sockets and devices elsewhere.

// walk calls visit for root and every name under it, in stream order.
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
		// Lstat, not d.Info(): the listing's size and time can lag behind
		// the file's own, which is what same compares them with later.
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		f := &found{rel: filepath.ToSlash(rel), mode: info.Mode() & fs.ModePerm, mtime: info.ModTime(), nlink: 1}
		// Go gives a symbolic link or a junction (a name surrogate) no
		// ModeDir, so WalkDir never enters one; a directory that is some
		// other reparse point (a cloud placeholder) is a directory.
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
			f.link = filepath.ToSlash(f.link)
		}
		if err := visit(f); err != nil {
			return err
		}
		if d.IsDir() && f.kind != Dir {
			// Listed as a directory, swapped since: not entered.
			return filepath.SkipDir
		}
		return nil
	})
}

// open opens the file of e for reading by name, without following a
// reparse point in its last component: a link or junction put in its place
// is opened itself, and same finds it is no regular file.
func (t *Tree) open(e *Entry) (*os.File, error) {
	name := t.src(e)
	p, err := windows.UTF16PtrFromString(longPath(name))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

// longPath is name in the form CreateFile takes beyond MAX_PATH (260)
// characters: absolute, with the \\?\ prefix (as the os package does for
// its own calls).
func longPath(name string) string {
	abs, err := filepath.Abs(name)
	if err != nil || len(abs) < 248 || strings.HasPrefix(abs, `\\?\`) {
		return name
	}
	if strings.HasPrefix(abs, `\\`) {
		return `\\?\UNC\` + abs[2:]
	}
	return `\\?\` + abs
}

// statFile is what same compares, from f's own information: no inode
// number nor change time on Windows.
func statFile(f *os.File) (fileState, error) {
	st, err := f.Stat()
	if err != nil {
		return fileState{}, err
	}
	return fileState{regular: st.Mode().IsRegular(), size: st.Size(), mtime: st.ModTime()}, nil
}

// Close releases what the tree holds open: nothing here.
func (t *Tree) Close() error { return nil }
