// Package input decides where passwords and answers to prompts come from:
// a password file, a password command, piped standard input or the
// terminal. Passwords are read straight into locked memory and never
// become Go strings.
package input

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/awnumar/memguard"
)

// posixModes says whether a file's mode tells who may read it. On Windows
// Go makes a mode up from the read-only attribute: 0666 or 0444.
const posixModes = runtime.GOOS != "windows"

// MinPasswordLen is the shortest new password accepted, in bytes.
const MinPasswordLen = 8

var (
	// ErrTooShort means a new password has fewer than MinPasswordLen bytes.
	ErrTooShort = fmt.Errorf("password shorter than %d bytes", MinPasswordLen)
	// ErrMismatch means the confirmation differs from the new password.
	ErrMismatch = errors.New("passwords do not match")
	// ErrEmpty means the source gave an empty password.
	ErrEmpty = errors.New("empty password")
	// ErrNoTerminal means an answer is needed but there is no source for
	// it: stdin is a terminal or carries data, and no terminal can be opened.
	ErrNoTerminal = errors.New("no terminal to ask on")
	// ErrInterrupted means the process was interrupted (Interrupt) before
	// a prompt could read its answer. It matches context.Canceled, which
	// is how the rest of ogive sees an interrupt.
	ErrInterrupted = fmt.Errorf("prompt interrupted: %w", context.Canceled)
	// ErrPermissions means the password file can be read or written by
	// group or others, who could then learn the password or choose it. The
	// error that carries it is a *PermissionError.
	ErrPermissions = errors.New("password file is accessible to other users")
)

// PermissionError is a password file refused for its mode. It matches
// ErrPermissions and names the file, so the user can be told what to chmod.
type PermissionError struct {
	Path string
	Perm fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("password file %s is accessible to other users (mode %04o)", e.Path, e.Perm)
}

// Is makes errors.Is(err, ErrPermissions) hold.
func (e *PermissionError) Is(target error) bool { return target == ErrPermissions }

// Terminal is the interactive console: /dev/tty on Unix, the console
// (CONIN$ and CONOUT$) on Windows, unless a test injects one.
// Both methods show prompt on the terminal and read one line without its
// line ending; an empty line is an empty answer, not an error. An
// implementation that cannot reach a terminal returns an error wrapping
// ErrNoTerminal.
type Terminal interface {
	// ReadPassword reads without echo. An empty answer may be nil.
	ReadPassword(prompt string) (*memguard.LockedBuffer, error)
	// ReadLine reads with echo.
	ReadLine(prompt string) (string, error)
}

// Options describe the process's input. The command layer fills them from
// flags, the environment and the state of the standard streams.
type Options struct {
	Stdin           io.Reader // os.Stdin in production
	StdinIsTerminal bool
	// StdinReserved means stdin carries data (ogive put -): no password or
	// answer is ever read from it.
	StdinReserved bool
	// Prompt receives the prompts for answers read from stdin, normally
	// os.Stderr; nil shows none. Terminal prompts go to the terminal.
	Prompt          io.Writer
	PasswordFile    string // first line is the password
	PasswordCommand string // run by the shell (shellCommand); first line of its output is the password
	Terminal        Terminal
}

// Prompter asks for passwords and answers. Stdin is buffered once and
// shared by every question, so piped input answers them in order. A
// Prompter is not safe for concurrent use.
type Prompter struct {
	opts  Options
	stdin *bufio.Reader // nil: stdin is not a source
	term  Terminal
}

// New returns a Prompter reading from the sources in o.
func New(o Options) *Prompter {
	p := &Prompter{opts: o, term: o.Terminal}
	if p.term == nil {
		p.term = tty{path: terminalPath}
	}
	if o.Stdin != nil && !o.StdinIsTerminal && !o.StdinReserved {
		p.stdin = bufio.NewReader(o.Stdin)
	}
	return p
}

// Password returns an existing password, from the first source configured:
// the password file, the password command, stdin when it is neither a
// terminal nor reserved, then the terminal. The prompt is shown verbatim
// (callers pass the full text, such as "Password: ") and only for stdin and
// the terminal. An empty password is ErrEmpty. The caller destroys the
// buffer.
func (p *Prompter) Password(prompt string) (*memguard.LockedBuffer, error) {
	var pw *memguard.LockedBuffer
	var err error
	switch {
	case p.opts.PasswordFile != "":
		pw, err = readPasswordFile(p.opts.PasswordFile)
	case p.opts.PasswordCommand != "":
		pw, err = runPasswordCommand(p.opts.PasswordCommand)
	default:
		pw, err = p.secret(prompt)
	}
	if err != nil {
		return nil, err
	}
	if pw == nil {
		return nil, ErrEmpty
	}
	return pw, nil
}

// NewPassword returns a password for a new profile, from the same sources
// as Password. When it is typed or piped it is asked for twice, the second
// time with the confirm prompt; a password file or command is read once.
// It returns ErrEmpty, ErrTooShort (checked before asking to confirm) or
// ErrMismatch. Typed at the terminal, a password that is empty or too
// short is asked for again at once, and after a mismatch both are, up to
// Tries times in all, with a line saying why; piped input gets one try.
// The caller destroys the buffer.
func (p *Prompter) NewPassword(prompt, confirm string) (*memguard.LockedBuffer, error) {
	var err error
	note := ""
	for try := 1; ; try++ {
		var pw *memguard.LockedBuffer
		pw, err = p.newPassword(note+prompt, confirm)
		if err == nil || !p.Typed() || try == Tries || !retryable(err) {
			return pw, err
		}
		note = Retry(err)
	}
}

// Tries is how many times a password typed at the terminal is asked for
// before ogive gives up.
const Tries = 3

// Typed reports whether passwords come from the terminal, where a person
// can try again, rather than from a file, a command or piped stdin, which
// would only give the same answer.
func (p *Prompter) Typed() bool {
	return p.opts.PasswordFile == "" && p.opts.PasswordCommand == "" && p.stdin == nil
}

// FromFile reports whether passwords come from a password file.
func (p *Prompter) FromFile() bool { return p.opts.PasswordFile != "" }

// Retry is the line shown before a password prompt that follows err: it
// ends with a line break, so "Retry(err) + prompt" is the next prompt.
func Retry(err error) string {
	var why string
	switch {
	case errors.Is(err, ErrEmpty):
		why = "The password is empty"
	case errors.Is(err, ErrTooShort):
		why = fmt.Sprintf("The password is shorter than %d bytes", MinPasswordLen)
	case errors.Is(err, ErrMismatch):
		why = "The passwords do not match"
	default:
		why = "Wrong password"
	}
	return why + "; try again.\n"
}

func retryable(err error) bool {
	return errors.Is(err, ErrEmpty) || errors.Is(err, ErrTooShort) || errors.Is(err, ErrMismatch)
}

func (p *Prompter) newPassword(prompt, confirm string) (*memguard.LockedBuffer, error) {
	pw, err := p.Password(prompt)
	if err != nil {
		return nil, err
	}
	if pw.Size() < MinPasswordLen {
		pw.Destroy()
		return nil, ErrTooShort
	}
	if p.opts.PasswordFile != "" || p.opts.PasswordCommand != "" {
		return pw, nil
	}
	again, err := p.secret(confirm)
	if err != nil {
		pw.Destroy()
		return nil, err
	}
	if again == nil {
		pw.Destroy()
		return nil, ErrMismatch
	}
	defer again.Destroy()
	if !pw.EqualTo(again.Bytes()) {
		pw.Destroy()
		return nil, ErrMismatch
	}
	return pw, nil
}

// Confirm asks a yes-or-no question at the terminal, never on stdin, which
// may carry a password or data. question is shown followed by " [y/N] ";
// only "y" or "yes", in any case, is yes. Without a terminal to ask on it
// returns an error wrapping ErrNoTerminal; interrupted, ErrInterrupted.
//
// At the terminal, keys typed before the question was shown (a paste of
// the password and more) are discarded, so only an answer given after
// reading the question counts.
func (p *Prompter) Confirm(question string) (bool, error) {
	read := p.term.ReadLine
	if t, ok := p.term.(interface {
		readFreshLine(string) (string, error)
	}); ok {
		read = t.readFreshLine
	}
	answer, err := read(question + " [y/N] ")
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// Secret reads a secret answer, such as an AWS secret access key: a line
// from stdin when it is a source, else from the terminal without echo. The
// prompt is shown verbatim. An empty answer returns nil and no error.
// Password files and commands are never consulted.
func (p *Prompter) Secret(prompt string) (*memguard.LockedBuffer, error) {
	return p.secret(prompt)
}

// Line reads a non-secret answer: a line from stdin when it is a source,
// else from the terminal with echo. The prompt is shown verbatim, so
// callers mention def in it themselves. Surrounding white space is
// dropped; an empty answer, or end of input, gives def.
func (p *Prompter) Line(prompt, def string) (string, error) {
	var answer string
	if p.stdin != nil {
		p.show(prompt)
		line, err := readLine(p.stdin)
		if err != nil {
			return "", fmt.Errorf("read stdin: %w", err)
		}
		if line != nil {
			answer = string(line.Bytes())
			line.Destroy()
		}
	} else {
		var err error
		answer, err = p.term.ReadLine(prompt)
		if err != nil {
			return "", err
		}
	}
	if answer = strings.TrimSpace(answer); answer == "" {
		return def, nil
	}
	return answer, nil
}

// secret reads one line from stdin or the terminal; nil means empty.
// Piped secrets are read without a prompt, as the original ogive did, so
// "echo pw | ogive list 2>&1" prints the listing and nothing else.
func (p *Prompter) secret(prompt string) (*memguard.LockedBuffer, error) {
	if p.stdin != nil {
		line, err := readLine(p.stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return line, nil
	}
	b, err := p.term.ReadPassword(prompt)
	if err != nil {
		return nil, err
	}
	if b != nil && b.Size() == 0 {
		b.Destroy()
		return nil, nil
	}
	return b, nil
}

func (p *Prompter) show(prompt string) {
	if p.opts.Prompt != nil {
		// A prompt that cannot be shown does not stop piped input from
		// answering it.
		_, _ = io.WriteString(p.opts.Prompt, prompt)
	}
}

// readPasswordFile reads the first line of the file at path. Like a
// profile, a file that group or others may read or write is refused; on
// Windows, where who may read a file is in its access control list and
// the mode Go reports says nothing of it, no file is refused for it.
func readPasswordFile(path string) (*memguard.LockedBuffer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	// Check the file that was opened, not the path, so that nothing swapped
	// in between a check and the open is read. Pipes, as from the shell's
	// <(command), have mode 0600 and pass.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("password file %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("password file %s is a directory", path)
	}
	if perm := fi.Mode().Perm(); posixModes && perm&0o077 != 0 {
		return nil, &PermissionError{Path: path, Perm: perm}
	}
	pw, err := firstLine(f)
	if err != nil {
		return nil, fmt.Errorf("read password file %s: %w", path, err)
	}
	return pw, nil
}

// runPasswordCommand runs command with the shell (sh -c, or cmd.exe on
// Windows) and returns the first line of its output. The command's stdin
// is the null device so it cannot consume input meant for ogive; its stderr is the user's, so it can explain failures.
// Errors name the exit status but never the output or the command line,
// either of which may hold the password.
func runPasswordCommand(command string) (*memguard.LockedBuffer, error) {
	cmd := shellCommand(command)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("password command: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("password command: %w", err)
	}
	pw, readErr := firstLine(out)
	// Only the first line counts, but the command must not block writing
	// the rest, and Wait must follow the last read.
	drainErr := drain(out)
	if err := cmd.Wait(); err != nil {
		destroy(pw)
		return nil, fmt.Errorf("password command failed: %w", err)
	}
	if err := errors.Join(readErr, drainErr); err != nil {
		destroy(pw)
		return nil, fmt.Errorf("read password command output: %w", err)
	}
	return pw, nil
}

// drain reads r to the end through a buffer it wipes, since the rest of a
// password command's output may also be secret.
func drain(r io.Reader) error {
	var scratch [512]byte
	defer clear(scratch[:])
	for {
		_, err := r.Read(scratch[:])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
