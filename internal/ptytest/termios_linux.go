package ptytest

import (
	"os"

	"golang.org/x/sys/unix"
)

func termiosOf(f *os.File) (uint32, error) {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return 0, err
	}
	return t.Lflag, nil
}
