package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/awnumar/memguard"
	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/internal/testuser"
)

// childEnv names the role this test binary plays when run again as a
// child: "deadlock" makes memguard deadlock, then exits through safeExit.
const childEnv = "OGIVE_MAIN_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "deadlock" {
		deadlockThenExit()
	}
	os.Exit(m.Run())
}

// deadlockThenExit has memguard fail to lock memory, with the limit at 0
// (the process is not root), which deadlocks memguard on its own mutex,
// and then exits through safeExit with status 3.
func deadlockThenExit() {
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	go memguard.NewEnclave([]byte("key"))
	// Wait until memguard has failed and is stuck purging.
	buf := make([]byte, 1<<20)
	for !bytes.Contains(buf[:runtime.Stack(buf, true)], []byte("memguard/core.Purge")) {
		runtime.Gosched()
	}
	safeExit(3)
}

// TestSafeExitAfterDeadlock checks that ogive still exits, with its status,
// when memguard has deadlocked: memguard.SafeExit alone would wait for the
// mutex for good. The child runs as nobody when the test is root, whom no
// limit on locked memory holds; it is killed after a minute, and the test
// then fails rather than hangs.
func TestSafeExitAfterDeadlock(t *testing.T) {
	bin := testuser.Self(t, "ogive.test")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, bin, "-test.run=^$")
	c.Env = append(os.Environ(), childEnv+"=deadlock")
	if os.Geteuid() == 0 {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		c.Dir = "/"
	}
	out, err := c.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the child did not exit within a minute: killed; output %q", out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("child: %v, output %q; want exit status 3", err, out)
	}
}
