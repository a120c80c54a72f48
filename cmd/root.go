// Package cmd is ogive's command-line interface: a thin Cobra tree over the
// crypt, profile, object and archive packages. It is the only package that
// words errors for people and chooses exit codes.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
)

// errNoProfilePath means no profile was named and HOME is not set, so
// there is no default to open or create.
var errNoProfilePath = errors.New("no profile file: HOME is not set")

// profilePathSet fails when there is no profile path. Every command that
// opens or creates the profile checks it first, before asking for anything.
func profilePathSet(g *globalOptions) error {
	if g.profilePath == "" {
		return errNoProfilePath
	}
	return nil
}

// Version and Commit are set at build time with -ldflags
// "-X .../cmd.Version=... -X .../cmd.Commit=..." (see the Makefile); the
// commit is the build's VCS stamp when Go recorded one.
var (
	Version = "dev"
	Commit  = ""
)

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "ogive",
		Short: "Encrypted backups in Amazon S3 Glacier Deep Archive",
		Long: `ogive encrypts files, block devices and streams on your machine and keeps them in
Amazon S3 Glacier Deep Archive. Each archive has its own key, derived from a master key
that never leaves your profile file; file names are encrypted too.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Bare "ogive" prints help; anything else that reaches here is not a
		// command, perhaps a mistyped one.
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &unknownCommandError{name: args[0], suggestions: suggestCommands(c, args[0])}
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	root.SetIn(f.In)
	root.SetOut(f.Out)
	root.SetErr(f.Err)
	if archive.BenchmarkPlaintext {
		root.Version += " (benchmark build: uploads files WITHOUT encryption)"
	}
	root.SetVersionTemplate("ogive {{.Version}}\n")
	// Cobra's own flag would say only "version for ogive".
	root.Flags().BoolP("version", "v", false, "print the version, the commit it was built from and the Go that built it")

	pf := root.PersistentFlags()
	pf.StringVarP(&g.profilePath, "profile", "p", defaultProfilePath(f.Getenv, runtime.GOOS),
		"profile file (env OGIVE_PROFILE)")
	pf.StringVar(&g.passwordFile, "password-file", f.Getenv("OGIVE_PASSWORD_FILE"),
		"read the password from the first line of this file (env OGIVE_PASSWORD_FILE)")
	pf.StringVar(&g.passwordCommand, "password-command", f.Getenv("OGIVE_PASSWORD_COMMAND"),
		"run this shell command and read the password from its output (env OGIVE_PASSWORD_COMMAND)")
	pf.BoolVarP(&g.quiet, "quiet", "q", false,
		"no progress bars, summaries or notices on stderr; errors and warnings still print")
	// The default shown in help must not leak a path from the machine that
	// generated the man pages.
	root.PersistentFlags().Lookup("profile").DefValue = "$HOME/.ogive"

	root.AddCommand(
		newInitCmd(f, g),
		newPutCmd(f, g),
		newListCmd(f, g),
		newRestoreCmd(f, g),
		newHeadCmd(f, g),
		newGetCmd(f, g),
		newRmCmd(f, g),
		newUploadsCmd(f, g),
		newVerifyCmd(f, g),
		newLsCmd(f, g),
		newProfileCmd(f, g),
	)
	withPlatformNotes(root)
	return root
}

// Main runs the command line in args (os.Args[1:] when nil) and returns the
// process exit code.
func Main(ctx context.Context, f *Factory, args ...string) int {
	root := NewRootCmd(f)
	if args != nil {
		root.SetArgs(args)
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var usage *usageError
	var unknown *unknownCommandError
	if errors.As(err, &unknown) {
		fmt.Fprintf(f.Err, "ogive: %s\nhint: %s\n", oneLine(unknown.Error()), oneLine(unknown.hint()))
		return exitError
	}
	if errors.As(err, &usage) || isCobraUsageError(err) {
		fmt.Fprintf(f.Err, "ogive: %s\nhint: run 'ogive --help' for usage\n", oneLine(err.Error()))
		return exitError
	}
	return report(f.Err, err)
}

// Argument checks that report as usage errors.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expected %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("expected %s", what)
		}
		return nil
	}
}

// unknownCommandError is a first argument that names no command, with the
// commands it may be a typo of.
type unknownCommandError struct {
	name        string
	suggestions []string
}

func (e *unknownCommandError) Error() string { return fmt.Sprintf("unknown command %q", e.name) }

func (e *unknownCommandError) hint() string {
	switch len(e.suggestions) {
	case 0:
		return "run 'ogive --help' for usage"
	case 1:
		return "did you mean 'ogive " + e.suggestions[0] + "'? run 'ogive --help' for usage"
	default:
		return "did you mean 'ogive " + strings.Join(e.suggestions, "' or 'ogive ") + "'? run 'ogive --help' for usage"
	}
}
