package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Process makes this process not dumpable. Processes of the same user can
// then no longer ptrace it nor read its /proc/PID/mem, environ or fd
// links, which all become root's; the kernel writes no core dump of it,
// or, with fs.suid_dumpable = 2, one only root can read. (memguard's
// RLIMIT_CORE of 0 alone does not stop a core_pattern that pipes to a
// program.) The process itself keeps reading its own /proc/self, which
// the kernel always allows. Root is not kept out. Call it first in main,
// before any secret is read; exec resets it, so a password command runs
// as usual.
func Process() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	return nil
}
