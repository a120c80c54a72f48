//go:build unix

package archive

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Open flags: oNoFollow fails an open on a symbolic link; oSpecial keeps the open of
// a FIFO or device from blocking or from taking a controlling terminal.
const (
	oNoFollow = syscall.O_NOFOLLOW
	oSpecial  = syscall.O_NONBLOCK | syscall.O_NOCTTY
)

// openFile is os.OpenFile: see the Windows one.
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

// syncDir makes the names just given in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// openDevice opens the block device at path, which must still be one once
// open: never a symbolic link put there since it was looked at.
func openDevice(path string) (*Target, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|oNoFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("open block device: %w", err)
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeDevice == 0 || st.Mode()&os.ModeCharDevice != 0 {
		f.Close()
		return nil, fmt.Errorf("open block device %s: it changed while being opened", path)
	}
	return &Target{final: path, f: f, size: -1, device: true}, nil
}

// lock takes the download's lock: one ogive at a time writes a temporary file.
func lock(f *os.File) error {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("%s is being written by another ogive: %w", f.Name(), ErrBusy)
	}
	return nil
}

// notOwnPrivate says what makes the open file f something this user's ogive did not
// create as it is: not a regular file, another owner, a mode other than 0600, or more
// than one link (a hard link to a file kept elsewhere). "" means f can be resumed.
func notOwnPrivate(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	return problemOf(fi), nil
}

func problemOf(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return "it is a symbolic link"
	case !fi.Mode().IsRegular():
		return "it is not a regular file"
	case !ok:
		return "its owner is unknown"
	case int(st.Uid) != os.Geteuid():
		return fmt.Sprintf("it belongs to uid %d", st.Uid)
	case st.Mode&0o7777 != 0o600:
		return fmt.Sprintf("its mode is %04o, not 0600", st.Mode&0o7777)
	case st.Nlink != 1:
		return fmt.Sprintf("it has %d links", st.Nlink)
	}
	return ""
}

// ownRegular reports whether fi is a regular file of this user: the record
// proves its ranges itself, but nothing else's bytes are worth parsing.
func ownRegular(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return fi.Mode().IsRegular() && ok && int(st.Uid) == os.Geteuid()
}

// links is how many names the open file f has.
func links(f *os.File) (uint64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, nil
	}
	return uint64(st.Nlink), nil
}

// DevicePath reports whether path names a device by its name alone: never on Unix,
// where the file's type says it.
func DevicePath(path string) bool { return false }
