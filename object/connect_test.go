package object_test

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogive-project/ogive/object"
)

// forwarder is a TCP relay to target on a port of its own that can go
// down and come back on the same port: a server restarting.
type forwarder struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
}

func startForwarder(t *testing.T, target string) *forwarder {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{t: t, addr: l.Addr().String(), target: target}
	f.serve(l)
	t.Cleanup(f.down)
	return f
}

func (f *forwarder) serve(l net.Listener) {
	f.mu.Lock()
	f.l = l
	f.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", f.target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, up)
			f.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// down closes the listener and every connection: connections are refused.
func (f *forwarder) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.l != nil {
		f.l.Close()
		f.l = nil
	}
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

func (f *forwarder) up() error {
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	f.serve(l)
	return nil
}

// A store that has connected once retries a refused connection, as when the
// server restarts mid-transfer; before its first connection a refused one
// fails at once, with a ConnectError naming the endpoint (see
// TestUnreachableServerFailsFast in cmd for the time it saves).
func TestS3RefusedConnection(t *testing.T) {
	srv := startServer(t)
	u, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	fw := startForwarder(t, u.Host)
	c := serverConfig(srv, testPrefix(t))
	c.Endpoint = "http://" + fw.addr
	c.MaxBackoff = 300 * time.Millisecond

	fw.down()
	s := newS3(t, c)
	err = s.Put(t.Context(), "k", []byte("x"), object.PutOptions{})
	var ce *object.ConnectError
	if !errors.As(err, &ce) || ce.URL != c.Endpoint || ce.Reason != "connection refused" {
		t.Fatalf("Put before any connection: %v, want a ConnectError for %s (connection refused)", err, c.Endpoint)
	}
	if want := "cannot connect to " + c.Endpoint + " (connection refused)"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q does not end with %q", err, want)
	}

	if err := fw.up(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "k", []byte("x"), object.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	fw.down()
	back := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		back <- fw.up()
	}()
	if _, err := s.Head(t.Context(), "k"); err != nil {
		t.Errorf("Head while the server restarts: %v, want it retried until the server is back", err)
	}
	if err := <-back; err != nil {
		t.Fatal(err)
	}
}
