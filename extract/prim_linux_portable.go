//go:build linux && ogive_portable

package extract

// flushDrive has nothing to do on Linux: fsync reaches the disk itself. Only
// the portable build (sys_portable.go) asks for it.
func flushDrive(int) error { return nil }
