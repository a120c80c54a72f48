// Command ogive keeps encrypted backups in Amazon S3 Glacier Deep Archive.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/awnumar/memguard"
	"golang.org/x/term"

	"github.com/ogive-project/ogive/cmd"
	"github.com/ogive-project/ogive/harden"
	"github.com/ogive-project/ogive/input"
)

// interruptGrace is how long ogive has to stop by itself after SIGINT,
// SIGTERM, SIGHUP or SIGQUIT. Transfers see the cancelled context at once and clean up; a
// password being read from a pipe does not, so after the grace, or at a
// second signal, the process exits anyway. A prompt waiting at the
// terminal has nothing to clean up: the process exits at once.
const interruptGrace = 3 * time.Second

// exitInterrupted is the status cmd reports for an interrupt, as shells do.
const exitInterrupted = 130

func main() {
	// Before any key or password is in memory. ogive works without it, as
	// it did before, so a failure is a warning.
	if err := harden.Process(); err != nil {
		fmt.Fprintf(os.Stderr, "warning: other processes of this user may read ogive's memory: %v\n", err)
	}
	// Before memguard locks anything: nothing in its package initialisation
	// does.
	if !prepareMemoryLock(os.Stderr, os.Args[1:]) {
		os.Exit(1)
	}
	cmd.SetMemoryLimit()
	enableTerminalEscapes()
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	// SIGHUP (the terminal closed) and SIGQUIT (Ctrl-\ outside a prompt)
	// end ogive too, and must not leave a prompt's terminal without echo.
	// A signal ogive was started with ignored stays ignored: Notify would
	// undo that, and "nohup ogive put big.tar &" would stop at logout.
	// On Windows, Go delivers Ctrl-C and Ctrl-Break as os.Interrupt, and
	// the console window closing, logoff and shutdown as SIGTERM (Windows
	// ends the process a few seconds later whatever it does); SIGHUP and
	// SIGQUIT are never sent there, so asking for them is harmless.
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		if !signal.Ignored(sig) {
			signal.Notify(signals, sig)
		}
	}
	go func() {
		<-signals
		cancel()
		// A prompt waiting at the terminal cannot see the signal, and what
		// is typed after Ctrl-C must not become its answer: exit now, with
		// echo back on. Later prompts refuse to start.
		if input.Interrupt() {
			fmt.Fprintln(os.Stderr, "ogive: interrupted")
			safeExit(exitInterrupted)
		}
		select {
		case <-signals:
		case <-time.After(interruptGrace):
		}
		// A password prompt may still be waiting with echo off.
		input.RestoreTerminal()
		// A transfer that did not stop in time may have left its bar, and
		// the terminal's echo of ^C, on the line.
		if term.IsTerminal(int(os.Stderr.Fd())) {
			fmt.Fprint(os.Stderr, "\r\x1b[K")
		}
		fmt.Fprintln(os.Stderr, "ogive: interrupted")
		safeExit(exitInterrupted)
	}()
	code := cmd.Main(ctx, cmd.SystemFactory())
	safeExit(code)
}

// purgeGrace is how long memguard has to purge before the process exits
// without it: memguard deadlocks on its own mutex when it fails to lock
// memory, and then an interrupt must still end ogive. Its memory goes back
// to the system at exit all the same.
const purgeGrace = 5 * time.Second

// safeExit exits through memguard.SafeExit, which purges every enclave
// and locked buffer first, or after purgeGrace without it.
func safeExit(code int) {
	go func() {
		time.Sleep(purgeGrace)
		os.Exit(code)
	}()
	memguard.SafeExit(code)
}
