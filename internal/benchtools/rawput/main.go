// Command rawput uploads a file unencrypted through object.Upload, the path
// "ogive put" takes, with the same part size and concurrency. make bench
// times it beside ogive put so that the cost of encryption shows on its own.
//
//	rawput -endpoint URL -bucket B [-key K] [-concurrency N] [-part-size BYTES] FILE
//
// Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY in the environment for the local server).
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
	"syscall"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/object"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, newS3)
	stop()
	os.Exit(code)
}

type options struct {
	endpoint, bucket, region, key, storageClass string
	concurrency                                 int
	partSize                                    int64
}

func newS3(ctx context.Context, o options) (object.Store, error) {
	return object.NewS3(ctx, object.S3Config{Bucket: o.bucket, Region: o.region, Endpoint: o.endpoint})
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer,
	newStore func(context.Context, options) (object.Store, error)) int {
	var o options
	fs := flag.NewFlagSet("rawput", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.endpoint, "endpoint", "", "S3 endpoint URL (empty: AWS)")
	fs.StringVar(&o.bucket, "bucket", "", "bucket")
	fs.StringVar(&o.region, "region", "us-east-1", "region to sign for")
	fs.StringVar(&o.key, "key", "", "object key (default: the file's base name)")
	fs.StringVar(&o.storageClass, "storage-class", "DEEP_ARCHIVE", "storage class")
	fs.IntVar(&o.concurrency, "concurrency", archive.DefaultConcurrency, "parts in flight")
	fs.Int64Var(&o.partSize, "part-size", 0, "bytes per part (default: what ogive put picks for a file this size)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 || o.bucket == "" {
		fmt.Fprintln(stderr, "usage: rawput -bucket B [-endpoint URL] [-key K] [-concurrency N] [-part-size BYTES] FILE")
		return 2
	}
	if o.key == "" {
		o.key = filepath.Base(fs.Arg(0))
	}
	n, err := upload(ctx, fs.Arg(0), o, newStore)
	if err != nil {
		fmt.Fprintf(stderr, "rawput: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %d\n", o.key, n)
	return 0
}

func upload(ctx context.Context, path string, o options,
	newStore func(context.Context, options) (object.Store, error)) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if o.partSize == 0 {
		o.partSize = archive.PartSize(st.Size())
	}
	s, err := newStore(ctx, o)
	if err != nil {
		return 0, err
	}
	return object.Upload(ctx, s, o.key, f, object.UploadOptions{
		PutOptions:  object.PutOptions{StorageClass: o.storageClass},
		PartSize:    o.partSize,
		Concurrency: o.concurrency,
	})
}
