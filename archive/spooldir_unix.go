//go:build unix

package archive

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// spoolDir is the directory spool files are made in, held open once it is
// checked: files are made relative to it, never again through its path.
type spoolDir struct {
	path string
	fd   int
}

// openSpoolDir opens path and checks that it is the user's and that nobody
// else can write to it, who could otherwise swap a named spool file.
func openSpoolDir(path string) (*spoolDir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("spool directory %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("spool directory %s: %w", path, err)
	}
	if int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s (owner uid %d, mode %04o)", ErrUnsafeSpool, path, st.Uid, st.Mode&0o7777)
	}
	return &spoolDir{path: path, fd: fd}, nil
}

func (d *spoolDir) Close() error { return unix.Close(d.fd) }

// createNamed makes a spool file under a random name, only ever readable
// and writable by the user, and removes the name at once: where O_TMPFILE is
// missing, the file has a name for the time of one unlink.
func (d *spoolDir) createNamed() (*os.File, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	// A dot name, which "ogive uploads" and the records pass over.
	name := ".spool-" + hex.EncodeToString(b[:])
	fd, err := unix.Openat(d.fd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create a spool file in %s: %w", d.path, err)
	}
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("remove spool file %s of %s: %w", name, d.path, err)
	}
	return os.NewFile(uintptr(fd), d.path+"/"+name), nil
}
