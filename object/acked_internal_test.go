//go:build linux || darwin || freebsd

package object

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestSentCountsAcknowledgedBytes fills a connection whose peer does not read, so that
// the kernel holds bytes written but not acknowledged: sent must not count them, and must
// count them all once the peer has read everything.
func TestSentCountsAcknowledgedBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	// A short idle makes the write that finds the buffers full fail instead of blocking.
	c := &progressConn{Conn: conn, idle: 200 * time.Millisecond}
	chunk := make([]byte, 1<<20)
	for {
		_, err := c.Write(chunk)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	written := c.written.Load()
	if sent := c.sent(); sent >= written {
		t.Fatalf("sent() = %d with the peer not reading, want less than the %d bytes written", sent, written)
	}
	if _, err := io.CopyN(io.Discard, peer, written); err != nil {
		t.Fatal(err)
	}
	// The last acknowledgements arrive a little after the peer read the bytes. (Linux's
	// tcpi_bytes_acked counts the SYN too, hence >=.) The bound only keeps a broken
	// sent from hanging the test.
	for i := 0; c.sent() < written; i++ {
		if i == 10000 {
			t.Fatalf("sent() = %d after the peer read all %d bytes written", c.sent(), written)
		}
		time.Sleep(time.Millisecond)
	}
}
