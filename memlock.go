package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"syscall"

	"github.com/ogive-project/ogive/harden"
)

// prepareMemoryLock makes sure, for a command line that may hold keys,
// that ogive can lock the memory memguard needs: memguard hangs, rather
// than fails, when it cannot. On failure it says so on w and returns
// false.
func prepareMemoryLock(w io.Writer, args []string) bool {
	if !needsKeys(args) {
		return true
	}
	err := harden.PrepareMemoryLock(harden.LockNeed())
	if err == nil {
		return true
	}
	var lockErr *harden.LockError
	if !errors.As(err, &lockErr) {
		fmt.Fprintf(w, "ogive: %v\n", err)
		return false
	}
	need := lockErr.Need >> 10
	if runtime.GOOS == "windows" {
		fmt.Fprintf(w, "ogive: cannot lock %d KiB of memory for keys (minimum working set %d KiB): %v\n",
			need, lockErr.Limit>>10, lockErr.Err)
		fmt.Fprintln(w, "hint: ogive could not raise its minimum working set; check that the account holds the privilege \"Increase a process working set\"")
		return false
	}
	limit := "unlimited"
	if lockErr.Limit >= 0 {
		limit = fmt.Sprintf("%d KiB", lockErr.Limit>>10)
	}
	fmt.Fprintf(w, "ogive: cannot lock %d KiB of memory for keys (ulimit -l is %s)\n", need, limit)
	// ogive raised the soft limit to the hard one already: only an
	// administrator can raise it further.
	suggest := max(1024, 2*need)
	switch {
	case lockErr.Limit < 0:
		fmt.Fprintln(w, "hint: the system's own limit on locked (wired) memory is reached; free some, or ask an administrator to raise it")
	case runtime.GOOS == "freebsd" && errors.Is(lockErr.Err, syscall.EPERM):
		fmt.Fprintln(w, "hint: the system lets only root lock memory (sysctl security.bsd.unprivileged_mlock=0): ask an administrator to set it to 1")
	case runtime.GOOS == "freebsd":
		fmt.Fprintf(w, "hint: ask an administrator to raise it to %d KiB: memorylocked in /etc/login.conf, or ulimit -l %d as root\n", suggest, suggest)
	case runtime.GOOS == "linux":
		fmt.Fprintf(w, "hint: ask an administrator to raise it to %d KiB: memlock in /etc/security/limits.conf, LimitMEMLOCK= for a systemd service, or ulimit -l %d as root\n", suggest, suggest)
	default:
		fmt.Fprintf(w, "hint: ask an administrator to raise it to %d KiB: ulimit -l %d as root\n", suggest, suggest)
	}
	return false
}

// rootValueFlags are ogive's global flags that take a value: their value is
// not the command's name.
var rootValueFlags = map[string]bool{
	"-p": true, "--profile": true, "--password-file": true, "--password-command": true,
}

// needsKeys reports whether the command line args (without the program's
// name) may open a profile, read a password or make a key. Help, --help of
// any command, --version, a bare "ogive" and shell completion do not: they
// must work whatever the limit on locked memory. When unsure it says yes:
// the check then runs for nothing.
func needsKeys(args []string) bool {
	command := ""
	help := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return true
		case a == "-h" || a == "--help":
			// Unless it is the value of the flag before it.
			if i == 0 || !strings.HasPrefix(args[i-1], "-") || strings.Contains(args[i-1], "=") {
				help = true
			}
		case command == "" && rootValueFlags[a]:
			// "-p FILE", "--profile FILE": FILE is not the command.
			i++
		case command == "" && len(a) > 2 && a[0] == '-' && a[1] != '-':
			// Short flags grouped: -p takes the rest of the group as its
			// value ("-plaptop", "-qp=laptop"), or the next argument when
			// it ends the group ("-qp laptop").
			if strings.IndexByte(a, 'p') == len(a)-1 {
				i++
			}
		case strings.HasPrefix(a, "-"):
		case command == "":
			command = a
		}
	}
	switch command {
	case "", "help", "completion", "__complete", "__completeNoDesc":
		return false
	}
	return !help
}
