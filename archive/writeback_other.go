//go:build !linux || ogive_portable

package archive

// canStartWriteback is false where the system has no sync_file_range (darwin, FreeBSD,
// Windows): a download's file is written back as the system decides, and the fsync
// that ends the download may wait longer for it.
const canStartWriteback = false

func startWriteback(fd uintptr, off, n int64) {}
