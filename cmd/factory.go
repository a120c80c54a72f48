package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"golang.org/x/term"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/input"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
	"github.com/ogive-project/ogive/resume"
)

// Factory carries what commands depend on. Everything that touches the
// outside world is reached through it lazily, so that --help and shell
// completion never ask for a password and tests can swap parts out.
type Factory struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	// InIsTerminal and ErrIsTerminal report whether stdin and stderr are
	// terminals: a password comes from stdin only when it is not one, and
	// progress bars are drawn only on a terminal.
	InIsTerminal  bool
	ErrIsTerminal bool
	// OutIsTerminal reports whether stdout is a terminal: list then fits
	// its width, and get refuses to write binary data there.
	OutIsTerminal bool

	Getenv func(string) string

	// KDF is the Argon2id work factor for profiles that init writes. It is
	// profile.DefaultKDF in the binary; tests lower it here and nowhere else.
	KDF profile.KDFParams

	// Terminal, when set, replaces /dev/tty for interactive prompts.
	Terminal input.Terminal

	// NewStore connects to the bucket a profile names.
	NewStore func(ctx context.Context, p *profile.Profile) (object.Store, error)
}

// SystemFactory wires the real process: standard streams, environment, S3.
func SystemFactory() *Factory {
	return &Factory{
		In:            os.Stdin,
		Out:           os.Stdout,
		Err:           os.Stderr,
		InIsTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		Getenv:        os.Getenv,
		KDF:           profile.DefaultKDF,
		NewStore:      newS3Store,
	}
}

func newS3Store(ctx context.Context, p *profile.Profile) (object.Store, error) {
	cfg := object.S3Config{
		Bucket:    p.Bucket,
		Region:    p.Region,
		Endpoint:  p.Endpoint,
		Prefix:    p.Prefix,
		PathStyle: p.PathStyle,
	}
	if p.AccessKeyID != nil && p.SecretAccessKey != nil {
		cfg.Credentials = object.StaticCredentials(p.AccessKeyID, p.SecretAccessKey)
	}
	return object.NewS3(ctx, cfg)
}

// stateDir is where interrupted uploads are recorded. There is no fallback
// such as /tmp, which anyone could have prepared.
func (f *Factory) stateDir() (string, error) {
	return resume.Dir(f.Getenv)
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	profilePath     string
	passwordFile    string
	passwordCommand string
	// quiet drops progress bars, summaries and notices from stderr; data
	// on stdout, warnings and errors stay.
	quiet bool
}

// defaultProfilePath is OGIVE_PROFILE, else $HOME/.ogive, else "": never
// a relative ./.ogive that the current directory decides, as commands then
// refuse to run (profilePathSet). HOME comes from the factory's getenv
// only; os.UserHomeDir would read the process's own environment behind it,
// and on Unix finds nothing more than HOME anyway. Windows sets HOME only
// under some shells: there %USERPROFILE% stands in.
func defaultProfilePath(getenv func(string) string, goos string) string {
	if p := getenv("OGIVE_PROFILE"); p != "" {
		return p
	}
	vars := []string{"HOME"}
	if goos == "windows" {
		vars = append(vars, "USERPROFILE")
	}
	for _, v := range vars {
		if home := getenv(v); home != "" {
			return filepath.Join(home, ".ogive")
		}
	}
	return ""
}

// modesArePermissions tells whether a file's mode bits say who may read
// it. On Windows access is kept in ACLs and Go reports every writable file
// as 0666, so the check that the profile is private is not made there.
const modesArePermissions = runtime.GOOS != "windows"

// prompter builds the password and answer source for one command run.
// stdinData is true when stdin carries the data to upload.
func (f *Factory) prompter(g *globalOptions, stdinData bool) *input.Prompter {
	return input.New(input.Options{
		Stdin:           f.In,
		StdinIsTerminal: f.InIsTerminal,
		StdinReserved:   stdinData,
		Prompt:          f.Err,
		PasswordFile:    g.passwordFile,
		PasswordCommand: g.passwordCommand,
		Terminal:        f.Terminal,
	})
}

// session is an opened profile and its store, for commands that reach S3.
type session struct {
	profile *profile.Profile
	store   object.Store
	// prefixes are the shortened IDs looked up so far, each listed once (ids.go).
	prefixes map[string]*archive.PrefixMatch
	// notes is where identify says what a shortened ID cost and which
	// archive it names: stderr, or nil with --quiet.
	notes io.Writer
}

// openProfile checks that the profile can be read, asks for the password
// and opens the profile. A password typed at the terminal that does not
// open it, or an empty one, is asked for again, up to input.Tries times in
// all; one from a file, a command or a pipe fails at once.
func (f *Factory) openProfile(g *globalOptions, pr *input.Prompter) (*profile.Profile, error) {
	return f.openProfileAs(g, pr, "Enter password: ")
}

func (f *Factory) openProfileAs(g *globalOptions, pr *input.Prompter, prompt string) (*profile.Profile, error) {
	// A password file is read first, so that one others can read is
	// refused before anything else; a password command, which may itself
	// ask for something, runs only once the profile is known to be there.
	if !pr.FromFile() {
		if err := checkProfileFile(g.profilePath); err != nil {
			return nil, err
		}
	}
	note := ""
	for try := 1; ; try++ {
		p, err := openWith(g.profilePath, pr, note+prompt)
		retry := errors.Is(err, profile.ErrWrongPassword) || errors.Is(err, input.ErrEmpty)
		if err == nil || !retry || !pr.Typed() || try == input.Tries {
			return p, err
		}
		note = input.Retry(err)
	}
}

func openWith(path string, pr *input.Prompter, prompt string) (*profile.Profile, error) {
	pw, err := pr.Password(prompt)
	if err != nil {
		return nil, err
	}
	defer pw.Destroy()
	if pr.FromFile() {
		if err := checkProfileFile(path); err != nil {
			return nil, err
		}
	}
	p, err := profile.Open(path, pw)
	// Argon2id's 64 MiB are garbage now: hand them back to the system at
	// once rather than when the heap next doubles, so that a transfer's
	// memory is its buffers and not the KDF's leftovers.
	debug.FreeOSMemory()
	return p, err
}

// checkProfileFile fails, before any password is asked for, when there is
// no profile at path, or none that can be read: a missing file, a
// directory, a file of someone else's or one others can read. It names the
// path once; profile.Open checks the file it reads again.
func checkProfileFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s", profile.ErrNotExist, path)
	case err != nil:
		return fmt.Errorf("open profile: %w", err) // the PathError names it
	case !fi.Mode().IsRegular():
		return fmt.Errorf("profile %s is not a regular file (%s)", path, fileKind(fi.Mode()))
	case modesArePermissions && fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("open profile %s: %w: mode %04o", path, profile.ErrPermissions, fi.Mode().Perm())
	}
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open profile: %w", err)
	}
	return file.Close()
}

// openSession opens the profile and connects to its bucket.
func (f *Factory) openSession(ctx context.Context, g *globalOptions, stdinData bool) (*session, error) {
	if err := profilePathSet(g); err != nil {
		return nil, err
	}
	p, err := f.openProfile(g, f.prompter(g, stdinData))
	if err != nil {
		return nil, err
	}
	warnPlainHTTP(f.Err, p.Endpoint)
	s, err := f.NewStore(ctx, p)
	if err != nil {
		return nil, err
	}
	sess := &session{profile: p, store: s}
	if !g.quiet {
		sess.notes = f.Err
	}
	return sess, nil
}

// withMasterKey opens the master key for the duration of fn only.
func (s *session) withMasterKey(fn func(master []byte) error) error {
	buf, err := s.profile.MasterKey.Open()
	if err != nil {
		return err
	}
	defer buf.Destroy()
	return fn(buf.Bytes())
}

// identify checks that id is an archive of this profile and decrypts its
// name. An ID given in full costs no listing; one that is not an archive's
// ID may be the beginning of one, and is looked up by listing the keys that
// begin with it, once per distinct prefix (ids.go).
func (s *session) identify(ctx context.Context, id string) (*archive.Archive, error) {
	var a *archive.Archive
	err := s.withMasterKey(func(master []byte) error {
		var err error
		a, err = archive.Identify(ctx, s.store, master, id, s.profile.LegacyArchives)
		if err != nil && mayBePrefix(id, err) {
			a, err = s.resolvePrefix(ctx, master, id, err)
		}
		return err
	})
	return a, err
}

// keys derives the keys of archive a, the master key opened only for that.
// The caller destroys them.
func (s *session) keys(a *archive.Archive) (crypt.Decrypter, error) {
	var keys crypt.Decrypter
	err := s.withMasterKey(func(master []byte) (err error) {
		keys, err = a.Keys(master)
		return err
	})
	return keys, err
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}
