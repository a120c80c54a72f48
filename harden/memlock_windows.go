package harden

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// lockOverhead is what the system keeps of the minimum working set for
// itself: VirtualLock takes "the minimum working set minus a small
// overhead". It is not documented further; this is generous.
const lockOverhead = 128 << 10

// raiseLockLimit raises this process's minimum working set, which bounds
// what VirtualLock takes (about 200 KiB by default), to n bytes beyond the
// system's overhead, when it is lower; the maximum follows it. Both stay
// soft limits, as by default: the working set may still grow past the
// maximum and shrink under the minimum when memory is short. Raising the
// minimum takes SeIncreaseWorkingSetPrivilege, which Users hold; it is
// enabled first, as it may be held disabled.
func raiseLockLimit(n int) error {
	self := windows.CurrentProcess()
	var minimum, maximum uintptr
	var flags uint32
	windows.GetProcessWorkingSetSizeEx(self, &minimum, &maximum, &flags)
	want := uintptr(n) + lockOverhead
	if minimum >= want {
		return nil
	}
	enableIncreaseWorkingSet()
	maximum = max(maximum, 2*want)
	err := windows.SetProcessWorkingSetSizeEx(self, want, maximum,
		windows.QUOTA_LIMITS_HARDWS_MIN_DISABLE|windows.QUOTA_LIMITS_HARDWS_MAX_DISABLE)
	if err != nil {
		return fmt.Errorf("SetProcessWorkingSetSizeEx(%d KiB, %d KiB): %w", want>>10, maximum>>10, err)
	}
	return nil
}

// enableIncreaseWorkingSet enables SeIncreaseWorkingSetPrivilege in this
// process's token, if the token holds it. Failing is left to
// SetProcessWorkingSetSizeEx to report.
func enableIncreaseWorkingSet() {
	var token windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_ADJUST_PRIVILEGES, &token); err != nil {
		return
	}
	defer token.Close()
	p := windows.Tokenprivileges{PrivilegeCount: 1}
	p.Privileges[0].Attributes = windows.SE_PRIVILEGE_ENABLED
	if err := windows.LookupPrivilegeValue(nil, windows.StringToUTF16Ptr("SeIncreaseWorkingSetPrivilege"), &p.Privileges[0].Luid); err != nil {
		return
	}
	_ = windows.AdjustTokenPrivileges(token, false, &p, 0, nil, nil)
}

// checkLock commits n bytes, locks them as memguard does (VirtualLock),
// and frees them.
func checkLock(n int) error {
	addr, err := windows.VirtualAlloc(0, uintptr(n), windows.MEM_COMMIT|windows.MEM_RESERVE, windows.PAGE_READWRITE)
	if err != nil {
		return fmt.Errorf("VirtualAlloc: %w", err)
	}
	defer windows.VirtualFree(addr, 0, windows.MEM_RELEASE)
	if err := windows.VirtualLock(addr, uintptr(n)); err != nil {
		return fmt.Errorf("VirtualLock: %w", err)
	}
	if err := windows.VirtualUnlock(addr, uintptr(n)); err != nil {
		return fmt.Errorf("VirtualUnlock: %w", err)
	}
	return nil
}

// lockLimit is the minimum working set in bytes.
func lockLimit() int64 {
	var minimum, maximum uintptr
	var flags uint32
	windows.GetProcessWorkingSetSizeEx(windows.CurrentProcess(), &minimum, &maximum, &flags)
	return int64(minimum)
}
