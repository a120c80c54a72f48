//go:build !linux || ogive_portable

package archive

// liveUmask says that processUmask follows changes of the umask after start
// (read by the Linux tests, which also build this file with ogive_portable).
//
//lint:ignore U1000 read by restoremeta_test.go, which is Linux-only
const liveUmask = false

// processUmask is the process's umask when it started: reading it again would set it,
// which races with files other goroutines create.
func processUmask() uint32 { return startUmask }
