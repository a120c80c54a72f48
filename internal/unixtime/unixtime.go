//go:build unix

// Package unixtime converts a time for futimes(2), which sets times to the
// microsecond where futimens(2) is missing (macOS) or not used. archive
// and extract both set times that way.
package unixtime

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Timeval is t for futimes: the nanoseconds are cut to whole microseconds,
// never rounded up into the next second (NsecToTimeval rounds up), and the
// seconds are taken apart from them, since t.UnixNano overflows outside
// 1678–2262. It fails where the system's seconds cannot hold t.
func Timeval(t time.Time) (unix.Timeval, error) {
	tv := unix.NsecToTimeval(int64(t.Nanosecond() / 1000 * 1000))
	if !setSeconds(&tv.Sec, t.Unix()) {
		return tv, fmt.Errorf("%v is beyond the times this system keeps", t)
	}
	return tv, nil
}

// setSeconds sets a Timeval's seconds, 32 or 64 bits wide as the platform
// has them, and reports whether s fits.
func setSeconds[T ~int32 | ~int64](p *T, s int64) bool {
	*p = T(s)
	return int64(*p) == s
}
