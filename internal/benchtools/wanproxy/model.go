package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// A model is one emulated wide-area link: a one-way delay in each direction
// (so the round trip is twice that) and a bandwidth cap on each TCP
// connection in each direction. Nothing caps the aggregate of several
// connections.
type model struct {
	name    string
	oneWay  time.Duration // added once in each direction
	perConn int64         // bytes per second, per connection, per direction
}

const mib = 1 << 20

// models are the links of make bench (issue 15): the round trip, then the
// bandwidth of one connection.
var models = map[string]model{
	"wan40":  {name: "wan40", oneWay: 20 * time.Millisecond, perConn: 20 * mib},
	"wan100": {name: "wan100", oneWay: 50 * time.Millisecond, perConn: 10 * mib},
}

func modelNames() string {
	var names []string
	for n := range models {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// rateKB is the model's bandwidth in toxiproxy's unit. Its bandwidth toxic
// takes "rate" in KB/s and sleeps len(chunk)·1ms/rate per chunk, so its KB
// is 1000 bytes. Rounding down keeps the cap at or under the model's.
func (m model) rateKB() int64 { return m.perConn / 1000 }

// toxic is toxiproxy's JSON for one toxic (POST /proxies/NAME/toxics).
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// toxics are the model's toxics, in the order they must be added: toxiproxy
// chains a direction's toxics in that order, and the order matters.
//
// In each direction the bandwidth toxic comes first, then the latency toxic.
// Toxiproxy reads a chunk (32 KiB at most) from one side, passes it down the
// chain and writes it to the other side. The latency toxic has a buffer of
// 1024 chunks in front of it and the bandwidth toxic none: first in the
// chain, the latency toxic would let the proxy read up to 32 MiB ahead of
// what the bandwidth toxic lets through, and a sender would see its first
// 32 MiB accepted at once, as no real link does. Behind the bandwidth toxic,
// that buffer fills only with what the link has already carried. The
// latency toxic holds each chunk until oneWay after the proxy read it, so
// a lone request pays exactly oneWay, and a long transfer's chunks arrive up
// to one chunk's pacing (1.6 ms at 20 MiB/s) sooner than oneWay + n/rate.
func (m model) toxics() []toxic {
	var ts []toxic
	for _, dir := range []string{"upstream", "downstream"} {
		ts = append(ts,
			toxic{Name: "bandwidth_" + dir, Type: "bandwidth", Stream: dir, Toxicity: 1,
				Attributes: map[string]any{"rate": m.rateKB()}},
			toxic{Name: "latency_" + dir, Type: "latency", Stream: dir, Toxicity: 1,
				Attributes: map[string]any{"latency": m.oneWay.Milliseconds(), "jitter": 0}})
	}
	return ts
}

// server is a running toxiproxy server.
type server struct {
	api    string // base URL of its HTTP API
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited is closed
}

// findToxiproxy returns the toxiproxy server binary: $OGIVE_TOXIPROXY, then
// toxiproxy-server on PATH, then in the Go bin directory (make bench-tools).
func findToxiproxy() (string, error) {
	if p := os.Getenv("OGIVE_TOXIPROXY"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("toxiproxy-server"); err == nil {
		return p, nil
	}
	gobin := os.Getenv("GOBIN")
	if gobin == "" {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err == nil {
			gobin = filepath.Join(strings.TrimSpace(string(out)), "bin")
		}
	}
	if gobin != "" {
		p := filepath.Join(gobin, "toxiproxy-server")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("toxiproxy-server not found: run make bench-tools, or set OGIVE_TOXIPROXY")
}

// freePort returns a loopback port that was free a moment ago; toxiproxy's
// API cannot listen on port 0 and say which port it got.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// startServer runs the toxiproxy server at bin on loopback, its log going to
// logw, and waits until its API answers.
func startServer(ctx context.Context, bin string, logw io.Writer) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", port)
	cmd.Env = append(os.Environ(), "LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = logw, logw
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{api: "http://127.0.0.1:" + port, cmd: cmd, exited: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := s.call(ctx, http.MethodGet, "/version", nil, nil); err == nil {
			// An answer from a process that took the port first would
			// leave ours unable to listen: it exits at once.
			select {
			case <-s.exited:
				return nil, fmt.Errorf("%s exited: %v; is another process listening on %s?", bin, s.err, s.api)
			case <-time.After(300 * time.Millisecond):
			}
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("%s exited before its API answered: %v", bin, s.err)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s: API did not answer on %s", bin, s.api)
		}
	}
}

// stop ends the server, if it is still running.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// call sends one API request with body as JSON and decodes the answer into out.
func (s *server) call(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.api+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("toxiproxy %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// proxy creates a proxy named name on a free loopback port in front of
// upstream, with m's toxics, and returns the address it listens on.
func (s *server) proxy(ctx context.Context, name string, m model, upstream string) (string, error) {
	var p proxyState
	err := s.call(ctx, http.MethodPost, "/proxies", map[string]any{
		"name": name, "listen": "127.0.0.1:0", "upstream": upstream, "enabled": true,
	}, &p)
	if err != nil {
		return "", fmt.Errorf("create proxy %s: %w", name, err)
	}
	for _, t := range m.toxics() {
		if err := s.call(ctx, http.MethodPost, "/proxies/"+name+"/toxics", t, nil); err != nil {
			return "", fmt.Errorf("proxy %s: add %s: %w", name, t.Name, err)
		}
	}
	// Read the proxy back: it must have exactly the model's toxics.
	if err := s.check(ctx, name, m, upstream, p.Listen); err != nil {
		return "", err
	}
	return p.Listen, nil
}

// proxyState is toxiproxy's JSON for one proxy (GET /proxies/NAME).
type proxyState struct {
	Listen   string  `json:"listen"`
	Upstream string  `json:"upstream"`
	Enabled  bool    `json:"enabled"`
	Toxics   []toxic `json:"toxics"`
}

// check says whether proxy name still is what proxy made it: m's toxics,
// from listen to upstream. Toxiproxy's API takes orders from any local
// user, who could change a model in the middle of a run.
func (s *server) check(ctx context.Context, name string, m model, upstream, listen string) error {
	var p proxyState
	if err := s.call(ctx, http.MethodGet, "/proxies/"+name, nil, &p); err != nil {
		return fmt.Errorf("proxy %s: read it back: %w", name, err)
	}
	if p.Listen != listen || p.Upstream != upstream || !p.Enabled {
		return fmt.Errorf("proxy %s: listens on %s for %s, enabled %v; want %s for %s, enabled",
			name, p.Listen, p.Upstream, p.Enabled, listen, upstream)
	}
	if err := sameToxics(m.toxics(), p.Toxics); err != nil {
		return fmt.Errorf("proxy %s: %w", name, err)
	}
	return nil
}

// sameToxics compares toxics as JSON numbers, so that 20 and 20.0 agree.
func sameToxics(want, got []toxic) error {
	norm := func(ts []toxic) string {
		b, _ := json.Marshal(ts)
		var v any
		_ = json.Unmarshal(b, &v)
		b, _ = json.Marshal(v)
		return string(b)
	}
	if norm(want) != norm(got) {
		return fmt.Errorf("toxics are %s, want %s", norm(got), norm(want))
	}
	return nil
}
