// Command s3local runs the local S3 Glacier Deep Archive stand-in
// (versitygw behind the Deep Archive layer of package s3local) until
// interrupted, and prints what a client needs to reach it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ogive-project/ogive/internal/s3local"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	dir, addr, bucket, region, versitygw string
	bulk, standard, day                  time.Duration
	verbose                              bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("s3local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dir, "dir", "", "data directory, kept across runs (default: a new temporary directory, removed on exit)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9000", "listen address of the S3 endpoint")
	fs.StringVar(&o.bucket, "bucket", "ogive", "bucket to create if missing")
	fs.StringVar(&o.region, "region", "us-east-1", "region clients must sign for")
	fs.DurationVar(&o.bulk, "bulk", 48*time.Hour, "time a Bulk restore takes")
	fs.DurationVar(&o.standard, "standard", 12*time.Hour, "time a Standard restore takes")
	fs.DurationVar(&o.day, "day", 24*time.Hour, "length of one restore day (RestoreRequest Days)")
	fs.StringVar(&o.versitygw, "versitygw", "", "versitygw binary (default: $OGIVE_VERSITYGW, PATH, then the Go bin directory)")
	fs.BoolVar(&o.verbose, "v", false, "log every request and restore to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "s3local: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := serve(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "s3local: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	temporary := o.dir == ""
	if temporary {
		if o.dir, err = os.MkdirTemp("", "s3local-"); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		defer func() { err = errors.Join(err, os.RemoveAll(o.dir)) }()
	}
	var logw io.Writer
	if o.verbose {
		logw = stderr
	}
	s, err := s3local.Start(ctx, s3local.Options{
		Dir:       o.dir,
		Addr:      o.addr,
		Bucket:    o.bucket,
		Region:    o.region,
		Tiers:     map[string]time.Duration{"Bulk": o.bulk, "Standard": o.standard},
		Day:       o.day,
		Versitygw: o.versitygw,
		Log:       logw,
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()

	kept := "kept"
	if temporary {
		kept = "removed on exit"
	}
	profile := filepath.Join(o.dir, "ogive.profile")
	fmt.Fprintf(stdout, `s3local: S3 Glacier Deep Archive stand-in
endpoint    %s
bucket      %s
region      %s
access key  %s
secret key  %s
data        %s (%s)
restores    Bulk %v, Standard %v, one day lasts %v

# for ogive and other AWS clients (path-style addressing):
export AWS_ACCESS_KEY_ID=%s
export AWS_SECRET_ACCESS_KEY=%s
export AWS_REGION=%s
export AWS_ENDPOINT_URL_S3=%s
export OGIVE_PROFILE=%s
# then: ogive init --bucket %s --region %s --endpoint %s

interrupt (Ctrl-C) to stop
`,
		s.Endpoint, s.Bucket, s.Region, s.AccessKey, s.SecretKey, o.dir, kept, o.bulk, o.standard, o.day,
		shellQuote(s.AccessKey), shellQuote(s.SecretKey), shellQuote(s.Region), shellQuote(s.Endpoint), shellQuote(profile),
		shellQuote(s.Bucket), shellQuote(s.Region), shellQuote(s.Endpoint))

	<-ctx.Done()
	fmt.Fprintln(stderr, "s3local: stopping")
	return nil
}

// shellQuote makes s one word for a POSIX shell, quoting only when needed.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
