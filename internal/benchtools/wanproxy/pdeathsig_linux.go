package main

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel end the toxiproxy server if wanproxy dies
// without stopping it.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
