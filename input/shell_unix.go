//go:build !windows

package input

import "os/exec"

// shellCommand runs command line with sh -c.
func shellCommand(line string) *exec.Cmd {
	return exec.Command("sh", "-c", line)
}
