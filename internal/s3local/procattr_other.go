//go:build !linux

package s3local

import "syscall"

// dieWithParent has no portable equivalent of Linux's parent-death signal:
// elsewhere only Close stops versitygw.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
