//go:build unix

package extract

import (
	"errors"
	"path"
	"time"

	"golang.org/x/sys/unix"
)

// lchtimes sets the modification time of the symbolic link rel itself (and
// its access time, which says nothing of a new link), through its directory
// opened in the root. A system that keeps no times for links is skipped
// silently.
func (x *Extractor) lchtimes(rel string, mtime time.Time) error {
	ts, err := unix.TimeToTimespec(mtime)
	if err != nil {
		return err
	}
	d, err := x.root.Open(fsPath(parentOf(rel)))
	if err != nil {
		return err
	}
	defer d.Close()
	base := path.Base(rel)
	err = control(d, func(fd int) error {
		return unix.UtimesNanoAt(fd, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	})
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return nil
	}
	return err
}
