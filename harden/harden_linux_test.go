package harden

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/internal/testuser"
)

// The tests run this test binary again as a child, in one of these roles
// named by childEnv: a process that hardens itself (or not) and waits, one
// that tries to read another's memory, or one that lowers its limit on
// locked memory and prepares to lock.
const childEnv = "OGIVE_HARDEN_CHILD"

// nobody is who the children run as when the tests run as root, since
// root reads any process's memory whatever its dumpable flag.
const nobody = 65534

func TestMain(m *testing.M) {
	switch role := os.Getenv(childEnv); {
	case role == "hardened" || role == "plain":
		os.Exit(waiter(role == "hardened"))
	case strings.HasPrefix(role, "peek "):
		os.Exit(peek(strings.TrimPrefix(role, "peek ")))
	case strings.HasPrefix(role, "memlock "):
		os.Exit(memlockChild(strings.TrimPrefix(role, "memlock ")))
	}
	os.Exit(m.Run())
}

// waiter hardens itself if asked, checks that it still reaches what ogive
// needs of its own /proc/self, says "ready" and waits for stdin to close.
func waiter(harden bool) int {
	if harden {
		if err := Process(); err != nil {
			fmt.Println(err)
			return 1
		}
	}
	if err := ownProc(harden); err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// ownProc checks the dumpable flag and what a process must still reach in
// its own /proc/self: a pipe through /dev/fd (--password-file <(command)),
// its executable, its status, a chmod through /proc/self/fd (the fallback
// of os.Root and fchmodat), and a child process (--password-command).
func ownProc(hardened bool) error {
	want := 1
	if hardened {
		want = 0
	}
	if got, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || got != want {
		return fmt.Errorf("PR_GET_DUMPABLE = %d, %v; want %d", got, err, want)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	go func() {
		fmt.Fprintln(w, "secret")
		w.Close()
	}()
	got, err := os.ReadFile(fmt.Sprintf("/dev/fd/%d", r.Fd()))
	r.Close()
	if err != nil || string(got) != "secret\n" {
		return fmt.Errorf("read a pipe through /dev/fd: %q, %v", got, err)
	}
	if _, err := os.Executable(); err != nil {
		return err
	}
	if _, err := os.ReadFile("/proc/self/status"); err != nil {
		return err
	}
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		return err
	}
	f, err := os.CreateTemp("", "harden")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := os.Chmod(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), 0o600); err != nil {
		return err
	}
	if out, err := exec.Command("sh", "-c", "echo from a child").Output(); err != nil || string(out) != "from a child\n" {
		return fmt.Errorf("run a command: %q, %v", out, err)
	}
	return nil
}

// peek tries to read process pid's environment, as another process of the
// same user could, and prints "read" or "denied".
func peek(pid string) int {
	_, err := os.ReadFile("/proc/" + pid + "/environ")
	switch {
	case err == nil:
		fmt.Println("read")
	case errors.Is(err, fs.ErrPermission):
		fmt.Println("denied")
	default:
		fmt.Println(err)
		return 1
	}
	return 0
}

// child runs this test binary in role; as nobody when the test is root.
func child(bin, role string) *exec.Cmd {
	c := exec.Command(bin, "-test.run=^$")
	c.Env = append(os.Environ(), childEnv+"="+role)
	if os.Geteuid() == 0 {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		c.Dir = "/"
	}
	return c
}

// TestProcess starts a process that calls Process and one that does not,
// and has a third process of the same user read each one's environment:
// only the hardened one denies it, and both still reach their own /proc.
func TestProcess(t *testing.T) {
	bin := testuser.Self(t, "harden.test")
	for _, tc := range []struct {
		role, want string
	}{
		{"plain", "read"},
		{"hardened", "denied"},
	} {
		t.Run(tc.role, func(t *testing.T) {
			w := child(bin, tc.role)
			stdin, err := w.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := w.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			w.Stderr = os.Stderr
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stdin.Close()
				if err := w.Wait(); err != nil {
					t.Errorf("%s child: %v", tc.role, err)
				}
			}()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if line != "ready\n" {
				t.Fatalf("%s child: %q, %v", tc.role, line, err)
			}
			out, err := child(bin, "peek "+strconv.Itoa(w.Process.Pid)).Output()
			if err != nil || string(out) != tc.want+"\n" {
				t.Errorf("reading the %s child's environment: %q, %v; want %s", tc.role, out, err, tc.want)
			}
		})
	}
}
