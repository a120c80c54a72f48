//go:build linux && !ogive_portable

package archive

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// spoolTmpfile says to make spool files with O_TMPFILE; the tests turn it
// off to try the fallback that other systems use.
var spoolTmpfile = true

// create makes a spool file that has no name at all (O_TMPFILE), only ever
// readable and writable by the user: no other process can open it, and it
// vanishes with its last descriptor, whatever ends the process. A file
// system without O_TMPFILE gets a named file whose name is removed at once.
func (d *spoolDir) create() (*os.File, error) {
	if !spoolTmpfile {
		return d.createNamed()
	}
	fd, err := unix.Openat(d.fd, ".", unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
	switch {
	case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR):
		// EISDIR: a kernel older than 3.11, which takes O_TMPFILE for
		// O_DIRECTORY.
		return d.createNamed()
	case err != nil:
		return nil, fmt.Errorf("create a spool file in %s: %w", d.path, err)
	}
	return os.NewFile(uintptr(fd), d.path+"/(spool)"), nil
}
