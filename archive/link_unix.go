//go:build unix && (!linux || ogive_portable)

package archive

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/internal/unixtime"
)

// linkOpen gives the file f holds open the new name path, and fails, with an
// error matching fs.ErrExist, if something is there.
//
// This fallback links the name f was opened under, not the open file: someone
// who can write the directory may swap that name between Commit's check and
// the link. Commit's check of the final name afterwards then fails the
// download, but the swapped-in file stays under the final name. darwin has no
// call that links an open file; recent FreeBSD has linkat with
// AT_EMPTY_PATH, which golang.org/x/sys does not define yet. A download into a
// directory others can write (not sticky) is therefore safer on Linux.
func linkOpen(f *os.File, path string) error {
	return os.Link(f.Name(), path)
}

// mtimeResolution is how finely setMTime sets a time.
const mtimeResolution = time.Microsecond

// setMTime sets the modification time of the file f holds open, through its descriptor,
// to the microsecond (futimes); the access time becomes the same.
func setMTime(f *os.File, mtime time.Time) error {
	tv, err := unixtime.Timeval(mtime)
	if err != nil {
		return err
	}
	return unix.Futimes(int(f.Fd()), []unix.Timeval{tv, tv})
}
