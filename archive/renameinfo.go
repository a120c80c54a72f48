package archive

import (
	"encoding/binary"
	"strings"
	"unsafe"
)

// fileRenameInfo is FILE_RENAME_INFO (winbase.h) as Windows lays it out, for its
// offsets and size only: Go places these fields as C does. The file name runs on past
// the end of the struct.
type fileRenameInfo struct {
	replaceIfExists uint32  // a union of BOOLEAN ReplaceIfExists and DWORD Flags
	rootDirectory   uintptr // HANDLE
	fileNameLength  uint32  // in bytes, without the terminating NUL
	fileName        [1]uint16
}

// renameInfo returns the FILE_RENAME_INFO that renames a file to name (UTF-16, without a
// terminating NUL), replacing what is there if replace is set, with RootDirectory NULL:
// name is then a full path. The buffer is aligned for the handle in it, holds the name
// and its terminating NUL (Windows reads the name up to it), and is never shorter than
// the struct (Windows refuses a shorter one). It is plain byte work, so that Linux tests
// it too.
func renameInfo(name []uint16, replace bool) []byte {
	var info fileRenameInfo
	nameAt := int(unsafe.Offsetof(info.fileName))
	size := max(nameAt+2*len(name)+2, int(unsafe.Sizeof(info)))
	words := make([]uint64, (size+7)/8) // 8-byte aligned, zeroed
	b := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	if replace {
		b[unsafe.Offsetof(info.replaceIfExists)] = 1
	}
	clear(b[unsafe.Offsetof(info.rootDirectory):][:unsafe.Sizeof(info.rootDirectory)]) // NULL
	binary.LittleEndian.PutUint32(b[unsafe.Offsetof(info.fileNameLength):], uint32(2*len(name)))
	for i, c := range name {
		binary.LittleEndian.PutUint16(b[nameAt+2*i:], c)
	}
	return b
}

// extendedPath is the absolute Windows path abs, with the \\?\ prefix (\\?\UNC\ for a
// share) if it is long: a path of MAX_PATH less 12 characters or more fails without the
// prefix unless the system allows long paths, and the os package names such a path with
// the prefix too. Short paths, device paths (\\.\) and paths with the prefix already
// are left as they are. It is plain string work, so that Linux tests it too.
func extendedPath(abs string) string {
	const long = 260 - 12
	switch {
	case len(abs) < long, strings.HasPrefix(abs, `\\?\`), strings.HasPrefix(abs, `\\.\`):
		return abs
	case strings.HasPrefix(abs, `\\`):
		return `\\?\UNC\` + abs[2:]
	}
	return `\\?\` + abs
}
