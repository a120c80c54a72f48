//go:build unix && !linux

package ptytest

import (
	"os"

	"golang.org/x/sys/unix"
)

func termiosOf(f *os.File) (uint32, error) {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TIOCGETA)
	if err != nil {
		return 0, err
	}
	return uint32(t.Lflag), nil
}
