//go:build unix

package extract

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// lchtimes sets the modification time of the symbolic link base in the
// directory pfd itself (and its access time, which says nothing of a new
// link). A system that keeps no times for links is skipped silently.
func lchtimes(pfd int, base string, mtime time.Time) error {
	ts, err := unix.TimeToTimespec(mtime)
	if err != nil {
		return err
	}
	err = unix.UtimesNanoAt(pfd, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return nil
	}
	return err
}
