package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// DeviceSize is the size in bytes of the block device f (BLKGETSIZE64).
func DeviceSize(f *os.File) (int64, error) {
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKGETSIZE64)
	return int64(n), err
}
