package harden

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/internal/testuser"
)

// memlockChild lowers this process's RLIMIT_MEMLOCK to 8 KiB, the hard
// limit too when how is "hard", then calls PrepareMemoryLock and prints
// what it returned and the soft limit after.
func memlockChild(how string) int {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		fmt.Println(err)
		return 1
	}
	r.Cur = 8 << 10
	if how == "hard" {
		r.Max = r.Cur
	}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		fmt.Println(err)
		return 1
	}
	err := PrepareMemoryLock(LockNeed())
	var lockErr *LockError
	switch {
	case err == nil:
		fmt.Print("ok")
	case errors.Is(err, ErrMemoryLock) && errors.As(err, &lockErr) && errors.Is(err, unix.ENOMEM):
		fmt.Printf("ErrMemoryLock need=%d limit=%d", lockErr.Need, lockErr.Limit)
	default:
		fmt.Printf("%#v", err)
	}
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Printf(" soft=%d\n", r.Cur)
	return 0
}

// TestPrepareMemoryLock has a process, as nobody when the test runs as
// root (which no limit holds), lower its limit on locked memory below what
// ogive needs: only the soft limit, which PrepareMemoryLock raises again
// to the hard one and then locks; or the hard one too, when it fails with
// ErrMemoryLock and the limit in bytes.
func TestPrepareMemoryLock(t *testing.T) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		t.Fatal(err)
	}
	if r.Max != unix.RLIM_INFINITY && r.Max < uint64(LockNeed()) {
		t.Skipf("the hard limit on locked memory, %d bytes, is below what ogive needs", r.Max)
	}
	bin := testuser.Self(t, "harden.test")
	for _, tc := range []struct{ how, want string }{
		{"soft", fmt.Sprintf("ok soft=%d", r.Max)},
		{"hard", fmt.Sprintf("ErrMemoryLock need=%d limit=8192 soft=8192", LockNeed())},
	} {
		t.Run(tc.how, func(t *testing.T) {
			out, err := child(bin, "memlock "+tc.how).Output()
			if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
				t.Errorf("%q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
