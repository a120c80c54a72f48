// Package faultproxy is an HTTP proxy for tests that stands between a client
// and a server and misbehaves on purpose: it resets connections in the
// middle of a request or response body, stalls, answers 500 InternalError
// or 503 SlowDown in the server's place, and adds latency. Rules choose
// which requests get which fault, deterministically, and the proxy counts
// what it injected so a test can check that its faults really happened.
//
// It forwards requests unchanged, Host header included, so signed requests
// (AWS SigV4) still verify at the server behind it.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Fault is one kind of misbehaviour.
type Fault int

const (
	// None forwards the request untouched.
	None Fault = iota
	// ResetRequest reads half of the request body, then resets the
	// connection (TCP RST) without answering.
	ResetRequest
	// ResetResponse forwards the request, sends the response headers and
	// half of the body, then resets the connection. A response without a
	// body is reset before its headers.
	ResetResponse
	// Stall reads the request and then answers nothing until the client
	// gives up or Options.Stall has passed, when it resets the connection.
	Stall
	// StallBody forwards the request, sends the headers and half of the
	// body, then stalls like Stall.
	StallBody
	// InternalError answers 500 InternalError without forwarding.
	InternalError
	// SlowDown answers 503 SlowDown without forwarding, as S3 does to
	// shed load.
	SlowDown
	// Throttle forwards the request but reads its body and writes the
	// response body at Options.Rate bytes a second: a slow link that
	// never stops moving.
	Throttle
	// NoSuchUpload answers 404 NoSuchUpload without forwarding, as S3 may
	// answer a CompleteMultipartUpload sent again after the upload was
	// completed (AWS documents both this and a second 200).
	NoSuchUpload
	// PreconditionFailedIn200 answers 200 OK carrying a PreconditionFailed
	// error document, without forwarding: S3's answer to a conditional
	// CompleteMultipartUpload (If-None-Match: *) sent again after the
	// first one made the object, when S3 had sent the 200 of a Complete
	// before the error came up.
	PreconditionFailedIn200
)

func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case ResetRequest:
		return "reset-request"
	case ResetResponse:
		return "reset-response"
	case Stall:
		return "stall"
	case StallBody:
		return "stall-body"
	case InternalError:
		return "500"
	case SlowDown:
		return "503-slowdown"
	case Throttle:
		return "throttle"
	case NoSuchUpload:
		return "404-nosuchupload"
	case PreconditionFailedIn200:
		return "200-preconditionfailed"
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// Rule injects Fault into the requests it matches.
type Rule struct {
	Fault Fault
	// Match selects requests; nil matches every one.
	Match func(*http.Request) bool
	// Every injects into one matching request out of Every, starting with
	// the first; 0 and 1 mean every matching request.
	Every int
	// Limit caps the number of injections; 0 means no cap.
	Limit int

	seen, injected int
}

// Options configure a Proxy.
type Options struct {
	// Target is the server's base URL, such as http://127.0.0.1:7070.
	Target string
	// Latency is added before every request is handled.
	Latency time.Duration
	// Stall is how long a stalled exchange is held before the proxy drops
	// it; 0 means one minute. A client that gives up first ends it sooner.
	Stall time.Duration
	// Rate is the bandwidth of a Throttle, in bytes a second; 0 means
	// 1 MiB/s.
	Rate int
}

// Proxy is a running fault-injecting proxy on a loopback port.
type Proxy struct {
	// URL is where clients connect instead of Target.
	URL string

	target    *url.URL
	stall     time.Duration
	rate      int
	transport *http.Transport
	server    *http.Server
	served    chan error

	mu       sync.Mutex
	latency  time.Duration
	rules    []*Rule
	injected map[Fault]int
	requests int
	inFlight int // requests being handled now
	peak     int // the most handled at once since Start or ResetPeak
}

// Start listens on a free loopback port and proxies to o.Target.
func Start(o Options) (*Proxy, error) {
	target, err := url.Parse(o.Target)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q is not an http(s) URL", o.Target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{
		URL:    "http://" + ln.Addr().String(),
		target: target,
		stall:  o.Stall,
		// Its own transport, so that no connection is shared with the
		// client under test and faults stay where they are injected.
		transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
		served:   make(chan error, 1),
		latency:  o.Latency,
		injected: make(map[Fault]int),
	}
	if p.stall <= 0 {
		p.stall = time.Minute
	}
	p.rate = o.Rate
	if p.rate <= 0 {
		p.rate = 1 << 20
	}
	p.server = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { p.served <- p.server.Serve(ln) }()
	return p, nil
}

// Close stops the proxy and drops every connection, stalled ones included.
func (p *Proxy) Close() error {
	err := p.server.Close()
	p.transport.CloseIdleConnections()
	if serveErr := <-p.served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// SetRules replaces the rules, and their counts, for the requests to come.
// For each request the first rule that matches and has an injection due
// decides its fault.
func (p *Proxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = p.rules[:0]
	for _, r := range rules {
		r.seen, r.injected = 0, 0
		p.rules = append(p.rules, &r)
	}
}

// SetLatency changes the latency added to requests from now on.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// Injected returns how many times f was injected since Start.
func (p *Proxy) Injected(f Fault) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected[f]
}

// Requests returns how many requests reached the proxy since Start.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// PeakInFlight returns the most requests the proxy was handling at once
// since Start or the last ResetPeak, so that a test can check how many a
// client keeps in flight.
func (p *Proxy) PeakInFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// ResetPeak starts counting PeakInFlight afresh.
func (p *Proxy) ResetPeak() {
	p.mu.Lock()
	p.peak = p.inFlight
	p.mu.Unlock()
}

// decide picks the fault for r and counts it.
func (p *Proxy) decide(r *http.Request) (Fault, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	p.inFlight++
	p.peak = max(p.peak, p.inFlight)
	fault := None
	for _, rule := range p.rules {
		if rule.Match != nil && !rule.Match(r) {
			continue
		}
		rule.seen++
		every := max(rule.Every, 1)
		if (rule.seen-1)%every != 0 || (rule.Limit > 0 && rule.injected >= rule.Limit) {
			continue
		}
		rule.injected++
		fault = rule.Fault
		break
	}
	p.injected[fault]++
	return fault, p.latency
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fault, latency := p.decide(r)
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	if latency > 0 && !sleep(r.Context(), latency) {
		return
	}
	switch fault {
	case ResetRequest:
		// Half of what the client announced; a body of unknown length
		// loses its connection after its first 32 KiB.
		half := int64(32 << 10)
		if r.ContentLength >= 0 {
			half = r.ContentLength / 2
		}
		_, _ = io.CopyN(io.Discard, r.Body, half)
		reset(w)
	case Stall:
		_, _ = io.Copy(io.Discard, r.Body)
		p.hold(r.Context())
		reset(w)
	case InternalError:
		_, _ = io.Copy(io.Discard, r.Body)
		s3Error(w, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case SlowDown:
		_, _ = io.Copy(io.Discard, r.Body)
		s3Error(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case NoSuchUpload:
		_, _ = io.Copy(io.Discard, r.Body)
		s3Error(w, r, http.StatusNotFound, "NoSuchUpload", "The specified multipart upload does not exist.")
	case PreconditionFailedIn200:
		_, _ = io.Copy(io.Discard, r.Body)
		s3Error(w, r, http.StatusOK, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	default:
		p.forward(w, r, fault)
	}
}

// forward sends r to the target and copies the answer back, cut in the
// middle of its body for ResetResponse and StallBody.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, fault Fault) {
	out := r.Clone(r.Context())
	out.URL.Scheme = p.target.Scheme
	out.URL.Host = p.target.Host
	out.RequestURI = ""
	out.Host = r.Host // signed by the client
	if r.ContentLength == 0 {
		out.Body = nil
	} else if fault == Throttle {
		out.Body = io.NopCloser(&throttled{r: r.Body, rate: p.rate, ctx: r.Context()})
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		// The client sees what a dead server would give it.
		reset(w)
		return
	}
	defer resp.Body.Close()

	cut := int64(-1)
	if fault == ResetResponse || fault == StallBody {
		if resp.ContentLength <= 0 || r.Method == http.MethodHead {
			if fault == StallBody {
				p.hold(r.Context())
			}
			reset(w)
			return
		}
		cut = resp.ContentLength / 2
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	if fault == Throttle {
		_, _ = io.Copy(flushing{w}, &throttled{r: resp.Body, rate: p.rate, ctx: r.Context()})
		return
	}
	if cut < 0 {
		_, _ = io.Copy(w, resp.Body)
		return
	}
	_, _ = io.CopyN(w, resp.Body, cut)
	_ = http.NewResponseController(w).Flush()
	if fault == StallBody {
		p.hold(r.Context())
	}
	reset(w)
}

// throttled reads at most rate bytes a second, in slices of a tenth of a
// second, so that bytes keep moving however slowly.
type throttled struct {
	r    io.Reader
	rate int
	ctx  context.Context
}

func (t *throttled) Read(p []byte) (int, error) {
	slice := max(t.rate/10, 1)
	if len(p) > slice {
		p = p[:slice]
	}
	if !sleep(t.ctx, time.Duration(len(p))*time.Second/time.Duration(t.rate)) {
		return 0, t.ctx.Err()
	}
	return t.r.Read(p)
}

// flushing sends each write to the client at once.
type flushing struct{ w http.ResponseWriter }

func (f flushing) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = http.NewResponseController(f.w).Flush()
	}
	return n, err
}

// hold waits out a stall: until the client goes away, the proxy closes, or
// the stall time has passed.
func (p *Proxy) hold(ctx context.Context) {
	sleep(ctx, p.stall)
}

// sleep waits d and reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// reset drops the client's connection with a TCP RST, so that the client
// sees "connection reset by peer" rather than a clean end of stream.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// No connection to take over: abort the response instead.
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// s3Error answers as S3 does when it fails a request; responses to HEAD
// carry no body.
func s3Error(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><RequestId>faultproxy</RequestId></Error>`, code, message)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}
