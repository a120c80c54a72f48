package cmd_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fp "github.com/ogive-project/ogive/internal/faultproxy"
)

// interruptBound is how soon ogive must be gone after a signal.
const interruptBound = 5 * time.Second

// process is the real ogive binary running in the background.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{}
}

// lockedBuffer is written by exec's copying goroutine while a test reads it.
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

func (l *lockedBuffer) Len() int { return len(l.String()) }

func (r *rig) start(t *testing.T, bin string, stdin io.Reader, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdin = stdin
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	for k, v := range r.env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Env = append(p.cmd.Env, "PATH="+os.Getenv("PATH"))
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// signal sends sig and waits for the exit, which must come within
// interruptBound; it returns the exit code.
func (p *process) signal(t *testing.T, sig os.Signal) int {
	t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(interruptBound):
		t.Fatalf("still running %v after %v; stderr: %s", interruptBound, sig, p.stderr.String())
	}
	t.Logf("%v: exit %d after %v; stderr: %s", sig, p.cmd.ProcessState.ExitCode(), time.Since(sent).Round(time.Millisecond), p.stderr.String())
	return p.cmd.ProcessState.ExitCode()
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInterrupts sends SIGINT and SIGTERM to the real binary in the middle
// of a put and of a get, and while it waits for a password: it must exit
// within interruptBound with status 130, clean up the multipart upload or
// leave resumable state, and never leave a file under the final name.
func TestInterrupts(t *testing.T) {
	r := newRig(t, rigOptions{})
	bin := buildOgive(t)
	ctx := context.Background()
	big := randomBytes(t, 40<<20)
	bigPath := r.write("big.bin", big)
	r.proxy.SetLatency(2 * time.Millisecond)

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run("put/"+sig.String(), func(t *testing.T) {
			// Every part stalls: the upload is under way and cannot finish.
			r.proxy.SetRules(fp.Rule{Fault: fp.Stall, Match: isUploadPart})
			defer r.proxy.SetRules()
			stalls := r.proxy.Injected(fp.Stall)
			p := r.start(t, bin, nil, "put", "--password-file", r.pwFile, bigPath)
			waitFor(t, "an upload part to stall", func() bool { return r.proxy.Injected(fp.Stall) > stalls })
			checkProcess(t, p.cmd.Process.Pid)
			if code := p.signal(t, sig); code != 130 {
				t.Errorf("exit %d, want 130", code)
			}
			if !strings.Contains(p.stderr.String(), "ogive: interrupted") {
				t.Errorf("stderr does not say it was interrupted: %q", p.stderr.String())
			}
			if p.stdout.Len() != 0 {
				t.Errorf("an interrupted put printed a storage ID: %q", p.stdout.String())
			}
			// Either the upload was aborted, or resumable state says where it stands.
			ups, err := r.directStore().ListUploads(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ups) > 0 && !hasStateFiles(t, r) {
				t.Errorf("%d multipart uploads left and no resume state", len(ups))
			}
			for _, u := range ups {
				r.directStore().AbortUpload(ctx, u.Key, u.UploadID)
			}
		})
	}

	ids := r.put(bigPath)
	r.restoreAll(ids[0])
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run("get/"+sig.String(), func(t *testing.T) {
			// The first range arrives, the next stalls half-way.
			r.proxy.SetRules(
				fp.Rule{Fault: fp.None, Match: isGetObject, Limit: 1},
				fp.Rule{Fault: fp.StallBody, Match: isGetObject},
			)
			defer r.proxy.SetRules()
			out := r.mkdir("out-" + sig.String())
			stalls := r.proxy.Injected(fp.StallBody)
			p := r.start(t, bin, nil, "get", "--password-file", r.pwFile, "--concurrency", "1", ids[0], out)
			waitFor(t, "a range to stall", func() bool { return r.proxy.Injected(fp.StallBody) > stalls })
			// The download is under way in a hidden temporary file, private
			// to its owner, and there is nothing under the final name.
			const tmp = ".big.bin.ogive-partial"
			waitFor(t, "the temporary file to hold the first range", func() bool {
				st, err := os.Stat(filepath.Join(out, tmp))
				return err == nil && st.Size() >= 8<<20
			})
			if !strings.HasPrefix(tmp, ".big.bin.") {
				t.Errorf("temporary file %q is not hidden beside big.bin", tmp)
			}
			if st, err := os.Stat(filepath.Join(out, tmp)); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("temporary file mode %v (%v), want 0600", st.Mode().Perm(), err)
			}
			checkProcess(t, p.cmd.Process.Pid)
			if code := p.signal(t, sig); code != 130 {
				t.Errorf("exit %d, want 130", code)
			}
			// Nothing under the final name; the authenticated part is kept
			// hidden, with its record, for the next run.
			for _, name := range entries(t, out) {
				if !strings.HasPrefix(name, tmp) {
					t.Errorf("an interrupted get left %q", name)
				}
			}
			if !strings.Contains(p.stderr.String(), "the same command resumes it") {
				t.Errorf("stderr does not say the download can resume: %q", p.stderr.String())
			}
			r.proxy.SetRules()
			if res := r.ogive("", "get", "--password-file", r.pwFile, ids[0], out); res.code != 0 {
				t.Fatalf("resumed get: %s", res)
			} else if !strings.Contains(res.stderr, "Resuming the download") {
				t.Errorf("the second get did not resume: %s", res)
			}
			if got := entries(t, out); len(got) != 1 || got[0] != "big.bin" {
				t.Errorf("after the resumed get: %q", got)
			}
		})
	}

	// A password read from a pipe that never delivers cannot see the
	// cancelled context; the process still stops within the bound.
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run("password-prompt/"+sig.String(), func(t *testing.T) {
			// An *os.File, so that exec copies nothing and Wait returns
			// as soon as the process is gone.
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			p := r.start(t, bin, pr, "list")
			pr.Close()
			// Nothing shows from outside that the read has begun; a second is
			// ample for a Go binary to start and reach it.
			time.Sleep(time.Second)
			select {
			case <-p.done:
				t.Fatalf("exited without a password: %s", p.stderr.String())
			default:
			}
			if code := p.signal(t, sig); code != 130 {
				t.Errorf("exit %d, want 130", code)
			}
		})
	}
}

// checkProcess looks at a running ogive from outside: nothing secret on its
// command line, and core dumps off (memguard's protection).
func checkProcess(t *testing.T, pid int) {
	t.Helper()
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(cmdline, []byte(rigPassword)) {
		t.Errorf("the password is on the command line: %q", cmdline)
	}
	limits, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(limits), "\n") {
		if strings.HasPrefix(line, "Max core file size") {
			if f := strings.Fields(line); len(f) < 6 || f[4] != "0" || f[5] != "0" {
				t.Errorf("core dumps are not disabled: %q", line)
			}
			return
		}
	}
	t.Errorf("no core file size in /proc/%d/limits", pid)
}

func hasStateFiles(t *testing.T, r *rig) bool {
	found := false
	if _, err := os.Stat(r.env["XDG_STATE_HOME"]); err != nil {
		return false
	}
	walkFiles(t, r.env["XDG_STATE_HOME"], func(string, []byte) { found = true })
	return found
}
