//go:build unix && !linux && !freebsd

package extract

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/internal/unixtime"
)

// futimens sets the modification time of the open file fd to the
// microsecond (futimes: macOS has no futimens), and its access time to the
// same.
func futimens(fd int, mtime time.Time) error {
	tv, err := unixtime.Timeval(mtime)
	if err != nil {
		return err
	}
	return unix.Futimes(fd, []unix.Timeval{tv, tv})
}
