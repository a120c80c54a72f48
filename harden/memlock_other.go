//go:build !unix && !windows

package harden

// raiseLockLimit does nothing: ogive is built for Unix and Windows only,
// and this file keeps other systems compiling.
func raiseLockLimit(int) error { return nil }

// checkLock does not check: see raiseLockLimit.
func checkLock(int) error { return nil }

func lockLimit() int64 { return -1 }
