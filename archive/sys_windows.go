package archive

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
)

// Open flags for openFile: oNoFollow opens a symbolic link (a reparse point) itself,
// which notOwnPrivate and ownRegular then refuse; there are no FIFOs or terminals to
// guard against. Windows has no openat, and ACLs that this package does not read: a
// download directory must not be writable by other users, who could swap a name
// between two looks at it (the usual case: directories under %USERPROFILE%).
const (
	oNoFollow = windows.O_FILE_FLAG_OPEN_REPARSE_POINT
	oSpecial  = 0
)

// openFile opens name as os.OpenFile does for the flags this package uses, but shares
// it for deletion too (FILE_SHARE_DELETE), as Unix does: names of files this package
// holds open are renamed and removed (a progress record renamed over the last one, a
// download discarded). A file opened for writing is opened with DELETE access too,
// which renameOpen needs to give it its final name through its handle: a file this user
// may write but not delete is not opened. A create with O_EXCL never follows a link.
//
// A name removed while its file is open stays, pending, until the file is closed,
// unless the system removes it at once (POSIX delete semantics: Windows 10 1809 and
// later, on NTFS only): a discarded temporary file or record keeps its name until the
// download ends and closes it. Commit does not depend on it: it renames the open file,
// and removes none of its names.
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var access uint32 = windows.GENERIC_READ | windows.GENERIC_WRITE
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		access = windows.GENERIC_READ
	case os.O_WRONLY:
		access = windows.GENERIC_WRITE
	}
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		access |= windows.DELETE
	}
	var create uint32 = windows.OPEN_EXISTING
	attrs := uint32(windows.FILE_ATTRIBUTE_NORMAL)
	switch {
	case flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		create = windows.CREATE_NEW
		attrs |= windows.FILE_FLAG_OPEN_REPARSE_POINT
	case flag&os.O_CREATE != 0:
		create = windows.OPEN_ALWAYS
	}
	if flag&oNoFollow != 0 {
		attrs |= windows.FILE_FLAG_OPEN_REPARSE_POINT
	}
	share := uint32(windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE)
	h, err := windows.CreateFile(p, access, share, nil, create, attrs, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

// syncDir does nothing on Windows, which cannot flush a directory opened for reading
// (FlushFileBuffers needs write access). A rename stays atomic, but a crash right
// after it may bring back the names as they were.
func syncDir(dir string) error { return nil }

// startUmask is 0: Windows has no umask, and a restored mode only sets or clears
// the read-only attribute (os.Chmod).
const startUmask = 0

// DevicePath reports whether path names a device or volume in the Win32 device
// namespace (see win32DevicePath).
func DevicePath(path string) bool { return win32DevicePath(path) }

// openDevice refuses: ogive writes no device on Windows.
func openDevice(path string) (*Target, error) {
	return nil, fmt.Errorf("%s: %w", path, ErrNoDevices)
}

// lockOffset is where the byte that lock locks lies, far past the file's data:
// Windows locks are mandatory, and must not stand in the way of the data.
const lockOffset = 1 << 62

// lock takes the download's lock: one ogive at a time writes a temporary file.
func lock(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockOffset >> 32}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if err != nil {
		return fmt.Errorf("%s is being written by another ogive: %w", f.Name(), ErrBusy)
	}
	return nil
}

// notOwnPrivate says what makes the open file f something ogive did not create as it
// is: a link, not a regular file, not the file its name now holds, or more than one
// link. Windows modes and owners are not checked: see oNoFollow.
func notOwnPrivate(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if p := problemOf(fi); p != "" {
		return p, nil
	}
	named, err := os.Lstat(f.Name())
	if err != nil {
		return "", err
	}
	if p := problemOf(named); p != "" {
		return p, nil
	}
	if !os.SameFile(fi, named) {
		return "it was replaced while being opened", nil
	}
	n, err := links(f)
	if err != nil {
		return "", err
	}
	if n != 1 {
		return fmt.Sprintf("it has %d links", n), nil
	}
	return "", nil
}

func problemOf(fi fs.FileInfo) string {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return "it is a symbolic link"
	case !fi.Mode().IsRegular():
		return "it is not a regular file"
	}
	return ""
}

// ownRegular reports whether fi is a regular file; Windows owners are not checked.
func ownRegular(fi fs.FileInfo) bool { return fi.Mode().IsRegular() }

// links is how many names the open file f has.
func links(f *os.File) (uint64, error) {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return 0, err
	}
	return uint64(info.NumberOfLinks), nil
}

// renameOpen gives the file f holds open the name path, through its handle
// (SetFileInformationByHandle, FileRenameInfo): the file itself is renamed, whatever
// name it has by now, and keeps no other name. With replace it replaces a file, or a
// symbolic link itself, at path; without, it fails with an error matching fs.ErrExist
// (ERROR_ALREADY_EXISTS) if anything is there. It needs no hard links, which FAT32 and
// exFAT do not have. f must be open with DELETE access, which openFile gives to a file
// opened for writing. A long path is given with the \\?\ prefix (extendedPath).
func renameOpen(f *os.File, path string, replace bool) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: f.Name(), New: path, Err: err}
	}
	name, err := windows.UTF16FromString(extendedPath(abs))
	if err != nil {
		return &os.LinkError{Op: "rename", Old: f.Name(), New: path, Err: err}
	}
	info := renameInfo(name[:len(name)-1], replace)
	err = windows.SetFileInformationByHandle(windows.Handle(f.Fd()), windows.FileRenameInfo, &info[0], uint32(len(info)))
	if err != nil {
		return &os.LinkError{Op: "rename", Old: f.Name(), New: path, Err: err}
	}
	return nil
}

// mtimeResolution is how finely setMTime sets a time: a FILETIME counts 100 ns.
const mtimeResolution = 100 * time.Nanosecond

// filetimeEpoch is 1601-01-01, where a FILETIME counts from, in Unix seconds.
const filetimeEpoch = -11644473600

// setMTime sets the modification time of the file f holds open, through its handle
// (SetFileTime), and leaves its access and creation times alone.
func setMTime(f *os.File, mtime time.Time) error {
	// From the seconds and the nanoseconds apart: UnixNano overflows outside 1678–2262.
	sec := mtime.Unix() - filetimeEpoch
	if sec < 0 || sec > (1<<63-1)/10_000_000-1 {
		return fmt.Errorf("%v is beyond the times this system keeps", mtime)
	}
	ticks := sec*1e7 + int64(mtime.Nanosecond())/100
	ft := windows.Filetime{LowDateTime: uint32(ticks), HighDateTime: uint32(ticks >> 32)}
	return windows.SetFileTime(windows.Handle(f.Fd()), nil, nil, &ft)
}

// spoolDir is the directory spool files are made in. Windows has no openat: files
// are made by name, and the directory's owner and permissions are not checked (see
// oNoFollow).
type spoolDir struct {
	path string
}

// openSpoolDir checks that path is a directory, not a link to one.
func openSpoolDir(path string) (*spoolDir, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("spool directory %s: %w", path, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("spool directory %s: not a directory", path)
	}
	return &spoolDir{path: path}, nil
}

func (d *spoolDir) Close() error { return nil }

// createNamed makes a spool file under a random name that nobody else may open
// (share mode 0), deleted by the system when its handle closes, whatever ends the
// process (FILE_FLAG_DELETE_ON_CLOSE).
func (d *spoolDir) createNamed() (*os.File, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	name := filepath.Join(d.path, ".spool-"+hex.EncodeToString(b[:]))
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("create a spool file in %s: %w", d.path, err)
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.CREATE_NEW,
		windows.FILE_ATTRIBUTE_TEMPORARY|windows.FILE_FLAG_DELETE_ON_CLOSE, 0)
	if err != nil {
		if errors.Is(err, windows.ERROR_FILE_EXISTS) {
			err = fs.ErrExist
		}
		return nil, fmt.Errorf("create a spool file in %s: %w", d.path, err)
	}
	return os.NewFile(uintptr(h), name), nil
}
