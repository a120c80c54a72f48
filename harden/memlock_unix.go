//go:build unix

package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// raiseLockLimit raises the soft RLIMIT_MEMLOCK to the hard one, when it
// is lower: any process may. The hard limit is the administrator's; a
// process that is not root (without CAP_IPC_LOCK on Linux) cannot go past
// it. What the limit counts differs:
//
//   - Linux: the memory this process has locked. Root, or a process with
//     CAP_IPC_LOCK, is not held to it. The default is 8 MiB since Linux
//     5.16, 64 KiB before; systemd and PAM often set their own.
//   - FreeBSD: the memory this process has locked (login.conf
//     memorylocked, 64 KiB in the default class); the system also caps
//     all wired memory (vm.max_user_wired), which no process can raise.
//   - macOS: the memory this process has wired; the soft and hard limits
//     are usually unlimited, and the system caps wired memory per user and
//     in all (vm.user_wire_limit, vm.global_user_wire_limit).
func raiseLockLimit(int) error {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		return fmt.Errorf("getrlimit(RLIMIT_MEMLOCK): %w", err)
	}
	if r.Cur == r.Max || r.Cur == unix.RLIM_INFINITY {
		return nil
	}
	r.Cur = r.Max
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		return fmt.Errorf("setrlimit(RLIMIT_MEMLOCK): %w", err)
	}
	return nil
}

// checkLock maps n bytes, locks them as memguard does (mlock), and frees
// them.
func checkLock(n int) error {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	defer unix.Munmap(b)
	if err := unix.Mlock(b); err != nil {
		return fmt.Errorf("mlock: %w", err)
	}
	if err := unix.Munlock(b); err != nil {
		return fmt.Errorf("munlock: %w", err)
	}
	return nil
}

// lockLimit is the soft RLIMIT_MEMLOCK in bytes, or -1 when unlimited or
// unknown.
func lockLimit() int64 {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil || r.Cur == unix.RLIM_INFINITY {
		return -1
	}
	return int64(r.Cur)
}
