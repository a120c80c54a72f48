package archive

import (
	"fmt"
	"io/fs"

	"github.com/ogive-project/ogive/crypt"
)

// restoredModeBits are the permission bits get applies: read, write and execute.
// Setuid, setgid and sticky are recorded but never applied: whoever can write the
// bucket's objects must not be able to hand the user a setuid program, and the archive
// may come from another machine whose owners differ.
const restoredModeBits = 0o777

// statter is an open file: its Stat is an fstat of what is being read.
type statter interface {
	Stat() (fs.FileInfo, error)
}

// sourceMeta is what a put records of its source besides the name: the mode and the
// modification time of an open regular file, from the fstat of the descriptor being read
// (never a second lookup of a path, which may name another file by then). A block device,
// standard input or any other reader records nothing.
func sourceMeta(r any) (crypt.Meta, error) {
	s, ok := r.(statter)
	if !ok {
		return crypt.Meta{}, nil
	}
	fi, err := s.Stat()
	if err != nil {
		return crypt.Meta{}, fmt.Errorf("stat source: %w", err)
	}
	return FileMeta(fi), nil
}

// FileMeta is the metadata a version 3 storage ID records of fi: the permission bits as
// POSIX numbers them and the modification time, for a regular file; nothing otherwise.
func FileMeta(fi fs.FileInfo) crypt.Meta {
	if !fi.Mode().IsRegular() {
		return crypt.Meta{}
	}
	mode := uint16(fi.Mode().Perm())
	if fi.Mode()&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if fi.Mode()&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return crypt.Meta{HasMode: true, Mode: mode, HasMTime: true, MTime: fi.ModTime().UTC()}
}
