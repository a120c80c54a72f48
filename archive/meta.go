package archive

import (
	"io/fs"

	"github.com/ogive-project/ogive/crypt"
)

// restoredModeBits are the permission bits get applies: read, write and execute.
// Setuid, setgid and sticky are recorded but never applied: whoever can write the
// bucket's objects must not be able to hand the user a setuid program, and the archive
// may come from another machine whose owners differ.
const restoredModeBits = 0o777

// FileMeta is the metadata a version 3 storage ID records of fi: the permission bits as
// POSIX numbers them and the modification time, for a regular file; nothing otherwise
// (a block device). fi should come from the fstat of the file opened for the upload,
// not from a second lookup of its path, which may name another file by then.
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
