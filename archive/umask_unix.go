//go:build unix

package archive

import "golang.org/x/sys/unix"

// startUmask is the process's umask when the package was initialised. umask(2) has no
// form that only reads: it is set and put back at once, here, while package
// initialisation runs on one goroutine before main. Set to 077 meanwhile, a file some
// other goroutine might create in between would come out more private, never less.
var startUmask = func() uint32 {
	m := unix.Umask(0o077)
	unix.Umask(m)
	return uint32(m) & 0o777
}()
