//go:build !unix

package dirarchive

import "os"

// inodeOf is zero where Go's stat has no inode number (Windows): an upload
// of a directory is then recognised again by its path, time and walk
// digest.
func inodeOf(os.FileInfo) (ino, dev uint64) { return 0, 0 }
