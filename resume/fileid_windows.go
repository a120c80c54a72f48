package resume

import (
	"os"

	"golang.org/x/sys/windows"
)

// fileID is the file index and volume serial number of the file f
// (GetFileInformationByHandle), Windows's nearest to an inode and a device; 0, 0 if
// they cannot be read, and the source is then recognised by its size and mtime only.
// NTFS keeps a file's index for the file's life; other file systems (FAT) may not.
func fileID(f *os.File, st os.FileInfo) (ino, dev uint64) {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return 0, 0
	}
	return uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow), uint64(info.VolumeSerialNumber)
}
