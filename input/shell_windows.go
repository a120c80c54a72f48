package input

import (
	"os"
	"os/exec"
	"syscall"
)

// shellCommand runs command line with cmd.exe, the shell of Windows, not
// sh: "cmd.exe /d /s /c "line"" runs line as typed at a cmd prompt, without
// AutoRun commands (/d), /s taking the outer quotes off unchanged. The
// command line is given whole, since cmd.exe does not parse the quoting Go
// would give separate arguments.
func shellCommand(line string) *exec.Cmd {
	shell := os.Getenv("ComSpec")
	if shell == "" {
		shell = "cmd.exe"
	}
	c := exec.Command(shell)
	c.SysProcAttr = &syscall.SysProcAttr{
		CmdLine: syscall.EscapeArg(shell) + ` /d /s /c "` + line + `"`,
	}
	return c
}
