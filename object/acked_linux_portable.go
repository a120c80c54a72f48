//go:build linux && ogive_portable

package object

import "golang.org/x/sys/unix"

// ackedBytes returns the bytes the peer of the TCP socket fd acknowledged: written
// less the bytes SIOCOUTQ says are still in the send buffer. Linux builds this only
// with the ogive_portable tag, to test on Linux the arithmetic darwin and FreeBSD use.
func ackedBytes(fd uintptr, written int64) (int64, bool) {
	queued, err := unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
	if err != nil {
		return 0, false
	}
	return unqueued(written, int64(queued)), true
}
