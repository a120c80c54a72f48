package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// lockedBuffer is written by run's goroutine and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunServesUntilInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdoutR, stdoutW := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-bucket", "demo", "-bulk", "1s", "-standard", "1s", "-day", "1m"}, stdoutW, stderr)
		_ = stdoutW.Close()
	}()

	fields := map[string]string{}
	var exports []string
	sc := bufio.NewScanner(stdoutR)
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "export "); ok {
			exports = append(exports, e)
		} else if name, value, ok := strings.Cut(line, "  "); ok {
			fields[name] = strings.TrimSpace(value)
		}
		if strings.HasPrefix(line, "interrupt") {
			break
		}
	}
	if fields["endpoint"] == "" || fields["bucket"] != "demo" || fields["access key"] == "" || fields["secret key"] == "" {
		t.Fatalf("missing connection details: %q\nstderr: %s", fields, stderr)
	}
	for _, want := range []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_S3=" + fields["endpoint"], "OGIVE_PROFILE="} {
		found := false
		for _, e := range exports {
			found = found || strings.HasPrefix(e, want)
		}
		if !found {
			t.Errorf("no export of %s in %q", want, exports)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdoutR) }()

	// The printed details are enough to use the server.
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(fields["endpoint"]),
		Region:       fields["region"],
		Credentials:  credentials.NewStaticCredentialsProvider(fields["access key"], fields["secret key"], ""),
		UsePathStyle: true,
	})
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("demo"), Key: aws.String("k"), Body: strings.NewReader("x"), StorageClass: types.StorageClassDeepArchive,
	})
	if err != nil {
		t.Fatal(err)
	}

	dir, _, _ := strings.Cut(fields["data"], " (")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, stderr: %s", code, stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop after interrupt")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary data directory %s kept: %v", dir, err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-bulk", "soon"}, {"extra"}, {"-nope"}} {
		var stderr bytes.Buffer
		if code := run(t.Context(), args, io.Discard, &stderr); code != 2 {
			t.Errorf("%q: exit code %d, want 2", args, code)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9000": "http://127.0.0.1:9000",
		"a b":                   "'a b'",
		"it's":                  `'it'\''s'`,
		"":                      "''",
		"$HOME":                 "'$HOME'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
