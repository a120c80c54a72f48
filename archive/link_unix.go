//go:build unix && (!linux || ogive_portable)

package archive

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
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
	// From the seconds and the microseconds apart: UnixNano overflows outside 1678–2262.
	// The nanoseconds are cut to whole microseconds first: NsecToTimeval rounds up, and
	// would carry .9999995 s and more into a second that setSeconds then overwrites.
	tv := unix.NsecToTimeval(int64(mtime.Nanosecond() / 1000 * 1000))
	if !setSeconds(&tv.Sec, mtime.Unix()) {
		return fmt.Errorf("%v is beyond the times this system keeps", mtime)
	}
	return unix.Futimes(int(f.Fd()), []unix.Timeval{tv, tv})
}

// setSeconds sets a Timeval's seconds, 32 or 64 bits wide as the platform has them, and
// reports whether s fits.
func setSeconds[T ~int32 | ~int64](p *T, s int64) bool {
	*p = T(s)
	return int64(*p) == s
}
