//go:build unix

package extract

import "golang.org/x/sys/unix"

// startUmask is the process's umask at initialisation. umask(2) cannot only
// read it: it is set and put back at once, while initialisation runs on one
// goroutine. Meanwhile 077 would make a file created elsewhere more private,
// never less.
var startUmask = func() uint32 {
	m := unix.Umask(0o077)
	unix.Umask(m)
	return uint32(m) & 0o777
}()
