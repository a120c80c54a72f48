//go:build unix

package unixtime

import (
	"testing"
	"time"
)

// TestTimeval: futimes gets the time cut to the microsecond, also just
// under a whole second and outside the years UnixNano can hold.
func TestTimeval(t *testing.T) {
	for _, c := range []struct {
		t         time.Time
		sec, usec int64
	}{
		{time.Unix(1700000000, 999_999_999), 1700000000, 999_999},
		{time.Unix(1700000000, 999_999_500), 1700000000, 999_999},
		{time.Unix(1700000000, 1_999), 1700000000, 1},
		{time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), -11644473600, 0},
		{time.Date(2500, 6, 1, 0, 0, 0, 500, time.UTC), time.Date(2500, 6, 1, 0, 0, 0, 0, time.UTC).Unix(), 0},
	} {
		tv, err := Timeval(c.t)
		if err != nil || int64(tv.Sec) != c.sec || int64(tv.Usec) != c.usec {
			t.Errorf("%v: %d.%06d, %v; want %d.%06d", c.t, tv.Sec, tv.Usec, err, c.sec, c.usec)
		}
	}
}
