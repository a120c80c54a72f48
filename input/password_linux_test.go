package input

import (
	"fmt"
	"io"
	"os"
	"testing"
)

// TestPasswordFileFromPipe reads the password from a pipe named by its
// /dev/fd link, as bash's --password-file <(pass show ogive) does:
// a pipe's mode is 0600, so the permission check lets it through.
func TestPasswordFileFromPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		defer w.Close()
		_, _ = io.WriteString(w, "from a pipe\n")
	}()
	path := fmt.Sprintf("/dev/fd/%d", r.Fd())
	pw, err := New(Options{PasswordFile: path, Terminal: noTerminal{t}}).Password("Password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, pw); got != "from a pipe" {
		t.Errorf("got %q", got)
	}
}
