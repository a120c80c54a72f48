package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// The ioctls of <sys/disk.h>, which golang.org/x/sys does not define.
const (
	dkiocGetBlockSize  = 0x40046418 // DKIOCGETBLOCKSIZE, _IOR('d', 24, uint32_t)
	dkiocGetBlockCount = 0x40086419 // DKIOCGETBLOCKCOUNT, _IOR('d', 25, uint64_t)
)

// DeviceSize is the size in bytes of the disk device f: its block count times its
// block size. (lseek to the end gives 0 on a darwin device.)
func DeviceSize(f *os.File) (int64, error) {
	// IoctlGetInt reads a 64-bit int, of which the block size fills the low 32 bits on
	// these little-endian machines.
	size, err := unix.IoctlGetInt(int(f.Fd()), dkiocGetBlockSize)
	if err != nil {
		return 0, err
	}
	count, err := unix.IoctlGetInt(int(f.Fd()), dkiocGetBlockCount)
	if err != nil {
		return 0, err
	}
	return int64(uint32(size)) * int64(count), nil
}
