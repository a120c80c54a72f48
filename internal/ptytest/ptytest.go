//go:build unix

// Package ptytest runs a program on a pseudo-terminal of a set size, as a
// person at a terminal would meet it: the test types keys, presses Ctrl-C
// and reads the screen through a terminal emulator (vt10x), so that wrapped
// lines, carriage returns and erased lines look as they would to a user.
package ptytest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
)

// Options describe one program run.
type Options struct {
	Bin  string
	Args []string
	// Env is the whole environment; PATH is added from the test's own.
	Env []string
	Dir string
	// Rows and Cols are the terminal's size; 24×80 when zero.
	Rows, Cols int
	// Stdin, when set, is piped to the program instead of the terminal
	// (echo pw | ogive …); the terminal stays its controlling terminal.
	Stdin io.Reader
	// Stdout, when set, receives the program's standard output instead
	// of the terminal (ogive list > file).
	Stdout io.Writer
}

// Term is a running program and the terminal it runs on.
type Term struct {
	t   testing.TB
	cmd *exec.Cmd
	pty *os.File
	vt  vt10x.Terminal

	mu  sync.Mutex
	raw bytes.Buffer // every byte the program wrote to the terminal

	done chan struct{}
	code int
}

// Start runs o.Bin in a new session whose controlling terminal is a fresh
// pseudo-terminal, so that /dev/tty and Ctrl-C work as at a real one.
func Start(t testing.TB, o Options) *Term {
	t.Helper()
	if o.Rows == 0 {
		o.Rows = 24
	}
	if o.Cols == 0 {
		o.Cols = 80
	}
	c := exec.Command(o.Bin, o.Args...)
	c.Env = append(append([]string{}, o.Env...), "PATH="+os.Getenv("PATH"), "TERM=xterm")
	c.Dir = o.Dir
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: uint16(o.Rows), Cols: uint16(o.Cols)}); err != nil {
		t.Fatalf("set the terminal size: %v", err)
	}
	c.Stdin, c.Stdout, c.Stderr = tty, tty, tty
	if o.Stdin != nil {
		c.Stdin = o.Stdin
	}
	if o.Stdout != nil {
		c.Stdout = o.Stdout
	}
	// Ctty is the child's descriptor of the terminal: stderr is always it.
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 2}
	if err := c.Start(); err != nil {
		ptmx.Close()
		tty.Close()
		t.Fatalf("start %s: %v", o.Bin, err)
	}
	tty.Close()
	tm := &Term{t: t, cmd: c, pty: ptmx, done: make(chan struct{}), code: -1}
	tm.vt = vt10x.New(vt10x.WithSize(o.Cols, o.Rows))
	go tm.read()
	go func() {
		err := c.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
			tm.code = 0
		case errors.As(err, &exit):
			tm.code = exit.ExitCode()
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				tm.code = 128 + int(ws.Signal())
			}
		}
		close(tm.done)
	}()
	t.Cleanup(func() {
		select {
		case <-tm.done:
		default:
			_ = c.Process.Kill()
			<-tm.done
		}
		ptmx.Close()
	})
	return tm
}

func (tm *Term) read() {
	buf := make([]byte, 4096)
	for {
		n, err := tm.pty.Read(buf)
		if n > 0 {
			tm.mu.Lock()
			tm.raw.Write(buf[:n])
			_, _ = tm.vt.Write(buf[:n])
			tm.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// Type sends keys as typed: "secret\r" is a line, "\x03" is Ctrl-C.
func (tm *Term) Type(keys string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.pty, keys); err != nil {
		tm.t.Fatalf("type on the terminal: %v", err)
	}
}

// Raw is everything written to the terminal so far, escape sequences and
// carriage returns included.
func (tm *Term) Raw() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.raw.String()
}

// Screen is what the terminal shows now: one string per row, trailing
// spaces removed.
func (tm *Term) Screen() []string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	rows := strings.Split(strings.TrimSuffix(tm.vt.String(), "\n"), "\n")
	for i, r := range rows {
		rows[i] = strings.TrimRight(r, " \x00")
	}
	return rows
}

// ScreenText is the screen as one string, empty rows at the end dropped.
func (tm *Term) ScreenText() string {
	return strings.TrimRight(strings.Join(tm.Screen(), "\n"), "\n")
}

// Cursor is the cursor's column and row, from zero.
func (tm *Term) Cursor() (col, row int) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	c := tm.vt.Cursor()
	return c.X, c.Y
}

// Resize changes the terminal's size, as a user dragging the window does;
// the program gets SIGWINCH.
func (tm *Term) Resize(rows, cols int) {
	tm.t.Helper()
	tm.mu.Lock()
	tm.vt.Resize(cols, rows)
	tm.mu.Unlock()
	if err := pty.Setsize(tm.pty, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)}); err != nil {
		tm.t.Fatalf("resize the terminal: %v", err)
	}
}

// WaitFor waits until the terminal has shown want (in the raw output, so
// text that has scrolled away still counts) and fails the test after
// timeout.
func (tm *Term) WaitFor(want string, timeout time.Duration) {
	tm.t.Helper()
	if !tm.waitUntil(timeout, func() bool { return strings.Contains(tm.Raw(), want) }) {
		tm.t.Fatalf("timed out after %s waiting for %q on the terminal; it shows:\n%s\nraw: %q",
			timeout, want, tm.ScreenText(), tm.Raw())
	}
}

// WaitScreen waits until cond holds for the screen.
func (tm *Term) WaitScreen(what string, timeout time.Duration, cond func(rows []string) bool) {
	tm.t.Helper()
	if !tm.waitUntil(timeout, func() bool { return cond(tm.Screen()) }) {
		tm.t.Fatalf("timed out after %s waiting for %s; the terminal shows:\n%s", timeout, what, tm.ScreenText())
	}
}

func (tm *Term) waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-tm.done:
			// One last look at what the program wrote before it ended.
			time.Sleep(50 * time.Millisecond)
			return cond()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

// Wait waits for the program to end and returns its exit status (128+n
// for a signal n); it fails the test after timeout.
func (tm *Term) Wait(timeout time.Duration) int {
	tm.t.Helper()
	select {
	case <-tm.done:
	case <-time.After(timeout):
		tm.t.Fatalf("still running after %s; the terminal shows:\n%s", timeout, tm.ScreenText())
	}
	// Let the reader drain what the program wrote last.
	time.Sleep(50 * time.Millisecond)
	return tm.code
}

// Done reports whether the program has ended.
func (tm *Term) Done() bool {
	select {
	case <-tm.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the program.
func (tm *Term) Signal(sig os.Signal) {
	tm.t.Helper()
	if err := tm.cmd.Process.Signal(sig); err != nil {
		tm.t.Fatalf("signal: %v", err)
	}
}

// Echo reports whether the terminal echoes what is typed now, that is
// whether a program left it as it found it.
func (tm *Term) Echo() (bool, error) {
	st, err := termiosOf(tm.pty)
	if err != nil {
		return false, err
	}
	return st&syscall.ECHO != 0, nil
}
