//go:build !linux && !freebsd

package harden

// Process does nothing on macOS and Windows, and says so here rather than
// pretend.
//
// macOS: reading another process's memory takes its task port, which the
// system gives only to root and to debuggers the user has authorised
// (Developer Tools access); memguard's RLIMIT_CORE of 0 stops core dumps.
// ptrace(PT_DENY_ATTACH), the call made for this elsewhere, was left out:
// it refuses ptrace(PT_ATTACH) only, not the task port through which a
// debugger or a memory reader reads, and it kills a process that a
// debugger started, so it would break debugging ogive for no protection.
//
// Windows: any process of the same user can open ogive and read its
// memory (PROCESS_VM_READ), and Windows Error Reporting may write a crash
// dump where LocalDumps is configured. A process cannot refuse its own
// owner: the owner may rewrite its access list. Secrets still live only in
// memguard's locked memory, and only while a command runs.
func Process() error { return nil }
