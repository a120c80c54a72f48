//go:build unix

package archive

import (
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

func TestDiskFull(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EFBIG, syscall.EDQUOT} {
		err := fmt.Errorf("write out.bin: %w", &fs.PathError{Op: "write", Path: "out.bin", Err: errno})
		if !DiskFull(err) {
			t.Errorf("DiskFull(%v) = false", err)
		}
	}
	for _, err := range []error{syscall.EACCES, fs.ErrNotExist, nil} {
		if DiskFull(err) {
			t.Errorf("DiskFull(%v) = true", err)
		}
	}
}
