package harden

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From <sys/wait.h> and <sys/procctl.h>; x/sys does not export them.
const (
	idPID               = 0 // P_PID: id 0 is the calling process
	procTraceCtl        = 7 // PROC_TRACE_CTL
	procTraceCtlDisable = 2 // PROC_TRACE_CTL_DISABLE
)

// Process disables tracing of this process (procctl(P_PID, 0,
// PROC_TRACE_CTL, PROC_TRACE_CTL_DISABLE)). Processes of the same user can
// then no longer attach to it with ptrace(2) or ktrace(2) nor read its
// memory through the debugging sysctls, and the kernel writes no core
// dump of it. Root is not kept out: it reads kernel memory. The call fails
// (EBUSY) if ogive is already being traced. Call it first in main, before
// any secret is read; exec re-enables tracing, so a password command runs
// as usual.
func Process() error {
	arg := int32(procTraceCtlDisable)
	_, _, errno := unix.Syscall6(unix.SYS_PROCCTL, idPID, 0, procTraceCtl, uintptr(unsafe.Pointer(&arg)), 0, 0)
	if errno != 0 {
		return fmt.Errorf("procctl(PROC_TRACE_CTL, PROC_TRACE_CTL_DISABLE): %w", errno)
	}
	return nil
}
