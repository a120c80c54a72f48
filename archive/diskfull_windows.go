package archive

import (
	"errors"

	"golang.org/x/sys/windows"
)

// DiskFull reports whether err says that a file system has no room left: no space
// (ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL), a file larger than it may be
// (ERROR_FILE_TOO_LARGE), or the user's quota reached (ERROR_DISK_QUOTA_EXCEEDED).
func DiskFull(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL) ||
		errors.Is(err, windows.ERROR_FILE_TOO_LARGE) || errors.Is(err, windows.ERROR_DISK_QUOTA_EXCEEDED)
}
