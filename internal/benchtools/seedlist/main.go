// Command seedlist fills a bucket with many small ogive archives of one
// profile, concurrently, so that make bench can time "ogive list" over them.
// Going through "ogive put" would open the profile, and run Argon2, once per
// object.
//
//	seedlist -profile P -password-file F [-n 10000] [-concurrency 32] [-size 64] [-endpoint URL]
//
// -endpoint sends the uploads elsewhere than the profile's endpoint: make
// bench seeds the archives of a profile that goes through a WAN model
// directly, on loopback.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/awnumar/memguard"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	memguard.SafeExit(code)
}

type options struct {
	profile, passwordFile string
	endpoint              string
	n, concurrency, size  int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("seedlist", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.profile, "profile", os.Getenv("OGIVE_PROFILE"), "profile file")
	fs.StringVar(&o.passwordFile, "password-file", os.Getenv("OGIVE_PASSWORD_FILE"), "file whose first line is the profile's password")
	fs.IntVar(&o.n, "n", 10000, "archives to create")
	fs.IntVar(&o.concurrency, "concurrency", 32, "uploads at once")
	fs.IntVar(&o.size, "size", 64, "bytes of random content per archive")
	fs.StringVar(&o.endpoint, "endpoint", "", "endpoint to upload to (default: the profile's)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || o.profile == "" || o.passwordFile == "" || o.n < 0 || o.concurrency < 1 || o.size < 0 {
		fmt.Fprintln(stderr, "usage: seedlist -profile P -password-file F [-n N] [-concurrency C] [-size BYTES] [-endpoint URL]")
		return 2
	}
	p, err := openProfile(o.profile, o.passwordFile)
	if err != nil {
		fmt.Fprintf(stderr, "seedlist: %v\n", err)
		return 1
	}
	s, err := object.NewS3(ctx, s3Config(p, o))
	if err != nil {
		fmt.Fprintf(stderr, "seedlist: %v\n", err)
		return 1
	}
	master, err := p.MasterKey.Open()
	if err != nil {
		fmt.Fprintf(stderr, "seedlist: open master key: %v\n", err)
		return 1
	}
	defer master.Destroy()
	if err := seed(ctx, s, master.Bytes(), o); err != nil {
		fmt.Fprintf(stderr, "seedlist: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d archives\n", o.n)
	return 0
}

func openProfile(path, passwordFile string) (*profile.Profile, error) {
	line, err := os.ReadFile(passwordFile)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		memguard.WipeBytes(line[i:])
		line = line[:i]
	}
	// NewBufferFromBytes wipes line once it is copied into locked memory.
	return profile.Open(path, memguard.NewBufferFromBytes(line))
}

// s3Config is where the archives go: the profile's bucket and prefix, at
// -endpoint when given, else at the profile's endpoint.
func s3Config(p *profile.Profile, o options) object.S3Config {
	endpoint := p.Endpoint
	if o.endpoint != "" {
		endpoint = o.endpoint
	}
	return object.S3Config{
		Bucket:      p.Bucket,
		Region:      p.Region,
		Endpoint:    endpoint,
		Prefix:      p.Prefix,
		PathStyle:   p.PathStyle,
		Credentials: credentials(p),
	}
}

func credentials(p *profile.Profile) aws.CredentialsProvider {
	if p.AccessKeyID == nil || p.SecretAccessKey == nil {
		return nil
	}
	return object.StaticCredentials(p.AccessKeyID, p.SecretAccessKey)
}

// seed uploads o.n archives named list-00000, list-00001, ... with
// o.concurrency uploads in flight; the first error stops the rest.
func seed(ctx context.Context, s object.Store, master []byte, o options) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	lendMaster := func(use func([]byte) error) error { return use(master) }
	for range o.concurrency {
		wg.Go(func() {
			body := make([]byte, o.size)
			for {
				i := next.Add(1) - 1
				if i >= int64(o.n) || ctx.Err() != nil {
					return
				}
				if _, err := rand.Read(body); err != nil {
					cancel(err)
					return
				}
				src := archive.Source{R: bytes.NewReader(body), Name: fmt.Sprintf("list-%05d", i), Size: int64(len(body))}
				if _, _, err := archive.Put(ctx, s, lendMaster, src, archive.PutOptions{Concurrency: 1}); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
