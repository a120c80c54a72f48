package cmd

import (
	"context"
	"fmt"
	"os"

	"github.com/awnumar/memguard"
	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/input"
	"github.com/ogive-project/ogive/profile"
)

type initOptions struct {
	reinit    bool
	bucket    string
	region    string
	endpoint  string
	prefix    string
	pathStyle bool
	noAWSKeys bool
	recover   bool   // rebuild a profile from a paper recovery sheet
	sheet     string // the sheet's file, or "-" for stdin
	noCheck   bool   // write the profile without checking the bucket first
}

func newInitCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "init",
		Short: "Create a profile: a new master key and the S3 bucket to use",
		Long: `Create a profile: a new random master key and the S3 bucket to use, sealed with
a password. The prompts are, in order: password, confirm password, AWS key ID, AWS key
secret, bucket name, region and endpoint. Every answer can also come from a flag, and the
AWS keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: the key prompts are then still
asked, in the same order, and an empty answer takes the environment's keys. Without them,
leave the key ID empty (or pass --no-aws-keys) to use the standard AWS credential chain.

Before the profile is written, init checks that the bucket answers a listing with these
keys, in this region, at this endpoint; if not, it says why and writes nothing (--no-check
writes it without checking). It then warns when the bucket already holds objects the new
key cannot read: the archives of a lost profile are read again with --recover, not init.

With --reinit, change the password and/or AWS keys of an existing profile. The master key
stays the same, so every archive remains readable; the old file is kept as <profile>.bak.

With --recover, create a profile from a recovery sheet ('ogive profile export --paper'):
its master key and bucket settings, which flags may override, then a new password and AWS
keys asked for as above. The sheet comes from --sheet FILE, or from stdin with --sheet -
(typed or pasted; reading stops after its last field), in which case the password comes
from --password-file, --password-command or the terminal. A mistyped line is reported by
its number and nothing is written.

Back up the profile file: without it, no archive can ever be decrypted.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runInit(c.Context(), f, g, o, c.Flags().Changed)
		},
	}
	fl := c.Flags()
	fl.BoolVarP(&o.reinit, "reinit", "r", false, "change the password and/or AWS keys of an existing profile (keeps <profile>.bak)")
	fl.StringVar(&o.bucket, "bucket", "", "S3 bucket name (skips the prompt)")
	fl.StringVar(&o.region, "region", "", "AWS region (skips the prompt; default eu-west-1)")
	fl.StringVar(&o.endpoint, "endpoint", "", "S3 endpoint URL (skips the prompt; default https://s3.<region>.amazonaws.com)")
	fl.StringVar(&o.prefix, "prefix", "", "key prefix for every object ogive stores")
	fl.BoolVar(&o.pathStyle, "path-style", false, "use path-style bucket addressing (automatic for IP and localhost endpoints)")
	fl.BoolVar(&o.noAWSKeys, "no-aws-keys", false, "store no AWS keys: use the standard AWS credential chain")
	fl.BoolVar(&o.recover, "recover", false, "create the profile from a paper recovery sheet (see --sheet)")
	fl.StringVar(&o.sheet, "sheet", "", "with --recover, the recovery sheet's file, or - for stdin")
	fl.BoolVar(&o.noCheck, "no-check", false, "write the profile without checking that the bucket is reachable with it")
	return c
}

const defaultRegion = "eu-west-1"

func runInit(ctx context.Context, f *Factory, g *globalOptions, o *initOptions, changed func(string) bool) error {
	if err := profilePathSet(g); err != nil {
		return err
	}
	if o.recover || changed("sheet") {
		return runRecover(ctx, f, g, o, changed)
	}
	_, statErr := os.Stat(g.profilePath)
	exists := statErr == nil
	if exists && !o.reinit {
		return fmt.Errorf("profile %s: %w", g.profilePath, profile.ErrExists)
	}
	if !exists && o.reinit {
		return fmt.Errorf("profile %s: %w", g.profilePath, profile.ErrNotExist)
	}
	if err := checkEndpointScheme(o.endpoint); err != nil {
		return err
	}

	pr := f.prompter(g, false)
	var p *profile.Profile
	var err error
	newPrompt, confirmPrompt := "Enter password: ", "Confirm password: "
	if o.reinit {
		p, err = f.openProfileAs(g, pr, "Current password: ")
		newPrompt, confirmPrompt = "New password: ", "Confirm new password: "
	} else {
		p, err = profile.New()
	}
	if err != nil {
		return err
	}

	pw, err := pr.NewPassword(newPrompt, confirmPrompt)
	if err != nil {
		return err
	}
	defer pw.Destroy()

	keysBefore := p.AccessKeyID
	if err := askAWSKeys(f, pr, p, o); err != nil {
		return err
	}
	keysChanged := p.AccessKeyID != keysBefore

	if !o.reinit || changed("bucket") {
		if p.Bucket, err = answer(pr, o.bucket, "Enter AWS S3 bucket name: ", ""); err != nil {
			return err
		}
		if p.Bucket == "" {
			return usagef("a bucket name is required")
		}
	}
	if !o.reinit || changed("region") {
		if p.Region, err = answer(pr, o.region, "Enter AWS S3 Region (default is "+defaultRegion+"): ", defaultRegion); err != nil {
			return err
		}
	}
	if !o.reinit || changed("endpoint") || changed("region") {
		def := "https://s3." + p.Region + ".amazonaws.com"
		if p.Endpoint, err = answer(pr, o.endpoint, "Enter AWS S3 endpoint (default is "+def+"): ", def); err != nil {
			return err
		}
		if err := checkEndpointScheme(p.Endpoint); err != nil {
			return err
		}
	}
	if !o.reinit || changed("prefix") {
		p.Prefix = o.prefix
	}
	if !o.reinit || changed("path-style") {
		p.PathStyle = o.pathStyle
	}

	// A new profile is checked before it is written; a reinit only when it
	// changes how the bucket is reached, so that a password can be changed
	// offline.
	reached := !o.reinit || keysChanged || changed("bucket") || changed("region") || changed("endpoint") ||
		changed("prefix") || changed("path-style")
	if !o.noCheck && reached {
		if err := verifyBucket(ctx, f, p, !o.reinit); err != nil {
			return err
		}
	}

	if o.reinit {
		err = profile.Replace(g.profilePath, p, pw, f.KDF)
	} else {
		err = profile.Create(g.profilePath, p, pw, f.KDF)
	}
	if err != nil {
		return err
	}
	if o.reinit {
		fmt.Fprintf(f.Err, "Profile successfully updated; the previous one is %s.bak.\n", g.profilePath)
		fmt.Fprintln(f.Err, "The .bak still opens with the old password: delete it once the new profile is safely kept, or keep it if you wish.")
	} else {
		fmt.Fprintf(f.Err, "Profile successfully created: %s\n", g.profilePath)
		fmt.Fprintln(f.Err, "Keep a copy of it somewhere safe: without it no archive can be decrypted.")
	}
	if o.noCheck || !reached {
		warnPlainHTTP(f.Err, p.Endpoint)
	}
	return nil
}

// answer takes a flag's value when it was given, or else asks.
func answer(pr *input.Prompter, flag, prompt, def string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return pr.Line(prompt, def)
}

// askAWSKeys fills in the profile's AWS keys from the prompts. An empty key
// ID means no keys: the AWS credential chain is used. On reinit an empty
// answer keeps the keys the profile had. With AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY set, the same two prompts are asked, in the same
// order, so that answers typed or piped in that order land where they
// belong; empty answers then take the environment's keys.
func askAWSKeys(f *Factory, pr *input.Prompter, p *profile.Profile, o *initOptions) error {
	if o.noAWSKeys {
		p.AccessKeyID, p.SecretAccessKey = nil, nil
		return nil
	}
	envID, envSecret := f.Getenv("AWS_ACCESS_KEY_ID"), f.Getenv("AWS_SECRET_ACCESS_KEY")
	// The environment's keys are offered to a new profile only. On --reinit
	// an empty answer keeps the profile's own keys, whatever the shell
	// holds. Temporary keys (with AWS_SESSION_TOKEN) are never offered:
	// stored without their token, they would fail every request and expire
	// within hours; empty answers then leave them to the credential chain,
	// which reads the token.
	fromEnv := envID != "" && envSecret != "" && !o.reinit && f.Getenv("AWS_SESSION_TOKEN") == ""
	idPrompt, secretPrompt := "Enter AWS Key ID: ", "Enter AWS Key Secret: "
	if fromEnv {
		idPrompt = "Enter AWS Key ID (default from AWS_ACCESS_KEY_ID" + keyIDHint(envID) + "): "
		secretPrompt = "Enter AWS Key Secret (default from AWS_SECRET_ACCESS_KEY): "
	}
	id, err := pr.Secret(idPrompt)
	if err != nil {
		return err
	}
	secret, err := pr.Secret(secretPrompt)
	if err != nil {
		if id != nil {
			id.Destroy()
		}
		return err
	}
	switch {
	case id == nil && secret == nil && fromEnv:
		fmt.Fprintln(f.Err, "Using the AWS keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.")
		p.AccessKeyID = memguard.NewEnclave([]byte(envID))
		p.SecretAccessKey = memguard.NewEnclave([]byte(envSecret))
		return nil
	case id == nil && secret == nil:
		if !o.reinit {
			p.AccessKeyID, p.SecretAccessKey = nil, nil
		}
		return nil
	case id == nil || secret == nil:
		if id != nil {
			id.Destroy()
		}
		if secret != nil {
			secret.Destroy()
		}
		return usagef("give both the AWS key ID and its secret, or neither")
	}
	p.AccessKeyID = id.Seal()
	p.SecretAccessKey = secret.Seal()
	return nil
}

// keyIDHint shows the last 4 characters of an access key ID from the
// environment, enough to recognise it and no more; nothing when the ID is
// short or holds characters that a key ID does not.
func keyIDHint(id string) string {
	if len(id) < 12 {
		return ""
	}
	tail := id[len(id)-4:]
	for _, c := range []byte(tail) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return ""
		}
	}
	return ", …" + tail
}
