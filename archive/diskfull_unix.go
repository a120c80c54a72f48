//go:build unix

package archive

import (
	"errors"
	"syscall"
)

// DiskFull reports whether err says that a file system has no room left: no space
// (ENOSPC), a file larger than it may be (EFBIG), or the user's quota reached (EDQUOT).
func DiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG) || errors.Is(err, syscall.EDQUOT)
}
