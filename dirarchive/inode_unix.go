//go:build unix

package dirarchive

import (
	"os"
	"syscall"
)

// inodeOf is the inode and device numbers of st.
func inodeOf(st os.FileInfo) (ino, dev uint64) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino), uint64(sys.Dev)
	}
	return 0, 0
}
