//go:build !linux

package harden

// Process does nothing yet outside Linux: each system has its own way to
// deny debuggers (PT_DENY_ATTACH on macOS, procctl on FreeBSD), to be added
// with the port to it.
func Process() error { return nil }
