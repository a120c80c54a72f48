// Package harden shuts other processes out of ogive's memory, where the
// master key, archive keys and passwords are while a command runs, as far
// as each system allows:
//
//   - Linux: the process is made not dumpable (PR_SET_DUMPABLE): no ptrace,
//     no /proc/PID/mem, no core dump, for processes of the same user.
//   - FreeBSD: tracing is disabled (procctl PROC_TRACE_CTL): no ptrace,
//     ktrace, debugging sysctls or core dump, for the same user.
//   - macOS and Windows: nothing is done (harden_other.go says why, and
//     what protects ogive there and what does not).
//
// On every system memguard keeps secrets in locked memory and sets
// RLIMIT_CORE to 0 where there is one. Root (Administrator) is never kept out.
//
// memguard hangs when it cannot lock memory, so PrepareMemoryLock raises
// the limit on locked memory where a process may, and checks, before any
// key exists, that ogive can lock what it needs (LockNeed).
package harden
