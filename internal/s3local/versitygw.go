package s3local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// versitygwInstall is the command the errors point to when the binary is
// missing.
const versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// findVersitygw resolves the versitygw binary: the explicit path, then
// $OGIVE_VERSITYGW, then PATH, then the Go bin directory where go install
// puts it.
func findVersitygw(explicit string) (string, error) {
	if explicit != "" {
		return checkExecutable(explicit)
	}
	if p := os.Getenv("OGIVE_VERSITYGW"); p != "" {
		return checkExecutable(p)
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var tried []string
	for _, dir := range goBinDirs() {
		p := filepath.Join(dir, "versitygw")
		if _, err := checkExecutable(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("%w: not in PATH, $OGIVE_VERSITYGW unset, none of %s; install it with %q",
		ErrVersitygwNotFound, strings.Join(tried, ", "), versitygwInstall)
}

func checkExecutable(p string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%w: %w; install it with %q", ErrVersitygwNotFound, err, versitygwInstall)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%w: %s is not an executable file; install it with %q", ErrVersitygwNotFound, p, versitygwInstall)
	}
	return p, nil
}

// goBinDirs lists where go install may have put the binary: $GOBIN, each
// $GOPATH entry (asking the go tool when the variable is unset), and
// $HOME/go/bin.
func goBinDirs() []string {
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, p := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	return dirs
}

// gateway is a running versitygw child process.
type gateway struct {
	cmd    *exec.Cmd
	addr   string // 127.0.0.1:port
	exited chan struct{}
	// waitErr is set before exited is closed.
	waitErr error
	output  *tailWriter
}

type gatewayConfig struct {
	binary     string
	root       string // posix backend root
	sidecar    string // empty when xattrs work
	accessKey  string
	secretKey  string
	region     string
	log        io.Writer
	requestLog bool
}

// startGateway runs versitygw on a free loopback port and waits until it
// answers HTTP. The port is picked by binding and releasing it, so another
// process can take it in between; a gateway that dies at once is retried on
// a new port.
func startGateway(ctx context.Context, c gatewayConfig) (*gateway, error) {
	var lastErr error
	for range 3 {
		g, err := launchGateway(c)
		if err != nil {
			return nil, err
		}
		err = g.waitReady(ctx)
		if err == nil {
			return g, nil
		}
		_ = g.stop()
		if ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
	}
	return nil, lastErr
}

func freeLoopbackPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

func launchGateway(c gatewayConfig) (*gateway, error) {
	addr, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	args := []string{
		"--access", c.accessKey,
		"--secret", c.secretKey,
		"--region", c.region,
		"--port", addr,
		// Without it versitygw closes every connection after one request,
		// which costs a TCP handshake per part in a benchmark.
		"--keep-alive",
	}
	if !c.requestLog {
		args = append(args, "--quiet")
	}
	args = append(args, "posix")
	if c.sidecar != "" {
		args = append(args, "--sidecar", c.sidecar)
	}
	args = append(args, c.root)

	tail := &tailWriter{max: 8 << 10}
	out := io.Writer(tail)
	if c.log != nil {
		out = io.MultiWriter(tail, c.log)
	}
	cmd := exec.Command(c.binary, args...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = gatewayEnv()
	cmd.SysProcAttr = dieWithParent()
	g := &gateway{cmd: cmd, addr: addr, exited: make(chan struct{}), output: tail}
	started := make(chan error, 1)
	go func() {
		// Linux sends the parent-death signal when the thread that forked
		// the child exits, not the process: the Go runtime may end a
		// thread, so start and wait from one the goroutine never leaves.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		g.waitErr = cmd.Wait()
		close(g.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	return g, nil
}

// gatewayEnv is the parent's environment without versitygw's own settings:
// versitygw reads every flag from a VGW_* or ROOT_* variable too, and a
// developer's own values must not change how the test gateway behaves.
func gatewayEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VGW_") || strings.HasPrefix(kv, "ROOT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (g *gateway) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+g.addr+"/", nil)
		if err != nil {
			return fmt.Errorf("probe versitygw: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			// Any answer, typically 403 to an anonymous request, means the
			// S3 API is serving.
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return nil
		}
		select {
		case <-g.exited:
			return fmt.Errorf("versitygw exited before serving (%v): %s", g.waitErr, g.output.String())
		case <-ctx.Done():
			return fmt.Errorf("versitygw did not answer on %s: %w: %s", g.addr, ctx.Err(), g.output.String())
		case <-tick.C:
		}
	}
}

// stop terminates versitygw: SIGTERM, then SIGKILL if it lingers.
func (g *gateway) stop() error {
	select {
	case <-g.exited:
		return nil
	default:
	}
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop versitygw: %w", err)
	}
	select {
	case <-g.exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	if err := g.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill versitygw: %w", err)
	}
	<-g.exited
	return nil
}

// tailWriter keeps the last max bytes written, to quote in startup errors.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
