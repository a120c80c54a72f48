package s3local

import "syscall"

// dieWithParent makes the kernel kill versitygw when the process that
// started it dies, so a test binary killed mid-run leaves no gateway behind.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
