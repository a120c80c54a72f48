package object

import "golang.org/x/sys/unix"

// ackedBytes returns the bytes the peer of the TCP socket fd acknowledged: written
// less tcpi_snd_sbbytes from TCP_CONNECTION_INFO, the bytes in the send buffer, sent
// or not, that the peer has not acknowledged yet. (tcpi_txbytes counts bytes sent,
// acknowledged or not, so it would take a full buffer for progress.)
func ackedBytes(fd uintptr, written int64) (int64, bool) {
	info, err := unix.GetsockoptTCPConnectionInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_CONNECTION_INFO)
	if err != nil {
		return 0, false
	}
	return unqueued(written, int64(info.Snd_sbbytes)), true
}
