// Package s3local runs a local stand-in for S3 Glacier Deep Archive, for
// tests, demos and benchmarks. versitygw (posix backend) speaks S3, checks
// signatures and stores the bytes; a reverse proxy in front of it adds what
// versitygw does not model: storage classes, RestoreObject with timed
// restores, x-amz-restore, InvalidObjectState on reading an archived
// object, and RestoreStatus in listings. docs/S3LOCAL.md describes the
// behaviour in full.
package s3local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ErrVersitygwNotFound means no versitygw binary was found; the wrapping
// error names the install command.
var ErrVersitygwNotFound = errors.New("versitygw not found")

// Fixed test credentials, documented in docs/S3LOCAL.md. They protect
// nothing: the server listens on loopback and holds test data.
const (
	defaultAccessKey = "OGIVELOCALTESTKEY000"
	defaultSecretKey = "ogive-local-test-secret-not-for-real-use"
	defaultBucket    = "ogive"
	defaultRegion    = "us-east-1"
	defaultAddr      = "127.0.0.1:0"
)

// defaultTiers are Deep Archive's restore times; Expedited only applies to
// GLACIER objects, where it takes minutes.
var defaultTiers = map[string]time.Duration{
	tierBulk:      48 * time.Hour,
	tierStandard:  12 * time.Hour,
	tierExpedited: 5 * time.Minute,
}

// Options configures Start. Only Dir is required.
type Options struct {
	Dir       string                   // versitygw's posix root (Dir/data) and the layer's state (Dir/deeparchive)
	Addr      string                   // proxy listen address; default "127.0.0.1:0"
	Bucket    string                   // created at start if missing; default "ogive"
	Region    string                   // default "us-east-1"
	AccessKey string                   // default: the fixed test key in docs/S3LOCAL.md
	SecretKey string                   // default: the fixed test secret in docs/S3LOCAL.md
	Tiers     map[string]time.Duration // restore time per tier ("Bulk", "Standard", "Expedited"); missing tiers keep 48h / 12h / 5m
	Day       time.Duration            // how long a restore "day" lasts; default 24h
	Versitygw string                   // binary; default $OGIVE_VERSITYGW, then PATH, then the Go bin directory
	Log       io.Writer                // versitygw's output and the layer's log; nil discards them
}

// Server is a running local Deep Archive endpoint. Point an S3 client at
// Endpoint with path-style addressing and these credentials.
type Server struct {
	Endpoint  string // http://127.0.0.1:port
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string

	dir       string
	gw        *gateway
	transport *http.Transport // the layer's connections to versitygw
	http      *http.Server
	served    chan error
	closeOnce sync.Once
	closeErr  error
}

// String describes the server without its secret key.
func (s *Server) String() string {
	return fmt.Sprintf("s3local %s bucket %s region %s access key %s secret **redacted**",
		s.Endpoint, s.Bucket, s.Region, s.AccessKey)
}

// Start runs versitygw on a free loopback port, the Deep Archive layer on
// o.Addr, and creates the bucket if missing. ctx bounds the start-up only;
// the server runs until Close.
func Start(ctx context.Context, o Options) (*Server, error) {
	o, err := withDefaults(o)
	if err != nil {
		return nil, err
	}
	binary, err := findVersitygw(o.Versitygw)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(o.Dir, "data")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	state, err := openState(filepath.Join(o.Dir, "deeparchive"))
	if err != nil {
		return nil, err
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	logger := log.New(logw, "s3local: ", log.LstdFlags)

	// Metadata always goes to sidecar files: in extended attributes,
	// versitygw's record of a multipart upload outgrows ext4's 4 KiB limit
	// at a few hundred parts (versitygw issue 2424), so large uploads fail.
	sidecar := filepath.Join(o.Dir, "sidecar")
	if err := os.MkdirAll(sidecar, 0o755); err != nil {
		return nil, fmt.Errorf("create sidecar directory: %w", err)
	}
	gw, err := startGateway(ctx, gatewayConfig{
		binary:     binary,
		root:       root,
		sidecar:    sidecar,
		accessKey:  o.AccessKey,
		secretKey:  o.SecretKey,
		region:     o.Region,
		log:        o.Log,
		requestLog: o.Log != nil,
	})
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		_ = gw.stop()
		return nil, fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	upstream := &url.URL{Scheme: "http", Host: gw.addr}
	transport := newTransport()
	l := newLayer(layerConfig{
		upstream:  upstream,
		state:     state,
		verifier:  newVerifier(o.AccessKey, o.SecretKey, o.Region, time.Now),
		direct:    newClient(upstream.String(), o, transport),
		transport: transport,
		tiers:     o.Tiers,
		day:       o.Day,
		log:       logger,
		now:       time.Now,
	})
	s := &Server{
		Endpoint:  "http://" + ln.Addr().String(),
		Bucket:    o.Bucket,
		Region:    o.Region,
		AccessKey: o.AccessKey,
		SecretKey: o.SecretKey,
		dir:       o.Dir,
		gw:        gw,
		transport: transport,
		http: &http.Server{
			Handler:           l,
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          logger,
		},
		served: make(chan error, 1),
	}
	go func() { s.served <- s.http.Serve(ln) }()

	if err := s.ensureBucket(ctx, o); err != nil {
		_ = s.Close()
		return nil, err
	}
	logger.Printf("serving %s (versitygw on %s, data in %s)", s.Endpoint, gw.addr, o.Dir)
	return s, nil
}

func withDefaults(o Options) (Options, error) {
	if o.Dir == "" {
		return o, errors.New("no data directory: Options.Dir is empty")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return o, fmt.Errorf("resolve data directory: %w", err)
	}
	o.Dir = dir
	if o.Addr == "" {
		o.Addr = defaultAddr
	}
	if o.Bucket == "" {
		o.Bucket = defaultBucket
	}
	if o.Region == "" {
		o.Region = defaultRegion
	}
	if o.AccessKey == "" && o.SecretKey == "" {
		o.AccessKey, o.SecretKey = defaultAccessKey, defaultSecretKey
	}
	if o.AccessKey == "" || o.SecretKey == "" {
		return o, errors.New("set both AccessKey and SecretKey, or neither")
	}
	if o.Day == 0 {
		o.Day = 24 * time.Hour
	}
	if o.Day < 0 {
		return o, fmt.Errorf("negative restore day %v", o.Day)
	}
	tiers := make(map[string]time.Duration, len(defaultTiers))
	for t, d := range defaultTiers {
		tiers[t] = d
	}
	for t, d := range o.Tiers {
		if _, ok := defaultTiers[t]; !ok {
			return o, fmt.Errorf("unknown restore tier %q (want Bulk, Standard or Expedited)", t)
		}
		if d < 0 {
			return o, fmt.Errorf("negative restore time %v for tier %s", d, t)
		}
		tiers[t] = d
	}
	o.Tiers = tiers
	return o, nil
}

// newClient is an S3 client for base with o's credentials.
func newClient(base string, o Options, transport http.RoundTripper) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(base),
		Region:       o.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, ""),
		UsePathStyle: true,
		HTTPClient:   &http.Client{Transport: transport},
	})
}

// ensureBucket creates the bucket through the layer, unless it exists.
func (s *Server) ensureBucket(ctx context.Context, o Options) error {
	c := newClient(s.Endpoint, o, http.DefaultTransport)
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(o.Bucket)})
	if err == nil {
		return nil
	}
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		return fmt.Errorf("check bucket %s: %w", o.Bucket, err)
	}
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(o.Bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", o.Bucket, err)
	}
	return nil
}

// Close stops the proxy, then versitygw. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		if err := s.http.Shutdown(ctx); err != nil {
			// A client still holding a connection after the grace period
			// (a test's stalled request on a loaded machine) is cut off:
			// the server stops either way, which is all Close promises.
			_ = s.http.Close()
		}
		if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("proxy: %w", err))
		}
		// versitygw shuts down gracefully, waiting for open connections:
		// drop the layer's idle ones so it need not wait for them.
		s.transport.CloseIdleConnections()
		if err := s.gw.stop(); err != nil {
			errs = append(errs, err)
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
