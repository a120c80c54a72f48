//go:build benchwan

// The WAN models are what they say, measured through a real toxiproxy
// server. Run by make bench before it measures anything, or by hand:
//
//	make bench-tools
//	go test -tags benchwan -count=1 ./internal/benchtools/wanproxy
//
// Not part of make test: toxiproxy is not installed there.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink is the upstream server of the tests. Each connection sends commands
// of one byte and an 8-byte length n: 'p' answers one byte (a ping); 'u'
// reads n bytes, then answers one byte; 'd' sends n bytes.
func sink(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				zeros := make([]byte, 32<<10)
				var hdr [9]byte
				for {
					if _, err := io.ReadFull(r, hdr[:]); err != nil {
						return
					}
					n := int64(binary.BigEndian.Uint64(hdr[1:]))
					switch hdr[0] {
					case 'u':
						if _, err := io.CopyN(io.Discard, r, n); err != nil {
							return
						}
						fallthrough
					case 'p':
						if _, err := c.Write([]byte{'k'}); err != nil {
							return
						}
					case 'd':
						for n > 0 {
							m := min(n, int64(len(zeros)))
							if _, err := c.Write(zeros[:m]); err != nil {
								return
							}
							n -= m
						}
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func command(t *testing.T, c net.Conn, op byte, n int64) {
	t.Helper()
	var hdr [9]byte
	hdr[0] = op
	binary.BigEndian.PutUint64(hdr[1:], uint64(n))
	if _, err := c.Write(hdr[:]); err != nil {
		t.Fatal(err)
	}
}

// ping returns one request's round trip on c.
func ping(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	command(t, c, 'p', 0)
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// upload sends n bytes on c and returns the time until the server said it
// had them all.
func upload(t *testing.T, c net.Conn, n int64) time.Duration {
	t.Helper()
	start := time.Now()
	command(t, c, 'u', n)
	buf := make([]byte, 32<<10)
	for left := n; left > 0; {
		m := min(left, int64(len(buf)))
		if _, err := c.Write(buf[:m]); err != nil {
			t.Fatal(err)
		}
		left -= m
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// download asks for n bytes on c and returns the time until the last came.
func download(t *testing.T, c net.Conn, n int64) time.Duration {
	t.Helper()
	start := time.Now()
	command(t, c, 'd', n)
	if _, err := io.CopyN(io.Discard, c, n); err != nil {
		t.Error(err)
	}
	return time.Since(start)
}

func startProxy(t *testing.T, m model, upstream string) string {
	t.Helper()
	bin, err := findToxiproxy()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := startServer(ctx, bin, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	listen, err := s.proxy(ctx, m.name, m, upstream)
	if err != nil {
		t.Fatal(err)
	}
	return listen
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// transferTime is the least time that n bytes can take through m, in one
// direction on one connection, with the answer's way back: one round trip
// and n bytes at m's rate.
func transferTime(m model, n int64) time.Duration {
	return 2*m.oneWay + time.Duration(n)*time.Second/time.Duration(m.perConn)
}

func TestModels(t *testing.T) {
	upstream := sink(t)
	for _, name := range []string{"wan40", "wan100"} {
		m := models[name]
		t.Run(name, func(t *testing.T) {
			addr := startProxy(t, m, upstream)
			c := dial(t, addr)
			rtt := 2 * m.oneWay

			// One request's round trip is the model's: at least rtt
			// each time, and not twice that (a delay counted twice).
			var pings []time.Duration
			for range 7 {
				pings = append(pings, ping(t, c))
			}
			sort.Slice(pings, func(i, j int) bool { return pings[i] < pings[j] })
			if pings[0] < rtt {
				t.Errorf("fastest round trip %v, want at least %v", pings[0], rtt)
			}
			if med := pings[len(pings)/2]; med >= rtt*3/2 {
				t.Errorf("median round trip %v, want about %v", med, rtt)
			}
			t.Logf("round trips %v", pings)

			// One connection's throughput is capped at the model's rate
			// in each direction: n bytes take at least one round trip
			// and n/rate. 2% off for the timers' rounding.
			n := int64(m.perConn) * 3 / 10 // 0.3 s of data
			floor := transferTime(m, n) * 98 / 100
			if d := upload(t, c, n); d < floor {
				t.Errorf("upload of %d bytes took %v, want at least %v (%.1f MiB/s)", n, d, floor, float64(n)/d.Seconds()/mib)
			} else {
				t.Logf("upload of %d bytes: %v, %.2f MiB/s", n, d, float64(n)/(d-rtt).Seconds()/mib)
			}
			if d := download(t, c, n); d < floor {
				t.Errorf("download of %d bytes took %v, want at least %v (%.1f MiB/s)", n, d, floor, float64(n)/d.Seconds()/mib)
			} else {
				t.Logf("download of %d bytes: %v, %.2f MiB/s", n, d, float64(n)/(d-rtt).Seconds()/mib)
			}

			// The sender is held back at the model's rate: the proxy does
			// not accept far more than the link carries. Beyond the
			// loopback sockets' buffers (allowed 8 MiB here), writing
			// n bytes takes n/rate. With the toxics in the other order
			// the proxy would take 32 MiB at once.
			const buffers = 8 * mib
			n2 := buffers + m.perConn*4/10
			floor2 := time.Duration(n2-buffers) * time.Second / time.Duration(m.perConn)
			var written time.Duration
			start := time.Now()
			command(t, c, 'u', n2)
			buf := make([]byte, 32<<10)
			for left := n2; left > 0; left -= int64(len(buf)) {
				if _, err := c.Write(buf); err != nil {
					t.Fatal(err)
				}
			}
			written = time.Since(start)
			var ack [1]byte
			if _, err := io.ReadFull(c, ack[:]); err != nil {
				t.Fatal(err)
			}
			if written < floor2 {
				t.Errorf("writing %d bytes took %v, want at least %v: the proxy buffers more than the sockets do", n2, written, floor2)
			}
			t.Logf("writing %d bytes: %v", n2, written)

			// The cap is per connection, not per proxy: k connections
			// at once move k·n bytes well before one connection could.
			// Generous, for a loaded machine: a shared cap would take
			// k·n/rate, here 1.2 s or more; per connection it is 0.3 s.
			const k = 4
			conns := make([]net.Conn, k)
			for i := range conns {
				conns[i] = dial(t, addr)
			}
			start = time.Now()
			var wg sync.WaitGroup
			for _, c := range conns {
				wg.Add(1)
				go func() { defer wg.Done(); download(t, c, n) }()
			}
			wg.Wait()
			d := time.Since(start)
			shared := time.Duration(k*n) * time.Second / time.Duration(m.perConn)
			if d >= shared*3/4 {
				t.Errorf("%d connections moved %d bytes each in %v: the aggregate looks capped (a shared cap takes %v)", k, n, d, shared)
			}
			t.Logf("%d connections, %d bytes each: %v (%.1f MiB/s aggregate)", k, n, d, float64(k*n)/d.Seconds()/mib)
		})
	}
}

// lockedBuffer is a bytes.Buffer that two goroutines can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Toxiproxy's API takes orders from any local user: if anything removes a
// toxic during a run, wanproxy stops every proxy, so that the run fails
// rather than measure another network.
func TestChangedModelStopsTheProxies(t *testing.T) {
	upstream := sink(t)
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- run(ctx, []string{"wan40=" + upstream}, &stdout, &stderr) }()
	api := regexp.MustCompile(`toxiproxy API on (http://\S+)`)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(stdout.String(), "ready") {
		if time.Now().After(deadline) {
			t.Fatalf("no ready line; stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := api.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no API address on stderr: %q", stderr.String())
	}
	listen := strings.Fields(stdout.String())[2]
	c := dial(t, listen)
	if d := ping(t, c); d < 40*time.Millisecond {
		t.Fatalf("round trip %v before the change", d)
	}

	// Another user takes the latency off the way up.
	req, err := http.NewRequest(http.MethodDelete, m[1]+"/proxies/wan40_0/toxics/latency_upstream", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("DELETE toxic: %s", resp.Status)
	}
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(stderr.String(), "the model changed") {
			t.Errorf("exit %d, stderr %q; want 1 and the model changed", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wanproxy still runs 5 s after the model changed")
	}
	if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
		c.Close()
		t.Errorf("the proxy on %s still accepts connections", listen)
	}
}
