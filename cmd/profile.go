package cmd

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/profile"
)

func newProfileCmd(f *Factory, g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "profile",
		Short: "Show the profile's settings, or export a paper recovery sheet",
		Long: `Commands about the profile itself: 'ogive profile show' prints its settings, and
'ogive profile export --paper' prints a recovery sheet from which 'ogive init --recover'
rebuilds it.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newProfileShowCmd(f, g), newProfileExportCmd(f, g))
	return c
}

type profileShowOptions struct{}

func newProfileShowCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &profileShowOptions{}
	return &cobra.Command{
		Use:   "show",
		Short: "Print the profile's settings, without any secret",
		Long: `Print the profile's settings on stdout: its file, format and password work factors,
bucket, region, endpoint, key prefix, path-style addressing, whether it stores AWS keys
(never the keys themselves) and whether the bucket may hold archives of the 2019 ogive.
Nothing secret is printed, but the password is needed, as the settings are sealed with
the rest of the profile.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runProfileShow(f, g, o)
		},
	}
}

func runProfileShow(f *Factory, g *globalOptions, _ *profileShowOptions) error {
	if err := profilePathSet(g); err != nil {
		return err
	}
	p, err := f.openProfile(g, f.prompter(g, false))
	if err != nil {
		return err
	}
	format := fmt.Sprintf("current (Argon2id: t=%d, m=%d KiB, p=%d)", p.KDF.Time, p.KDF.MemoryKiB, p.KDF.Threads)
	if p.Legacy {
		format = "2019 ogive (Argon2i); 'ogive init --reinit' saves it in the current format"
	}
	awsKeys := "none stored: the standard AWS credential chain"
	if p.AccessKeyID != nil {
		awsKeys = "stored in the profile"
	}
	for _, row := range [][2]string{
		{"profile", g.profilePath},
		{"format", format},
		{"bucket", p.Bucket},
		{"region", orNone(p.Region, "(none: from the environment or the shared AWS config)")},
		{"endpoint", orNone(p.Endpoint, "(none: AWS for the region)")},
		{"prefix", orNone(p.Prefix, "(none)")},
		{"path-style", yesNo(p.PathStyle)},
		{"AWS keys", awsKeys},
		{"2019 archives", yesNo(p.LegacyArchives)},
	} {
		fmt.Fprintf(f.Out, "%-15s%s\n", row[0]+":", row[1])
	}
	return nil
}

func orNone(v, none string) string {
	if v == "" {
		return none
	}
	return v
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

type profileExportOptions struct {
	paper bool
}

func newProfileExportCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &profileExportOptions{}
	c := &cobra.Command{
		Use:   "export --paper",
		Short: "Print a paper recovery sheet of the profile",
		Long: `Print a recovery sheet on stdout: the master key in Crockford base32, four lines of
four groups with a check on every line, and the bucket, region, endpoint, prefix,
path-style and 2019-archives settings with a check of their own. It holds no AWS key and
no password. Print it and keep it somewhere safe: with it, 'ogive init --recover' rebuilds
a profile that reads every archive, after a lost profile or a forgotten password.

The sheet is as secret as the profile: whoever reads it can decrypt every archive. Send
it to a printer rather than a file, or delete the file once it is printed.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runProfileExport(f, g, o)
		},
	}
	c.Flags().BoolVar(&o.paper, "paper", false, "a recovery sheet to print (the only format)")
	return c
}

func runProfileExport(f *Factory, g *globalOptions, o *profileExportOptions) error {
	if !o.paper {
		return usagef("say what to export: --paper (a recovery sheet) is the only format")
	}
	if err := profilePathSet(g); err != nil {
		return err
	}
	p, err := f.openProfile(g, f.prompter(g, false))
	if err != nil {
		return err
	}
	if err := profile.WritePaper(f.Out, p); err != nil {
		return err
	}
	// A warning, so --quiet keeps it.
	fmt.Fprintln(f.Err, "warning: this sheet holds the master key: whoever reads it can decrypt every archive.")
	fmt.Fprintln(f.Err, "hint: print it and keep it as safe as the profile; leave no copy of it on this machine")
	return nil
}

// runRecover is 'ogive init --recover': a new profile from a recovery
// sheet's master key and settings, with a new password and AWS keys asked
// for as init asks. The sheet comes from --sheet FILE, or from stdin with
// --sheet -; the password then comes from the usual sources other than
// stdin (a file, a command or the terminal).
func runRecover(ctx context.Context, f *Factory, g *globalOptions, o *initOptions, changed func(string) bool) error {
	switch {
	case !o.recover:
		return usagef("--sheet is read only with --recover")
	case o.reinit:
		return usagef("--recover makes a new profile; it cannot be combined with --reinit")
	case o.sheet == "":
		return usagef("--recover needs the sheet: --sheet FILE, or --sheet - to type or paste it on stdin")
	}
	if _, err := os.Stat(g.profilePath); err == nil {
		return fmt.Errorf("profile %s: %w", g.profilePath, profile.ErrExists)
	}

	p, err := readSheet(f, o.sheet)
	if err != nil {
		return err
	}
	// Flags override the sheet, for a bucket reached another way today.
	for _, s := range []struct {
		flag  string
		dst   *string
		value string
	}{
		{"bucket", &p.Bucket, o.bucket},
		{"region", &p.Region, o.region},
		{"endpoint", &p.Endpoint, o.endpoint},
		{"prefix", &p.Prefix, o.prefix},
	} {
		if changed(s.flag) {
			*s.dst = s.value
		}
	}
	if changed("path-style") {
		p.PathStyle = o.pathStyle
	}
	if p.Bucket == "" {
		return usagef("a bucket name is required")
	}

	if err := checkEndpointScheme(o.endpoint); err != nil {
		return err
	}
	pr := f.prompter(g, o.sheet == "-")
	pw, err := pr.NewPassword("Enter a new password: ", "Confirm password: ")
	if err != nil {
		return err
	}
	defer pw.Destroy()
	if err := askAWSKeys(f, pr, p, o); err != nil {
		return err
	}
	if !o.noCheck {
		if err := verifyBucket(ctx, f, p, false); err != nil {
			return err
		}
	}
	if err := profile.Create(g.profilePath, p, pw, f.KDF); err != nil {
		return err
	}
	fmt.Fprintf(f.Err, "Profile recovered from the sheet: %s\n", g.profilePath)
	fmt.Fprintln(f.Err, "Keep a copy of it somewhere safe, and the sheet too.")
	if o.noCheck {
		warnPlainHTTP(f.Err, p.Endpoint)
	}
	return nil
}

// readSheet reads a recovery sheet from a file, or from stdin for "-".
func readSheet(f *Factory, path string) (*profile.Profile, error) {
	var r io.Reader = f.In
	if path == "-" {
		if f.InIsTerminal {
			fmt.Fprintln(f.Err, "Type or paste the recovery sheet; reading stops after its last field.")
		}
	} else {
		file, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("recovery sheet: %w", err)
		}
		defer file.Close()
		r = file
	}
	return profile.ParsePaper(r)
}
