package s3local

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestRestartKeepsClassesAndRestores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startServer(t, dir)
	c := clientFor(first)
	ctx := t.Context()
	put(t, c, first.Bucket, "deep", types.StorageClassDeepArchive, []byte("d"))
	put(t, c, first.Bucket, "glacier", types.StorageClassGlacier, []byte("g"))
	put(t, c, first.Bucket, "ia", types.StorageClassStandardIa, []byte("i"))
	status, at, err := timedRestore(ctx, c, first.Bucket, "deep", restoreOpts{days: 1, tier: types.TierBulk})
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("restore: %d %v", status, err)
	}
	ready, expiry := at.add(testTiers[tierBulk]), at.add(testTiers[tierBulk]+testDay)
	upload, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(first.Bucket), Key: aws.String("pending"), StorageClass: types.StorageClassDeepArchive,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := startServer(t, dir)
	c = clientFor(second)
	for key, want := range map[string]types.StorageClass{
		"deep": types.StorageClassDeepArchive, "glacier": types.StorageClassGlacier, "ia": types.StorageClassStandardIa,
	} {
		if got := head(t, c, second.Bucket, key).StorageClass; got != want {
			t.Errorf("%s after restart: class %q, want %q", key, got, want)
		}
	}
	before(t, ready.from, "restore in progress across the restart", func() (problems []string) {
		if _, ongoing, _ := restoreHeader(t, head(t, c, second.Bucket, "deep")); !ongoing {
			problems = append(problems, "restore in progress lost by the restart")
		}
		_, err := restore(ctx, c, second.Bucket, "deep", restoreOpts{days: 1, tier: types.TierBulk})
		if !isAPIError(err, "RestoreAlreadyInProgress", 409) {
			problems = append(problems, fmt.Sprintf("restore after restart: %v, want 409", err))
		}
		return problems
	})

	// The upload created before the restart completes into its class.
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(second.Bucket), Key: aws.String("pending"), UploadId: upload.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("p"),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(second.Bucket), Key: aws.String("pending"), UploadId: upload.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := head(t, c, second.Bucket, "pending").StorageClass; got != types.StorageClassDeepArchive {
		t.Errorf("upload completed after restart: class %q, want DEEP_ARCHIVE", got)
	}

	// The restore finishes on the original schedule, then the data reads.
	waitUntil(ready.to.Add(200 * time.Millisecond))
	before(t, expiry.from, "restored copy across the restart", func() []string {
		if body, _, err := get(ctx, c, second.Bucket, "deep", ""); err != nil || string(body) != "d" {
			return []string{fmt.Sprintf("get: %q %v", body, err)}
		}
		return nil
	})
}

func TestStartFailsWithoutVersitygw(t *testing.T) {
	t.Parallel()
	_, err := Start(t.Context(), Options{Dir: t.TempDir(), Versitygw: filepath.Join(t.TempDir(), "versitygw")})
	if !errors.Is(err, ErrVersitygwNotFound) {
		t.Fatalf("got %v, want ErrVersitygwNotFound", err)
	}
	if !strings.Contains(err.Error(), "go install github.com/versity/versitygw/cmd/versitygw@") {
		t.Errorf("error %q does not name the install command", err)
	}
	notExec := filepath.Join(t.TempDir(), "versitygw")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(t.Context(), Options{Dir: t.TempDir(), Versitygw: notExec}); !errors.Is(err, ErrVersitygwNotFound) {
		t.Fatalf("non-executable binary: got %v", err)
	}
}

func TestFindVersitygwSearchOrder(t *testing.T) {
	// Not parallel: it changes the environment.
	dir := t.TempDir()
	fake := func(name string) string {
		p := filepath.Join(dir, name, "versitygw")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env, path, gobin := fake("env"), fake("path"), fake("gopath/bin")
	t.Setenv("OGIVE_VERSITYGW", env)
	t.Setenv("PATH", filepath.Dir(path))
	t.Setenv("GOBIN", "")
	t.Setenv("GOPATH", filepath.Join(dir, "gopath"))
	t.Setenv("HOME", filepath.Join(dir, "home"))
	for _, step := range []struct {
		explicit, want string
		unset          string
	}{
		{explicit: path, want: path},
		{want: env, unset: "OGIVE_VERSITYGW"},
		{want: path, unset: "PATH"},
		{want: gobin},
	} {
		got, err := findVersitygw(step.explicit)
		if err != nil || got != step.want {
			t.Fatalf("got %q %v, want %q", got, err, step.want)
		}
		if step.unset != "" {
			t.Setenv(step.unset, "")
		}
	}
	t.Setenv("GOPATH", filepath.Join(dir, "empty"))
	if _, err := findVersitygw(""); !errors.Is(err, ErrVersitygwNotFound) {
		t.Fatalf("nothing installed: got %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]Options{
		"no dir":        {},
		"half creds":    {Dir: "x", AccessKey: "a"},
		"unknown tier":  {Dir: "x", Tiers: map[string]time.Duration{"Glacial": time.Hour}},
		"negative tier": {Dir: "x", Tiers: map[string]time.Duration{"Bulk": -time.Hour}},
		"negative day":  {Dir: "x", Day: -time.Second},
	} {
		if _, err := withDefaults(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	o, err := withDefaults(Options{Dir: "x", Tiers: map[string]time.Duration{"Bulk": time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Tiers[tierBulk] != time.Second || o.Tiers[tierStandard] != 12*time.Hour || o.Day != 24*time.Hour ||
		o.Bucket != "ogive" || o.Region != "us-east-1" || o.Addr != "127.0.0.1:0" || o.AccessKey == "" || !filepath.IsAbs(o.Dir) {
		t.Errorf("defaults: %+v", o)
	}
}

func TestServerStringRedactsSecret(t *testing.T) {
	t.Parallel()
	s := &Server{Endpoint: "http://127.0.0.1:1", Bucket: "b", Region: "r", AccessKey: "AK", SecretKey: "very-secret"}
	for _, f := range []string{"%v", "%s", "%+v"} {
		out := fmt.Sprintf(f, s)
		if strings.Contains(out, "very-secret") || !strings.Contains(out, "**redacted**") {
			t.Errorf("%s: %s", f, out)
		}
	}
}

func TestCloseIsIdempotentAndStopsVersitygw(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	select {
	case <-s.gw.exited:
	default:
		t.Fatal("versitygw still running after Close")
	}
	if _, err := http.Get(s.Endpoint); err == nil {
		t.Fatal("proxy still answering after Close")
	}
}
