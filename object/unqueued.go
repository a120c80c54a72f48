//go:build darwin || freebsd || (linux && ogive_portable)

package object

// unqueued is what ackedBytes returns on systems that tell how many bytes wait in a
// socket's send buffer: a byte leaves that buffer only once the peer acknowledged it,
// so the bytes acknowledged are the bytes written less those still queued. written is
// read before queued, so a write in between makes the result low, never high.
func unqueued(written, queued int64) int64 {
	return max(written-queued, 0)
}
