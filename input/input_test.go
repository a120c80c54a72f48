package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
)

// fakeTerminal answers from a script and records what was asked.
type fakeTerminal struct {
	answers []string
	asked   []string // prompt, prefixed with "secret " or "line "
	err     error
}

func (f *fakeTerminal) next(kind, prompt string) (string, error) {
	f.asked = append(f.asked, kind+prompt)
	if f.err != nil {
		return "", f.err
	}
	if len(f.answers) == 0 {
		return "", errors.New("fake terminal: no answer scripted")
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a, nil
}

func (f *fakeTerminal) ReadPassword(prompt string) (*memguard.LockedBuffer, error) {
	a, err := f.next("secret ", prompt)
	if err != nil {
		return nil, err
	}
	return memguard.NewBufferFromBytes([]byte(a)), nil
}

func (f *fakeTerminal) ReadLine(prompt string) (string, error) {
	return f.next("line ", prompt)
}

// noTerminal fails the test if anything reaches the terminal.
type noTerminal struct{ t *testing.T }

func (n noTerminal) ReadPassword(prompt string) (*memguard.LockedBuffer, error) {
	n.t.Errorf("terminal asked %q", prompt)
	return nil, ErrNoTerminal
}

func (n noTerminal) ReadLine(prompt string) (string, error) {
	n.t.Errorf("terminal asked %q", prompt)
	return "", ErrNoTerminal
}

func text(t *testing.T, b *memguard.LockedBuffer) string {
	t.Helper()
	if b == nil {
		return "<nil>"
	}
	defer b.Destroy()
	return string(b.Bytes())
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPasswordFile(t *testing.T) {
	for name, content := range map[string]string{
		"trailing newline": "correct horse\n",
		"CRLF":             "correct horse\r\n",
		"no newline":       "correct horse",
		"more lines":       "correct horse\nbattery staple\n",
	} {
		t.Run(name, func(t *testing.T) {
			stdin := strings.NewReader("from stdin\n")
			p := New(Options{Stdin: stdin, PasswordFile: writeFile(t, content), PasswordCommand: "echo from command", Terminal: noTerminal{t}})
			pw, err := p.Password("Password: ")
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, pw); got != "correct horse" {
				t.Errorf("got %q", got)
			}
			if stdin.Len() != len("from stdin\n") {
				t.Error("stdin was read")
			}
		})
	}
}

func TestPasswordFileLongLine(t *testing.T) {
	long := strings.Repeat("x", maxLineLen-2) // with "\r\n", the longest line there may be
	p := New(Options{PasswordFile: writeFile(t, long+"\r\nnext\n"), Terminal: noTerminal{t}})
	pw, err := p.Password("Password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, pw); got != long {
		t.Errorf("got %d bytes, want %d", len(got), len(long))
	}

	p = New(Options{PasswordFile: writeFile(t, strings.Repeat("x", maxLineLen+1)), Terminal: noTerminal{t}})
	if _, err := p.Password("Password: "); !errors.Is(err, errLineTooLong) {
		t.Errorf("oversized line: %v", err)
	}
}

func TestPasswordFileErrors(t *testing.T) {
	for _, content := range []string{"", "\n", "\r\n", "\nsecond line\n"} {
		p := New(Options{PasswordFile: writeFile(t, content), Terminal: noTerminal{t}})
		if _, err := p.Password("Password: "); !errors.Is(err, ErrEmpty) {
			t.Errorf("file %q: %v, want ErrEmpty", content, err)
		}
	}
	p := New(Options{PasswordFile: filepath.Join(t.TempDir(), "missing"), Terminal: noTerminal{t}})
	if _, err := p.Password("Password: "); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestPasswordFilePermissions refuses a password file that group or others
// may read (and learn the password) or write (and choose it), as a profile
// is refused, and names the file and its mode.
func TestPasswordFilePermissions(t *testing.T) {
	for _, mode := range []fs.FileMode{0o400, 0o600, 0o700} {
		path := writeFile(t, "correct horse\n")
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		pw, err := New(Options{PasswordFile: path, Terminal: noTerminal{t}}).Password("Password: ")
		if err != nil {
			t.Errorf("mode %04o: %v", mode, err)
			continue
		}
		if got := text(t, pw); got != "correct horse" {
			t.Errorf("mode %04o: got %q", mode, got)
		}
	}
	for _, mode := range []fs.FileMode{0o640, 0o620, 0o610, 0o604, 0o602, 0o601, 0o644, 0o660, 0o666, 0o777} {
		path := writeFile(t, "correct horse\n")
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		pw, err := New(Options{PasswordFile: path, Terminal: noTerminal{t}}).Password("Password: ")
		if err == nil {
			pw.Destroy()
			t.Errorf("mode %04o: accepted", mode)
			continue
		}
		var perm *PermissionError
		if !errors.Is(err, ErrPermissions) || !errors.As(err, &perm) || perm.Path != path || perm.Perm != mode {
			t.Errorf("mode %04o: %#v, want a PermissionError for %s", mode, err, path)
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, fmt.Sprintf("mode %04o", mode)) {
			t.Errorf("mode %04o: %q does not name the file and its mode", mode, msg)
		}
	}
}

func TestPasswordFileDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Options{PasswordFile: dir, Terminal: noTerminal{t}}).Password("Password: ")
	if err == nil || errors.Is(err, ErrPermissions) || !strings.Contains(err.Error(), dir+" is a directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestPasswordCommand(t *testing.T) {
	stdin := strings.NewReader("data for ogive\n")
	for name, command := range map[string]string{
		"one line":   "echo 'correct horse'",
		"CRLF":       `printf 'correct horse\r\n'`,
		"more lines": `printf 'correct horse\nsecond\nthird\n'`,
		// The command must be drained, or it blocks and Wait never returns.
		"large output": `echo 'correct horse'; head -c 1000000 /dev/zero`,
		// stdin is /dev/null for the command, never ogive's stdin.
		"reads stdin": `cat; echo 'correct horse'`,
	} {
		t.Run(name, func(t *testing.T) {
			p := New(Options{Stdin: stdin, PasswordCommand: command, Terminal: noTerminal{t}})
			pw, err := p.Password("Password: ")
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, pw); got != "correct horse" {
				t.Errorf("got %q", got)
			}
		})
	}
	if stdin.Len() != len("data for ogive\n") {
		t.Error("a command consumed ogive's stdin")
	}
}

func TestPasswordCommandErrors(t *testing.T) {
	p := New(Options{PasswordCommand: "echo 'hunter2 hunter2'; exit 3", Terminal: noTerminal{t}})
	_, err := p.Password("Password: ")
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing command: %v", err)
	} else if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q reveals the password", err)
	}

	for _, command := range []string{"true", "echo", "printf '\\n'", "exit 0"} {
		p := New(Options{PasswordCommand: command, Terminal: noTerminal{t}})
		if _, err := p.Password("Password: "); !errors.Is(err, ErrEmpty) {
			t.Errorf("%q: %v, want ErrEmpty", command, err)
		}
	}

	p = New(Options{PasswordCommand: "kill -9 $$", Terminal: noTerminal{t}})
	if _, err := p.Password("Password: "); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("killed command: %v", err)
	}
}

func TestPasswordFromStdin(t *testing.T) {
	var prompts bytes.Buffer
	p := New(Options{Stdin: strings.NewReader("correct horse\r\n"), Prompt: &prompts, Terminal: noTerminal{t}})
	pw, err := p.Password("Password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, pw); got != "correct horse" {
		t.Errorf("got %q", got)
	}
	// A piped password is read silently, as in the original ogive.
	if prompts.String() != "" {
		t.Errorf("prompts %q, want none", prompts.String())
	}

	for _, in := range []string{"", "\n", "\r\n"} {
		p := New(Options{Stdin: strings.NewReader(in), Terminal: noTerminal{t}})
		if _, err := p.Password("Password: "); !errors.Is(err, ErrEmpty) {
			t.Errorf("stdin %q: %v, want ErrEmpty", in, err)
		}
	}

	// Begun after another line, so the line arrives in several chunks of
	// bufio's buffer.
	long := strings.Repeat("y", maxLineLen-1)
	p = New(Options{Stdin: strings.NewReader("first\n" + long + "\nnext\n"), Terminal: noTerminal{t}})
	if got, _ := p.Line("First: ", ""); got != "first" {
		t.Errorf("first line: %q", got)
	}
	pw, err = p.Password("Password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, pw); got != long {
		t.Errorf("got %d bytes, want %d", len(got), len(long))
	}
	if got, _ := p.Line("Next: ", ""); got != "next" {
		t.Errorf("line after a long password: %q", got)
	}

	p = New(Options{Stdin: strings.NewReader(strings.Repeat("z", maxLineLen+1)), Terminal: noTerminal{t}})
	if _, err := p.Password("Password: "); !errors.Is(err, errLineTooLong) {
		t.Errorf("oversized line: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("device gone") }

func TestStdinReadError(t *testing.T) {
	p := New(Options{Stdin: failingReader{}, Terminal: noTerminal{t}})
	if _, err := p.Password("Password: "); err == nil || !strings.Contains(err.Error(), "device gone") {
		t.Errorf("Password: %v", err)
	}
	if _, err := p.Line("Bucket: ", "def"); err == nil {
		t.Error("Line ignored the read error")
	}
}

// printf 'pw\npw\nAKID\nsecret\nbucket\n\n\n' | ogive init answers one prompt per line.
func TestStdinAnswersInOrder(t *testing.T) {
	var prompts bytes.Buffer
	p := New(Options{
		Stdin:    strings.NewReader("password1\npassword1\nAKID\nsecret\nbucket\n\n\n"),
		Prompt:   &prompts,
		Terminal: noTerminal{t},
	})
	pw, err := p.NewPassword("Password: ", "Confirm: ")
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, pw); got != "password1" {
		t.Errorf("password %q", got)
	}
	id, err := p.Secret("Key ID: ")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := p.Secret("Secret: ")
	if err != nil {
		t.Fatal(err)
	}
	// The command layer seals answers straight into enclaves.
	if e := secret.Seal(); e == nil || e.Size() != len("secret") {
		t.Error("secret cannot be sealed")
	}
	if got := text(t, id); got != "AKID" {
		t.Errorf("key ID %q", got)
	}
	for _, want := range []struct{ prompt, def, answer string }{
		{"Bucket: ", "", "bucket"},
		{"Region: ", "eu-west-1", "eu-west-1"},
		{"Endpoint: ", "https://s3", "https://s3"},
		{"Past the end: ", "default", "default"},
	} {
		got, err := p.Line(want.prompt, want.def)
		if err != nil || got != want.answer {
			t.Errorf("%s%q, %v; want %q", want.prompt, got, err, want.answer)
		}
	}
	// Secrets are read silently; plain answers show their prompts.
	const asked = "Bucket: Region: Endpoint: Past the end: "
	if prompts.String() != asked {
		t.Errorf("prompts %q, want %q", prompts.String(), asked)
	}
}

func TestLine(t *testing.T) {
	p := New(Options{Stdin: strings.NewReader("  padded  \r\nlast without newline"), Terminal: noTerminal{t}})
	for _, want := range []string{"padded", "last without newline", "def"} {
		if got, err := p.Line("? ", "def"); err != nil || got != want {
			t.Errorf("got %q, %v; want %q", got, err, want)
		}
	}

	term := &fakeTerminal{answers: []string{"typed", " "}}
	p = New(Options{Stdin: strings.NewReader("unused\n"), StdinIsTerminal: true, Terminal: term})
	for _, want := range []string{"typed", "def"} {
		if got, err := p.Line("Bucket: ", "def"); err != nil || got != want {
			t.Errorf("terminal: got %q, %v; want %q", got, err, want)
		}
	}
	if strings.Join(term.asked, "|") != "line Bucket: |line Bucket: " {
		t.Errorf("asked %q", term.asked)
	}
}

func TestSecret(t *testing.T) {
	p := New(Options{Stdin: strings.NewReader("\n"), Terminal: noTerminal{t}})
	if b, err := p.Secret("Secret: "); b != nil || err != nil {
		t.Errorf("empty line: %v, %v", b, err)
	}
	if b, err := p.Secret("Secret: "); b != nil || err != nil {
		t.Errorf("end of input: %v, %v", b, err)
	}

	term := &fakeTerminal{answers: []string{"s3cr3t", ""}}
	p = New(Options{StdinReserved: true, Stdin: strings.NewReader("data\n"), Terminal: term})
	if got, err := p.Secret("Secret: "); err != nil || text(t, got) != "s3cr3t" {
		t.Errorf("terminal: %v", err)
	}
	if b, err := p.Secret("Secret: "); b != nil || err != nil {
		t.Errorf("terminal, empty: %v, %v", b, err)
	}
	if strings.Join(term.asked, "|") != "secret Secret: |secret Secret: " {
		t.Errorf("asked %q", term.asked)
	}
	p = New(Options{PasswordFile: writeFile(t, "file password\n"), Terminal: &fakeTerminal{answers: []string{"typed"}}})
	if got, err := p.Secret("Secret: "); err != nil || text(t, got) != "typed" {
		t.Errorf("Secret consulted the password file: %v", err)
	}
}

func TestTerminal(t *testing.T) {
	for name, o := range map[string]Options{
		"stdin is a terminal": {Stdin: strings.NewReader("not this\n"), StdinIsTerminal: true},
		"stdin is reserved":   {Stdin: strings.NewReader("not this\n"), StdinReserved: true},
		"no stdin":            {},
	} {
		t.Run(name, func(t *testing.T) {
			var prompts bytes.Buffer
			term := &fakeTerminal{answers: []string{"correct horse"}}
			o.Terminal, o.Prompt = term, &prompts
			pw, err := New(o).Password("Password: ")
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, pw); got != "correct horse" {
				t.Errorf("got %q", got)
			}
			if len(term.asked) != 1 || term.asked[0] != "secret Password: " {
				t.Errorf("asked %q", term.asked)
			}
			if prompts.Len() != 0 {
				t.Errorf("prompt %q also written to the prompt writer", prompts.String())
			}
		})
	}
}

func TestNoTerminal(t *testing.T) {
	term := &fakeTerminal{err: ErrNoTerminal}
	p := New(Options{Stdin: strings.NewReader("data"), StdinReserved: true, Terminal: term})
	if _, err := p.Password("Password: "); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("Password: %v", err)
	}
	if _, err := p.NewPassword("Password: ", "Confirm: "); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("NewPassword: %v", err)
	}
	if _, err := p.Secret("Secret: "); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("Secret: %v", err)
	}
	if _, err := p.Line("Bucket: ", "def"); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("Line: %v", err)
	}
}

// The real terminal is only testable where there is none.
func TestTTYMissing(t *testing.T) {
	if f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		f.Close()
		t.Skip("a terminal is attached")
	}
	p := New(Options{StdinReserved: true})
	if _, err := p.Password("Password: "); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("Password: %v", err)
	}
	if _, err := p.Line("Bucket: ", "x"); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("Line: %v", err)
	}
}

func TestNewPassword(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		term []string
		want error
	}{
		{name: "stdin", o: Options{Stdin: strings.NewReader("s3cr3t-one\ns3cr3t-one\n")}},
		{name: "stdin CRLF and LF", o: Options{Stdin: strings.NewReader("s3cr3t-one\r\ns3cr3t-one\n")}},
		{name: "stdin mismatch", o: Options{Stdin: strings.NewReader("s3cr3t-one\ns3cr3t-two\n")}, want: ErrMismatch},
		{name: "stdin no confirmation", o: Options{Stdin: strings.NewReader("s3cr3t-one\n")}, want: ErrMismatch},
		{name: "stdin prefix", o: Options{Stdin: strings.NewReader("s3cr3t-one\ns3cr3t-on\n")}, want: ErrMismatch},
		{name: "stdin too short", o: Options{Stdin: strings.NewReader("s3cr3t7\ns3cr3t7\n")}, want: ErrTooShort},
		{name: "stdin empty", o: Options{Stdin: strings.NewReader("\n\n")}, want: ErrEmpty},
		{name: "terminal", o: Options{StdinIsTerminal: true}, term: []string{"s3cr3t-one", "s3cr3t-one"}},
		{name: "terminal mismatch", o: Options{StdinIsTerminal: true}, want: ErrMismatch,
			term: []string{"s3cr3t-one", "S3cr3t-one", "s3cr3t-one", "S3cr3t-one", "s3cr3t-one", "S3cr3t-one"}},
		{name: "terminal empty confirmation", o: Options{StdinIsTerminal: true}, want: ErrMismatch,
			term: []string{"s3cr3t-one", "", "s3cr3t-one", "", "s3cr3t-one", ""}},
		{name: "terminal too short", o: Options{StdinIsTerminal: true}, term: []string{"s3cr3t", "s3cr3t", "s3cr3t"}, want: ErrTooShort},
		{name: "terminal too short, then right", o: Options{StdinIsTerminal: true}, term: []string{"s3cr3t", "s3cr3t-one", "s3cr3t-one"}},
		{name: "terminal mismatch, then right", o: Options{StdinIsTerminal: true}, term: []string{"s3cr3t-one", "s3cr3t-two", "s3cr3t-one", "s3cr3t-one"}},
		{name: "file, read once", o: Options{PasswordFile: "s3cr3t-one\n"}},
		{name: "file too short", o: Options{PasswordFile: "s3cr3t7\n"}, want: ErrTooShort},
		{name: "command, run once", o: Options{PasswordCommand: "echo s3cr3t-one"}},
		{name: "command too short", o: Options{PasswordCommand: "echo s3cr3t7"}, want: ErrTooShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			term := &fakeTerminal{answers: tc.term}
			tc.o.Terminal = term
			if tc.o.PasswordFile != "" {
				tc.o.PasswordFile = writeFile(t, tc.o.PasswordFile)
			}
			pw, err := New(tc.o).NewPassword("Password: ", "Confirm: ")
			if tc.want != nil {
				if !errors.Is(err, tc.want) || pw != nil {
					t.Fatalf("%v, want %v", err, tc.want)
				}
				if strings.Contains(strings.ToLower(err.Error()), "s3cr3t") {
					t.Errorf("error %q reveals the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, pw); got != "s3cr3t-one" {
				t.Errorf("got %q", got)
			}
			if len(term.answers) != 0 {
				t.Errorf("terminal answers left: %q", term.answers)
			}
		})
	}
}

// At the terminal a new password is asked for again at the same prompt:
// after a short one the password alone, after a mismatch both; the line
// before the prompt says why. After three tries the error stands.
func TestNewPasswordRetries(t *testing.T) {
	term := &fakeTerminal{answers: []string{"short", "s3cr3t-one", "s3cr3t-two", "s3cr3t-one", "s3cr3t-one"}}
	pw, err := New(Options{StdinIsTerminal: true, Terminal: term}).NewPassword("New password: ", "Confirm new password: ")
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, pw); got != "s3cr3t-one" {
		t.Errorf("got %q", got)
	}
	want := []string{
		"secret New password: ",
		"secret The password is shorter than 8 bytes; try again.\nNew password: ",
		"secret Confirm new password: ",
		"secret The passwords do not match; try again.\nNew password: ",
		"secret Confirm new password: ",
	}
	if strings.Join(term.asked, "|") != strings.Join(want, "|") {
		t.Errorf("asked %q\nwant  %q", term.asked, want)
	}

	// Piped, a short password fails at once: a pipe would give it again.
	p := New(Options{Stdin: strings.NewReader("short\ns3cr3t-one\ns3cr3t-one\n")})
	if _, err := p.NewPassword("New password: ", "Confirm new password: "); !errors.Is(err, ErrTooShort) {
		t.Errorf("piped: %v, want %v", err, ErrTooShort)
	}
}

// Confirm asks at the terminal only: stdin may carry the password.
func TestConfirm(t *testing.T) {
	for answer, want := range map[string]bool{"y": true, "YES": true, " yes ": true, "": false, "n": false, "yep": false, "no": false} {
		term := &fakeTerminal{answers: []string{answer}}
		p := New(Options{Stdin: strings.NewReader("y\n"), Terminal: term})
		got, err := p.Confirm("Delete big.bin (200 MiB) for good?")
		if err != nil || got != want {
			t.Errorf("answer %q: %v, %v; want %v", answer, got, err, want)
		}
		if len(term.asked) != 1 || term.asked[0] != "line Delete big.bin (200 MiB) for good? [y/N] " {
			t.Errorf("asked %q", term.asked)
		}
	}
	p := New(Options{Stdin: strings.NewReader("y\n"), Terminal: &fakeTerminal{err: ErrNoTerminal}})
	if _, err := p.Confirm("Delete?"); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("no terminal: %v", err)
	}
}

func TestMinPasswordLenCountsBytes(t *testing.T) {
	// Four two-byte characters are eight bytes.
	p := New(Options{Stdin: strings.NewReader("éééé\néééé\n")})
	pw, err := p.NewPassword("Password: ", "Confirm: ")
	if err != nil {
		t.Fatal(err)
	}
	pw.Destroy()
}

func TestFirstLineReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader("partial"), failingReader{})
	if b, err := firstLine(r); err == nil || b != nil {
		t.Errorf("got %v, %v", b, err)
	}
}
