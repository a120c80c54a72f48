// Command wanproxy puts emulated wide-area links in front of local servers
// for make bench: it runs a toxiproxy server on loopback and gives each
// proxy a model's latency and per-connection bandwidth toxics, in both
// directions (docs/BENCHMARKS.md, "WAN models").
//
//	wanproxy [-toxiproxy BIN] [-log FILE] MODEL=HOST:PORT...
//
// For each argument, in order, it prints one line "MODEL HOST:PORT LISTEN",
// LISTEN being the proxy's loopback address, then a line "ready", and runs
// until interrupted. It reads each proxy back every second, and stops them
// all if any has changed: toxiproxy's API takes orders from any local user. Models: wan40 (20 ms each way, 20 MiB/s per connection)
// and wan100 (50 ms each way, 10 MiB/s per connection).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type link struct {
	model    model
	upstream string
}

func parseLink(arg string) (link, error) {
	name, upstream, ok := strings.Cut(arg, "=")
	m, known := models[name]
	if !ok || !known {
		return link{}, fmt.Errorf("bad link %q: want MODEL=HOST:PORT, MODEL one of %s", arg, modelNames())
	}
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		return link{}, fmt.Errorf("bad link %q: %v", arg, err)
	}
	return link{model: m, upstream: upstream}, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wanproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("toxiproxy", "", "toxiproxy server binary (default: $OGIVE_TOXIPROXY, PATH, then the Go bin directory)")
	logFile := fs.String("log", "", "file for the toxiproxy server's log (default: stderr)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: wanproxy [-toxiproxy BIN] [-log FILE] MODEL=HOST:PORT...")
		return 2
	}
	var links []link
	for _, a := range fs.Args() {
		l, err := parseLink(a)
		if err != nil {
			fmt.Fprintf(stderr, "wanproxy: %v\n", err)
			return 2
		}
		links = append(links, l)
	}
	if *bin == "" {
		var err error
		if *bin, err = findToxiproxy(); err != nil {
			fmt.Fprintf(stderr, "wanproxy: %v\n", err)
			return 1
		}
	}
	logw := stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "wanproxy: %v\n", err)
			return 1
		}
		defer f.Close()
		logw = f
	}
	s, err := startServer(ctx, *bin, logw)
	if err != nil {
		fmt.Fprintf(stderr, "wanproxy: %v\n", err)
		return 1
	}
	defer s.stop()
	fmt.Fprintf(stderr, "wanproxy: toxiproxy API on %s\n", s.api)
	names := make([]string, len(links))
	listens := make([]string, len(links))
	for i, l := range links {
		names[i] = fmt.Sprintf("%s_%d", l.model.name, i)
		listens[i], err = s.proxy(ctx, names[i], l.model, l.upstream)
		if err != nil {
			fmt.Fprintf(stderr, "wanproxy: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s %s %s\n", l.model.name, l.upstream, listens[i])
	}
	fmt.Fprintln(stdout, "ready")
	// Every second, the proxies must still be what they were made: if
	// anything changed them, stop them all, so that the run fails rather
	// than measure another network.
	for {
		select {
		case <-ctx.Done():
			return 0
		case <-s.exited:
			fmt.Fprintf(stderr, "wanproxy: toxiproxy server exited: %v\n", s.err)
			return 1
		case <-time.After(time.Second):
		}
		for i, l := range links {
			if err := s.check(ctx, names[i], l.model, l.upstream, listens[i]); err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "wanproxy: the model changed during the run, stopping every proxy: %v\n", err)
				return 1
			}
		}
	}
}
