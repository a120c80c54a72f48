package crypt

import (
	"math"
	"testing"
	"time"
)

// TestSealNameMetaKeepsEveryTime: any modification time a file system can report is
// recorded and read back to the nanosecond: the zero time.Time (0001-01-01, which
// another user can give a file on tmpfs) as much as the extremes of the signed 64-bit
// seconds the block holds.
func TestSealNameMetaKeepsEveryTime(t *testing.T) {
	for i, c := range []struct{ sec, nsec int64 }{
		{time.Time{}.Unix(), 0},
		{time.Time{}.Unix() - 1, 999999999},
		{math.MinInt64, 0},
		{math.MaxInt64, 999999999},
		{-1, 1},
		{0, 0},
	} {
		meta := Meta{HasMode: true, Mode: 0o644, HasMTime: true, MTime: time.Unix(c.sec, c.nsec).UTC()}
		id, err := SealNameMeta(testKeys(t, saltFrom(byte(0x60+i))), "f", meta, MaxIDLen)
		if err != nil {
			t.Errorf("%d s %d ns: %v", c.sec, c.nsec, err)
			continue
		}
		_, got, k, err := OpenIDMeta(vectorMaster(), id)
		if err != nil {
			t.Fatalf("%d s: %v", c.sec, err)
		}
		k.Destroy()
		if !got.HasMTime || got.MTime.Unix() != c.sec || int64(got.MTime.Nanosecond()) != c.nsec {
			t.Errorf("%d s %d ns reads back as %d s %d ns", c.sec, c.nsec, got.MTime.Unix(), got.MTime.Nanosecond())
		}
	}
}
