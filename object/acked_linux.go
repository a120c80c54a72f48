//go:build linux && !ogive_portable

package object

import "golang.org/x/sys/unix"

// ackedBytes returns the bytes the peer of the TCP socket fd acknowledged, from
// TCP_INFO's tcpi_bytes_acked.
func ackedBytes(fd uintptr, written int64) (int64, bool) {
	info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, false
	}
	return int64(info.Bytes_acked), true
}
