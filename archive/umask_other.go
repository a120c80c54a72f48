//go:build !linux

package archive

// processUmask is the process's umask when it started: reading it again would set it,
// which races with files other goroutines create.
func processUmask() uint32 { return startUmask }
