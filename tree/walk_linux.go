//go:build linux && !ogive_portable

package tree

import (
	"slices"

	"golang.org/x/sys/unix"
)

// readNames lists the directory open at fd, sorted bytewise.
func readNames(fd int) ([]string, error) {
	buf := make([]byte, 32<<10)
	var names []string
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	slices.Sort(names)
	return names, nil
}

// useOpenat2 lets open resolve a file's path in one openat2 call; tests
// turn it off to check the descriptor chain it falls back to.
var useOpenat2 = true

// openBeneath opens the file rel below the directory dir in one openat2
// call that refuses any link (RESOLVE_NO_SYMLINKS) and any way out
// (RESOLVE_BENEATH). ok is false where the kernel (before 5.6) or a
// sandbox refuses openat2, or the path is too long for one call: the caller
// then walks the path one directory at a time.
func openBeneath(dir int, rel string) (fd int, ok bool, err error) {
	if !useOpenat2 {
		return -1, false, nil
	}
	how := unix.OpenHow{Flags: fileFlags, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH}
	for {
		fd, err := unix.Openat2(dir, rel, &how)
		switch err {
		case unix.EINTR:
			continue
		case unix.ENOSYS, unix.EPERM, unix.ENAMETOOLONG:
			return -1, false, nil
		case nil:
			return fd, true, nil
		default:
			return -1, false, err
		}
	}
}
