package object

import "golang.org/x/sys/unix"

// fionwrite is FreeBSD's FIONWRITE, _IOR('f', 119, int) in <sys/filio.h>, which
// golang.org/x/sys does not define: the bytes in a socket's send buffer.
const fionwrite = 0x40046677

// ackedBytes returns the bytes the peer of the TCP socket fd acknowledged: written
// less the bytes FIONWRITE says are still in the send buffer, sent or not, which
// TCP keeps there until the peer acknowledges them.
func ackedBytes(fd uintptr, written int64) (int64, bool) {
	queued, err := unix.IoctlGetInt(int(fd), fionwrite)
	if err != nil {
		return 0, false
	}
	return unqueued(written, int64(queued)), true
}
