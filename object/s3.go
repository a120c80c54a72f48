package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3Config says which bucket an S3 store uses and how to reach it.
type S3Config struct {
	Bucket   string
	Region   string // "" → from the environment or shared config; us-east-1 for a custom Endpoint
	Endpoint string // "" → AWS; otherwise a URL such as http://127.0.0.1:7070
	// Prefix is put in front of every key; a "/" is added if it lacks one,
	// so that the prefixes "a" and "ab" never see each other's objects.
	Prefix string
	// PathStyle addresses the bucket in the URL path instead of the host
	// name. It is forced on for an IP-address or localhost endpoint, where
	// a bucket host name cannot resolve.
	PathStyle bool
	// Credentials nil → the standard AWS credential chain (environment,
	// shared config, SSO, IMDS…).
	Credentials aws.CredentialsProvider
	HTTPClient  *http.Client // optional; replaces the SDK's client and IdleTimeout
	// MaxBackoff caps the randomized wait between two attempts of a
	// request; 0 keeps the SDK's 20 s. Tests lower it.
	MaxBackoff time.Duration
	// IdleTimeout fails a request whose connection moves no byte, in
	// either direction, for this long, so that a stalled server costs one
	// retry rather than a hung backup; 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
}

// DefaultIdleTimeout is S3Config.IdleTimeout's default. It is generous:
// S3 keeps a slow CompleteMultipartUpload alive with whitespace, and the
// SDK closes pooled connections after 90 s idle anyway.
const DefaultIdleTimeout = 2 * time.Minute

// S3 is a Store on an S3 bucket, through aws-sdk-go-v2.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string
	region string // the region requests are signed for

	// restoreAttr remembers what List learnt about the server's support
	// of OptionalObjectAttributes=RestoreStatus (see resolveStatuses).
	restoreAttr atomic.Int32
}

var _ Store = (*S3)(nil)

const (
	restoreAttrUnknown int32 = iota
	restoreAttrHonoured
	restoreAttrIgnored
)

const (
	listPageSize    = 1000
	maxFailedProbes = 3 // HEADs that failed before a page is taken as listed (resolveStatuses)
	headConcurrency = 16
	// maxAttempts bounds the attempts of every request; the SDK's standard
	// retryer waits a random time up to 2^attempt seconds between them.
	maxAttempts = 5
)

// ErrUnavailable means a request failed every one of its attempts: the
// server kept answering 5xx or throttling, or could not be reached.
var ErrUnavailable = errors.New("service unavailable after retries")

// NewS3 returns a store on c.Bucket. It sends nothing: a wrong bucket or
// credentials show up on the first request.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	if c.Bucket == "" {
		return nil, errors.New("new s3 store: empty bucket name")
	}
	endpoint, pathStyle, err := parseEndpoint(c.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("new s3 store: %w", err)
	}

	opts := []func(*config.LoadOptions) error{
		config.WithRetryMaxAttempts(maxAttempts),
		// We send our own CRC32C with every upload; the SDK's default of
		// computing another checksum of every body, and of validating
		// checksums of downloads, costs CPU for nothing: DARE authenticates
		// what we read.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		// The SDK would print its own warnings on stderr ("failed to discard
		// remaining HTTP response body" after a dropped connection), between
		// ogive's messages; what matters reaches the caller as an error.
		config.WithLogger(logging.Nop{}),
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	// c.HTTPClient is not given to LoadDefaultConfig: with AWS_CA_BUNDLE set
	// it refuses any client but its own. It goes on the S3 client below.
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("new s3 store: load aws config: %w", err)
	}
	if cfg.Region == "" {
		if endpoint == "" {
			return nil, errors.New("new s3 store: no region: set one or define AWS_REGION")
		}
		// Servers other than AWS mostly ignore the region, but SigV4 needs one.
		cfg.Region = "us-east-1"
	}

	connected := new(atomic.Bool)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = c.PathStyle || pathStyle
		if c.MaxBackoff > 0 {
			o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, c.MaxBackoff)
		}
		o.Retryer = connectRetryer{Retryer: o.Retryer, connected: connected}
		if c.HTTPClient != nil {
			o.HTTPClient = c.HTTPClient
			connected.Store(true) // its dialer is not ours to watch: retry as the SDK does
		} else {
			o.HTTPClient = withIdleTimeout(cfg.HTTPClient, c.IdleTimeout, connected)
		}
	})
	return &S3{client: client, bucket: c.Bucket, prefix: KeyPrefix(c.Prefix), region: cfg.Region}, nil
}

// withIdleTimeout returns the SDK's HTTP client with every connection
// wrapped in a progressConn. The SDK's own read timeout is not used: it
// exempts S3 and, on a long upload, would fire while the client waits for
// an answer to a body that is still moving. The client is frozen so that
// the S3 client does not replace the dialer that does the wrapping.
//
// The dialer also records in connected that a connection succeeded once
// (see connectRetryer) and bounds each dial to dialTimeout.
func withIdleTimeout(c aws.HTTPClient, idle time.Duration, connected *atomic.Bool) aws.HTTPClient {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	b, ok := c.(*awshttp.BuildableClient)
	if !ok {
		if c != nil {
			connected.Store(true)
			return c // a client the user configured; keep it as it is
		}
		b = awshttp.NewBuildableClient()
	}
	return b.WithReadTimeout(0).WithTransportOptions(func(t *http.Transport) {
		dial := t.DialContext
		if dial == nil {
			dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		}
		dial = dialMarking(dial, connected)
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &progressConn{Conn: conn, idle: idle}, nil
		}
	}).Freeze()
}

// progressConn fails a read or write once the connection has moved no
// byte, either way, for idle. A read that waits while the request body is
// still leaving is not stalled: the kernel buffers megabytes of an upload,
// and the transport waits for the answer while they drain, slowly on a
// slow link. So a waiting read looks every quarter of idle at what the
// peer acknowledged (see ackedBytes; where the system does not tell, at
// what was written), and gives up only after idle without any progress.
type progressConn struct {
	net.Conn
	idle time.Duration

	written      atomic.Int64 // bytes handed to the kernel
	lastProgress atomic.Int64 // unix nanoseconds
	acked        int64        // bytes acknowledged at the last look; read side only
}

func (c *progressConn) moved() { c.lastProgress.Store(time.Now().UnixNano()) }

func (c *progressConn) Read(p []byte) (int, error) {
	c.moved()
	tick := max(c.idle/4, time.Millisecond)
	for {
		if err := c.Conn.SetReadDeadline(time.Now().Add(tick)); err != nil {
			return 0, err
		}
		n, err := c.Conn.Read(p)
		if n > 0 {
			c.moved()
		}
		if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if sent := c.sent(); sent != c.acked {
			c.acked = sent
			c.moved()
		}
		if time.Since(time.Unix(0, c.lastProgress.Load())) >= c.idle {
			return 0, err
		}
	}
}

func (c *progressConn) Write(p []byte) (int, error) {
	// Large writes go in slices, so that each slice renews the deadline.
	const slice = copyChunk
	written := 0
	for written < len(p) {
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
			return written, err
		}
		n, err := c.Conn.Write(p[written:min(len(p), written+slice)])
		written += n
		if n > 0 {
			c.written.Add(int64(n))
			c.moved()
		}
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// ReadFrom sends a request body in writes of up to copyChunk bytes: the
// transport would copy it through 32 KiB writes, each a system call with
// its deadline, which cost a put a tenth of its CPU.
func (c *progressConn) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, copyChunk)
	var total int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			w, werr := c.Write(buf[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

// copyChunk is ReadFrom's write size.
const copyChunk = 256 << 10

// sent measures an upload's progress: the bytes the peer acknowledged,
// where the system tells them (see ackedBytes), or else the bytes written.
func (c *progressConn) sent() int64 {
	written := c.written.Load()
	if tcp, ok := c.Conn.(*net.TCPConn); ok {
		if raw, err := tcp.SyscallConn(); err == nil {
			acked, known := int64(0), false
			_ = raw.Control(func(fd uintptr) { acked, known = ackedBytes(fd, written) })
			if known {
				return acked
			}
		}
	}
	return written
}

// parseEndpoint checks a custom endpoint and tells whether it needs path
// style addressing. An endpoint without a scheme is taken as https.
func parseEndpoint(endpoint string) (string, bool, error) {
	if endpoint == "" {
		return "", false, nil
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, fmt.Errorf("endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, fmt.Errorf("endpoint %q: scheme must be http or https", endpoint)
	}
	host := u.Hostname()
	if host == "" {
		return "", false, fmt.Errorf("endpoint %q: no host", endpoint)
	}
	pathStyle := net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost")
	return endpoint, pathStyle, nil
}

// KeyPrefix is a profile's key prefix as object keys carry it: a "/" is added to a
// prefix that does not end with one, so the key of storage ID id is KeyPrefix(p) + id.
func KeyPrefix(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func (s *S3) objectKey(key string) *string { return aws.String(s.prefix + key) }

// unsignedPayload signs uploads with UNSIGNED-PAYLOAD. Otherwise SigV4
// hashes every body with SHA-256 over plain http; the CRC32C that S3
// verifies already protects the body.
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// Put sends If-None-Match: *, so that S3 refuses to replace an object
// (412 PreconditionFailed, ErrExists); CompleteUpload does the same.
func (s *S3) Put(ctx context.Context, key string, body []byte, o PutOptions) error {
	if err := checkPut(key, o); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:         aws.String(s.bucket),
		Key:            s.objectKey(key),
		Body:           bytes.NewReader(body),
		ContentLength:  aws.Int64(int64(len(body))),
		ChecksumCRC32C: aws.String(ChecksumCRC32C(body)),
		StorageClass:   types.StorageClass(o.storageClass()),
		ContentType:    aws.String(o.contentType()),
		Metadata:       lowerKeys(o.Metadata),
		IfNoneMatch:    aws.String("*"),
	}, unsignedPayload, retryConflicts)
	if err != nil {
		return s3Error("put "+key, err)
	}
	return nil
}

// retryConflicts makes the SDK retry a 409 ConditionalRequestConflict, S3's
// answer to a conditional PutObject that raced another request on its key,
// after which S3 says to send it again. A CompleteMultipartUpload is not
// retried: after a 409 its upload is gone, and S3 says to start a new one.
func retryConflicts(o *s3.Options) {
	o.Retryer = retry.AddWithErrorCodes(o.Retryer, "ConditionalRequestConflict")
}

func (s *S3) CreateUpload(ctx context.Context, key string, o PutOptions) (string, error) {
	if err := checkPut(key, o); err != nil {
		return "", fmt.Errorf("create upload %s: %w", key, err)
	}
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.bucket),
		Key:               s.objectKey(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		StorageClass:      types.StorageClass(o.storageClass()),
		ContentType:       aws.String(o.contentType()),
		Metadata:          lowerKeys(o.Metadata),
	})
	if err != nil {
		return "", s3Error("create upload "+key, err)
	}
	if aws.ToString(out.UploadId) == "" {
		return "", fmt.Errorf("create upload %s: server returned no upload id", key)
	}
	if attempts, ok := retry.GetAttemptResults(out.ResultMetadata); ok && len(attempts.Results) > 1 {
		s.abortOthers(ctx, key, *out.UploadId)
	}
	return *out.UploadId, nil
}

// abortOthers aborts the uploads of key other than keep. CreateUpload calls
// it after a retried CreateMultipartUpload: when the first answer was lost on
// its way back, S3 had created an upload whose ID nobody learnt, and it
// would cost storage, unseen, until a lifecycle rule removed it. ogive's keys
// hold a random salt, so every other upload of this key is such an orphan.
// A failure leaves the orphan to "ogive uploads" and the lifecycle rule.
func (s *S3) abortOthers(ctx context.Context, key, keep string) {
	out, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.bucket),
		Prefix: s.objectKey(key),
	})
	if err != nil {
		return
	}
	for _, u := range out.Uploads {
		if aws.ToString(u.Key) == aws.ToString(s.objectKey(key)) && aws.ToString(u.UploadId) != keep {
			_ = s.AbortUpload(ctx, key, aws.ToString(u.UploadId))
		}
	}
}

func (s *S3) UploadPart(ctx context.Context, key, uploadID string, number int32, body PartBody) (Part, error) {
	op := "upload part " + strconv.Itoa(int(number)) + " of " + key
	if err := checkKey(key); err != nil {
		return Part{}, fmt.Errorf("%s: %w", op, err)
	}
	if number < 1 || number > MaxParts {
		return Part{}, fmt.Errorf("%s: %w", op, errPartNumber)
	}
	if body.Size > MaxPartSize {
		return Part{}, fmt.Errorf("%s: %w", op, errPartTooLarge)
	}
	if body.Size < 0 || body.Open == nil || body.CRC32C == "" {
		return Part{}, fmt.Errorf("%s: part body without size, source or checksum", op)
	}
	// The body streams from its source and is opened again for each
	// attempt: a part of GiBs is never in memory.
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:         aws.String(s.bucket),
		Key:            s.objectKey(key),
		UploadId:       aws.String(uploadID),
		PartNumber:     aws.Int32(number),
		Body:           newRewindable(body),
		ContentLength:  aws.Int64(body.Size),
		ChecksumCRC32C: aws.String(body.CRC32C),
	}, unsignedPayload)
	if err != nil {
		return Part{}, s3Error(op, err)
	}
	if got := aws.ToString(out.ChecksumCRC32C); got != "" && got != body.CRC32C {
		return Part{}, fmt.Errorf("%s: server stored crc32c %s, sent %s", op, got, body.CRC32C)
	}
	if aws.ToString(out.ETag) == "" {
		return Part{}, fmt.Errorf("%s: server returned no etag", op)
	}
	return Part{Number: number, Size: body.Size, ETag: *out.ETag, ChecksumCRC32C: body.CRC32C}, nil
}

func (s *S3) CompleteUpload(ctx context.Context, key, uploadID string, parts []Part) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("complete upload %s: %w", key, err)
	}
	completed := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		completed[i] = types.CompletedPart{
			PartNumber:     aws.Int32(p.Number),
			ETag:           aws.String(p.ETag),
			ChecksumCRC32C: aws.String(p.ChecksumCRC32C),
		}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             s.objectKey(key),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
		IfNoneMatch:     aws.String("*"),
	})
	if err != nil {
		return s3Error("complete upload "+key, err)
	}
	return nil
}

func (s *S3) AbortUpload(ctx context.Context, key, uploadID string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("abort upload %s: %w", key, err)
	}
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      s.objectKey(key),
		UploadId: aws.String(uploadID),
	})
	if err != nil {
		return s3Error("abort upload "+key, err)
	}
	return nil
}

func (s *S3) ListParts(ctx context.Context, key, uploadID string) ([]Part, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", key, err)
	}
	pages := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{
		Bucket:   aws.String(s.bucket),
		Key:      s.objectKey(key),
		UploadId: aws.String(uploadID),
	})
	var parts []Part
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s3Error("list parts of "+key, err)
		}
		for _, p := range page.Parts {
			parts = append(parts, Part{
				Number:         aws.ToInt32(p.PartNumber),
				Size:           aws.ToInt64(p.Size),
				ETag:           aws.ToString(p.ETag),
				ChecksumCRC32C: aws.ToString(p.ChecksumCRC32C),
			})
		}
	}
	return parts, nil
}

func (s *S3) ListUploads(ctx context.Context) ([]MultipartUpload, error) {
	pages := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix),
	})
	var uploads []MultipartUpload
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s3Error("list uploads", err)
		}
		for _, u := range page.Uploads {
			key, ok := strings.CutPrefix(aws.ToString(u.Key), s.prefix)
			if !ok || key == "" {
				continue
			}
			uploads = append(uploads, MultipartUpload{Key: key, UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
	}
	return uploads, nil
}

func (s *S3) List(ctx context.Context, fn func(Info) error) error {
	return s.ListPrefix(ctx, "", fn)
}

func (s *S3) ListPrefix(ctx context.Context, prefix string, fn func(Info) error) error {
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:                   aws.String(s.bucket),
		Prefix:                   aws.String(s.prefix + prefix),
		MaxKeys:                  aws.Int32(listPageSize),
		OptionalObjectAttributes: []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus},
	})
	probed := false
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s3Error("list", err)
		}
		now := time.Now()
		infos := make([]Info, 0, len(page.Contents))
		var unsure []int // archived objects listed without a RestoreStatus
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || key == "" {
				continue
			}
			info := Info{
				Key:          key,
				Size:         aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified),
				StorageClass: string(o.StorageClass),
				ETag:         aws.ToString(o.ETag),
			}
			if info.StorageClass == "" {
				info.StorageClass = string(types.StorageClassStandard)
			}
			switch {
			case !isArchiveClass(info.StorageClass):
				info.Status = RestoreStatus{State: StateAvailable}
			case o.RestoreStatus != nil:
				s.restoreAttr.Store(restoreAttrHonoured)
				info.Status = listedStatus(o.RestoreStatus, now)
			default:
				info.Status = RestoreStatus{State: StateArchived}
				unsure = append(unsure, len(infos))
			}
			infos = append(infos, info)
		}
		if infos, err = s.resolveStatuses(ctx, infos, unsure, &probed); err != nil {
			return fmt.Errorf("list: %w", err)
		}
		for _, info := range infos {
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveStatuses settles the state of the archived objects of one listing
// page that came without a RestoreStatus.
//
// S3 sends a RestoreStatus only for objects with a restore under way or
// done, and only when asked with OptionalObjectAttributes; some servers
// ignore that attribute and send none at all. No RestoreStatus thus means
// "archived" or "this server does not say", and the two look alike. The rule:
//   - once any listed object carried a RestoreStatus, the server honours
//     the attribute and the listing is trusted;
//   - otherwise the first archived object without a RestoreStatus in a
//     listing is checked with a HEAD. If the HEAD agrees that it is
//     archived, the rest of the listing is trusted; if it says restoring or
//     restored, the server ignores the attribute, the store remembers it, and
//     every archived object without a RestoreStatus is checked with a HEAD,
//     headConcurrency at a time.
//
// So a bucket of archived objects on AWS costs at most one HEAD per listing.
// A probe whose HEAD fails leaves that object as listed and the next one is
// probed, up to maxFailedProbes per page; then the page is taken as listed.
// Objects deleted between the listing and the HEAD are dropped.
func (s *S3) resolveStatuses(ctx context.Context, infos []Info, unsure []int, probed *bool) ([]Info, error) {
	if len(unsure) == 0 {
		return infos, nil
	}
	switch s.restoreAttr.Load() {
	case restoreAttrHonoured:
		return infos, nil
	case restoreAttrUnknown:
		if *probed {
			return infos, nil
		}
		failed := 0
		for len(unsure) > 0 && !*probed {
			probe := &infos[unsure[0]]
			unsure = unsure[1:]
			head, err := s.Head(ctx, probe.Key)
			if errors.Is(err, ErrNotFound) {
				probe.Status.State = StateUnknown
				continue
			}
			if err != nil {
				// An object whose HEAD fails (S3 answers 400 to one
				// stored with SSE-C) says nothing about the server; it
				// must not fail the listing, whoever put it there.
				if ctx.Err() != nil {
					return nil, err
				}
				if failed++; failed == maxFailedProbes {
					return dropUnknown(infos), nil // the listing's word stands
				}
				continue
			}
			*probed = true
			if head.Status.State == StateArchived {
				return dropUnknown(infos), nil
			}
			probe.Status = head.Status
			s.restoreAttr.CompareAndSwap(restoreAttrUnknown, restoreAttrIgnored)
		}
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		limit    = make(chan struct{}, headConcurrency)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, i := range unsure {
		limit <- struct{}{}
		wg.Go(func() {
			defer func() { <-limit }()
			head, err := s.Head(ctx, infos[i].Key)
			switch {
			case errors.Is(err, ErrNotFound):
				infos[i].Status.State = StateUnknown
			case err != nil:
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			default:
				infos[i].Status = head.Status
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return dropUnknown(infos), nil
}

// dropUnknown removes the objects that a HEAD found gone.
func dropUnknown(infos []Info) []Info {
	kept := infos[:0]
	for _, info := range infos {
		if info.Status.State != StateUnknown {
			kept = append(kept, info)
		}
	}
	return kept
}

func listedStatus(rs *types.RestoreStatus, now time.Time) RestoreStatus {
	if aws.ToBool(rs.IsRestoreInProgress) {
		return RestoreStatus{State: StateRestoring}
	}
	if rs.RestoreExpiryDate == nil {
		return RestoreStatus{State: StateArchived}
	}
	return restoredStatus(false, rs.RestoreExpiryDate.UTC(), now)
}

func (s *S3) Head(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, fmt.Errorf("head %s: %w", key, err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    s.objectKey(key),
	})
	if err != nil {
		return Info{}, s3Error("head "+key, err)
	}
	class := string(out.StorageClass)
	if class == "" {
		class = string(types.StorageClassStandard)
	}
	status, err := headStatus(class, aws.ToString(out.Restore), time.Now())
	if err != nil {
		return Info{}, fmt.Errorf("head %s: %w", key, err)
	}
	return Info{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		LastModified: aws.ToTime(out.LastModified),
		StorageClass: class,
		ETag:         aws.ToString(out.ETag),
		Encryption:   encryption(out.ServerSideEncryption, out.SSECustomerAlgorithm),
		ContentType:  aws.ToString(out.ContentType),
		Metadata:     lowerKeys(out.Metadata),
		Status:       status,
	}, nil
}

// encryption names how S3 says it encrypts an object at rest (Info.Encryption).
func encryption(sse types.ServerSideEncryption, customerAlgorithm *string) string {
	if aws.ToString(customerAlgorithm) != "" {
		return "SSE-C"
	}
	return string(sse)
}

func (s *S3) Restore(ctx context.Context, key string, days int32, tier Tier) (RestoreResult, error) {
	if err := checkRestore(key, days, tier); err != nil {
		return 0, fmt.Errorf("restore %s: %w", key, err)
	}
	out, err := s.client.RestoreObject(ctx, &s3.RestoreObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    s.objectKey(key),
		RestoreRequest: &types.RestoreRequest{
			Days:                 aws.Int32(days),
			GlacierJobParameters: &types.GlacierJobParameters{Tier: types.Tier(tier)},
		},
	})
	if err != nil {
		switch apiErrorCode(err) {
		case "RestoreAlreadyInProgress":
			return RestoreInProgress, nil
		case "ObjectAlreadyInActiveTierError", "InvalidObjectState":
			// S3 answers InvalidObjectState to a restore of an object
			// that is not in an archive class.
			return RestoreNotArchived, nil
		case "InvalidArgument":
			// Days were checked above; what is left to refuse is a tier
			// the storage class lacks (Expedited for DEEP_ARCHIVE).
			return 0, fmt.Errorf("restore %s: %w %q: %w", key, ErrInvalidTier, tier, err)
		}
		return 0, s3Error("restore "+key, err)
	}
	// The SDK gives the same empty output for 200 and 202; only the
	// status code tells a new restore from an extended one.
	raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	if !ok {
		return 0, fmt.Errorf("restore %s: no http response to read the status from", key)
	}
	switch raw.StatusCode {
	case http.StatusAccepted:
		return RestoreAccepted, nil
	case http.StatusOK:
		return RestoreExtended, nil
	default:
		return 0, fmt.Errorf("restore %s: unexpected http status %d", key, raw.StatusCode)
	}
}

func (s *S3) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkGet(key, offset); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if length == 0 {
		// No HTTP range is empty; still report a missing or archived object.
		info, err := s.Head(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", key, err)
		}
		if st := info.Status.State; st == StateArchived || st == StateRestoring {
			return nil, fmt.Errorf("get %s: %w", key, ErrNotRestored)
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    s.objectKey(key),
	}
	switch {
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, s3Error("get "+key, err)
	}
	return out.Body, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    s.objectKey(key),
	})
	if err != nil {
		return s3Error("delete "+key, err)
	}
	return nil
}
