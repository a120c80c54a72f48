//go:build !windows

package main

// enableTerminalEscapes does nothing: Unix terminals interpret escape
// sequences as they are.
func enableTerminalEscapes() {}
