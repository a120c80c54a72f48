//go:build unix && (!linux || ogive_portable)

package tree

import (
	"os"
	"slices"
)

// readNames lists the directory open at fd, sorted bytewise. It reads
// through a descriptor of its own, opened as "." of fd (the very directory
// fd holds, checked by the caller; never a link), so fd's offset is left
// alone, and lets the os package read the entries (getdirentries on
// FreeBSD, readdir on macOS).
func readNames(fd int) ([]string, error) {
	dfd, err := openRetry(fd, ".", dirFlags)
	if err != nil {
		return nil, err
	}
	d := os.NewFile(uintptr(dfd), ".")
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// openBeneath has no one-call way here to open a path refusing every link
// (FreeBSD's O_RESOLVE_BENEATH still follows a link that stays below the
// directory): ok is false, and the caller opens the path one directory at a
// time, each O_NOFOLLOW.
func openBeneath(int, string) (fd int, ok bool, err error) { return -1, false, nil }
