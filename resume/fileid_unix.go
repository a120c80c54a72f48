//go:build unix

package resume

import (
	"os"
	"syscall"
)

// fileID is the device and inode of the file f, whose information is st.
func fileID(f *os.File, st os.FileInfo) (ino, dev uint64) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino), uint64(sys.Dev)
	}
	return 0, 0
}
