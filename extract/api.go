// Package extract writes the entries of a directory archive's tar stream
// (docs/FORMAT.md §7.1) into a destination directory, and only there.
//
// The stream is authenticated, but it is still treated as hostile: every
// path must lie under the stream's top directory with no empty, "." or ".."
// component, never go through a symbolic link on disk (one made earlier by
// the same stream included), and a hard link may only name a regular file
// the same extraction wrote. Every directory is reached from the
// destination one component at a time, by descriptor, never through a link,
// and checked to be the one this run made or first saw (device and inode),
// so a name swapped by someone racing the extraction cannot lead it out
// either; a directory swapped before Finish does not get the mode and time
// meant for the one made.
//
// Small files are written by a few goroutines while the stream is read on;
// sparse files (which archive/tar would expand) are refused.
//
// A file is written to a hidden temporary in its own directory and gets its
// final name only once its content is complete, checked and on disk, so a
// crash never leaves a partial file under a final name. Files are made
// durable in batches of up to 1,000 files or 64 MiB: their data first (on
// Linux one sync of the file system, elsewhere an fsync each and, on macOS,
// one F_FULLFSYNC to flush the drive), then their renames and a sync of the
// directories they went into.
//
// Modification times are set to the nanosecond, but to the microsecond on
// macOS (futimes: x/sys has no futimens there).
//
// All of this needs descriptors (openat and the calls beside it): on
// Windows, New refuses with ErrUnsupported, and the stream is left to a
// tar program.
package extract

import (
	"errors"
	"runtime"
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
	// ErrUnsupported means this system cannot extract a directory archive
	// safely (Windows: no way to reach a path below a directory by
	// descriptor, never through a link); the tar stream can still be
	// written out and extracted by a tar program.
	ErrUnsupported = errors.New("extracting a directory archive is not supported on " + runtime.GOOS)
)

// Available reports whether this system can extract: nil, or
// ErrUnsupported. A caller asks before fetching anything.
func Available() error { return available }

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
	// It is called from the caller's goroutine.
	Expect func(path string) (sha [32]byte, ok bool)
	// Notice receives warnings that do not stop the extraction: a mode or
	// time the file system refuses, a hard link whose file was not included,
	// a directory replaced before Finish could give it its mode. It may be
	// called from other goroutines than the caller's, one call at a time.
	Notice func(string)
}

// Stats counts what an extraction made.
type Stats struct {
	Files int   // regular files given their final name
	Dirs  int   // directories made (the top one included)
	Links int   // symbolic and hard links made
	Bytes int64 // content of the files
}
