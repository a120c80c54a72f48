//go:build linux && !ogive_portable

package archive

import "golang.org/x/sys/unix"

// canStartWriteback says that startWriteback does something.
const canStartWriteback = true

// startWriteback asks the kernel to start writing n bytes of fd at off to the disk,
// without waiting for them (sync_file_range). It is advice: an error is ignored.
func startWriteback(fd uintptr, off, n int64) {
	_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
