//go:build linux

package input

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pty is a pseudo-terminal: the test types on the master side, the code
// under test opens the slave device as its terminal.
type pty struct {
	master, slave *os.File
	path          string

	mu  sync.Mutex
	out bytes.Buffer // everything the terminal displayed
}

func newPTY(t *testing.T) *pty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	fd := int(master.Fd())
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	p := &pty{master: master, path: fmt.Sprintf("/dev/pts/%d", n)}
	// Holding the slave open keeps the master readable between questions.
	if p.slave, err = os.OpenFile(p.path, os.O_RDWR|unix.O_NOCTTY, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.slave.Close()
		p.master.Close()
	})
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *pty) displayed() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor polls until cond holds, so typing happens only once the code
// under test is ready for it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *pty) echoOff() bool {
	tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	return err == nil && tio.Lflag&unix.ECHO == 0
}

func (p *pty) typeAfter(t *testing.T, prompt, input string, needEchoOff bool) {
	go func() {
		waitFor(t, "prompt", func() bool { return strings.Contains(p.displayed(), prompt) })
		if needEchoOff {
			waitFor(t, "echo off", p.echoOff)
		}
		if _, err := p.master.WriteString(input); err != nil {
			t.Error(err)
		}
	}()
}

func TestTTYReadPassword(t *testing.T) {
	p := newPTY(t)
	term := tty{path: p.path}
	p.typeAfter(t, "Password: ", "s3cr3t pw\n", true)
	pw, err := term.ReadPassword("Password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, pw); got != "s3cr3t pw" {
		t.Errorf("got %q", got)
	}
	waitFor(t, "newline", func() bool { return strings.HasSuffix(p.displayed(), "\n") })
	if shown := p.displayed(); strings.Contains(shown, "s3cr3t") {
		t.Errorf("terminal echoed the password: %q", shown)
	} else if strings.TrimRight(shown, "\r\n") != "Password: " {
		t.Errorf("terminal shows %q", shown)
	}
	if p.echoOff() {
		t.Error("echo left off")
	}
}

func TestTTYReadLine(t *testing.T) {
	p := newPTY(t)
	term := tty{path: p.path}
	p.typeAfter(t, "Bucket: ", "my-bucket\n", false)
	got, err := term.ReadLine("Bucket: ")
	if err != nil {
		t.Fatal(err)
	}
	if got != "my-bucket" {
		t.Errorf("got %q", got)
	}
	waitFor(t, "echo", func() bool { return strings.Contains(p.displayed(), "my-bucket") })

	p.typeAfter(t, "Region: ", "\n", false)
	if got, err := term.ReadLine("Region: "); err != nil || got != "" {
		t.Errorf("empty line: %q, %v", got, err)
	}
}

// An interrupt that ends the process while a password prompt waits must not
// leave the terminal without echo: RestoreTerminal, which main calls then,
// turns it back on; with no prompt waiting it does nothing.
func TestRestoreTerminalDuringAPrompt(t *testing.T) {
	RestoreTerminal() // nothing waiting: no effect, no panic
	p := newPTY(t)
	term := tty{path: p.path}
	done := make(chan error, 1)
	go func() {
		pw, err := term.ReadPassword("Password: ")
		if pw != nil {
			pw.Destroy()
		}
		done <- err
	}()
	waitFor(t, "echo off", p.echoOff)
	RestoreTerminal()
	if p.echoOff() {
		t.Error("echo still off after RestoreTerminal")
	}
	// The prompt itself still ends normally when its line comes.
	if _, err := p.master.WriteString("late\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ReadPassword: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadPassword did not return")
	}
	RestoreTerminal() // the prompt is over: nothing to do
}
