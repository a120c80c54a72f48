package harden

import (
	"errors"
	"fmt"
	"os"
)

// LockPages is how many pages of memory ogive must be able to lock at once.
// memguard locks every buffer that holds a key or a password (one page at
// least each, plus its three pages of key). The most any command locked
// at once, measured on Linux with 4 KiB pages, was 8 pages (32 KiB, a put
// of a file); a list of 2,000 archives or a directory of 2,000 files does
// not lock more, as each buffer is freed before the next. Twice that leaves
// a margin and still fits a limit of 64 KiB, the default of older Linux
// kernels and of FreeBSD's login class.
const LockPages = 16

// LockNeed is LockPages in bytes, with this system's page size: 64 KiB
// with 4 KiB pages, 256 KiB with 16 KiB pages (macOS on Apple silicon),
// 1 MiB with 64 KiB pages (some Linux arm64 kernels).
func LockNeed() int { return LockPages * os.Getpagesize() }

// ErrMemoryLock is what a failed CheckMemoryLock matches: this process
// cannot lock the memory ogive needs for its keys. memguard, which ogive
// keeps its keys with, does not fail cleanly when it cannot lock a buffer:
// it may hang. So the check is made before any key exists.
var ErrMemoryLock = errors.New("cannot lock memory")

// LockError is the error CheckMemoryLock returns. It matches ErrMemoryLock.
type LockError struct {
	// Need is how many bytes ogive tried to lock.
	Need int
	// Limit is, on Unix, the soft RLIMIT_MEMLOCK ("ulimit -l") in bytes
	// and, on Windows, the minimum working set, which bounds what
	// VirtualLock takes; -1 when unlimited or unknown.
	Limit int64
	// Err is the system's error.
	Err error
}

func (e *LockError) Error() string {
	return fmt.Sprintf("cannot lock %d KiB of memory: %v", e.Need>>10, e.Err)
}

// Is makes a LockError match ErrMemoryLock.
func (e *LockError) Is(target error) bool { return target == ErrMemoryLock }

func (e *LockError) Unwrap() error { return e.Err }

// PrepareMemoryLock raises the limit on locked memory as far as this
// process may raise it itself (raiseLockLimit says how on each system),
// then checks that need bytes can really be locked: it locks a scratch
// region of that size and frees it. Reading the limit would not do, since
// root (CAP_IPC_LOCK on Linux) is not held to it. Call it in main before
// anything opens a memguard buffer or enclave. The error is a *LockError,
// or, if raising failed and locking then worked, nil.
func PrepareMemoryLock(need int) error {
	raiseErr := raiseLockLimit(need)
	err := checkLock(need)
	if err == nil {
		return nil
	}
	if raiseErr != nil {
		err = fmt.Errorf("%w (raising the limit failed: %v)", err, raiseErr)
	}
	return &LockError{Need: need, Limit: lockLimit(), Err: err}
}
