//go:build !linux && !darwin && !freebsd

package object

// ackedBytes does not know, here (Windows among others), what the peer acknowledged:
// progressConn falls back to the bytes written. A read that waits for an answer while
// the kernel still sends the end of a body then sees no progress, so on a link slow
// enough that the send buffer takes longer than the idle timeout to drain, the read
// fails as if the connection had stalled.
func ackedBytes(fd uintptr, written int64) (int64, bool) { return 0, false }
