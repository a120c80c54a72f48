// Package archive says what a put and a get are: a source encrypted into a
// multipart upload under a fresh storage ID, and an object downloaded,
// authenticated and decrypted into a file, a block device or a stream.
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/flight"
	"github.com/ogive-project/ogive/object"
)

var (
	// ErrSourceChanged means the source did not deliver the size it had when
	// the upload started: it was modified while being read.
	ErrSourceChanged = errors.New("source changed while it was being read")
	// ErrUploadAborted means the multipart upload of a Put was aborted by
	// someone else (another process, another S3 client, a lifecycle rule)
	// while it was being sent: nothing was stored.
	ErrUploadAborted = errors.New("the multipart upload was aborted from elsewhere while it was being sent")
)

const (
	// MinPartSize is S3's smallest part but the last.
	MinPartSize = 5 << 20
	// MaxParts is S3's limit of parts in one upload.
	MaxParts = 10000
	// defaultPartPackages makes 16 MiB parts: large enough that the PUT
	// requests Deep Archive bills per part stay cheap (65,536 per TiB) and
	// small enough that the parts in flight take a modest memory.
	defaultPartPackages = 256
	// DefaultConcurrency is the number of parts Put keeps in flight. Three
	// saturate the local server as well as four or six do
	// (docs/BENCHMARKS.md), and each one holds a part in memory.
	DefaultConcurrency = 3
)

// The part sizes of a stream of unknown length: defaultPartPackages
// packages, doubled every streamDoubling parts up to maxPartPackages (S3's
// 5 GiB), so that a short stream has small parts and a long one reaches
// MaxStreamSize within MaxParts parts. Parts of a stream kept in memory (no
// spool directory) stop at maxMemoryPartPackages (1 GiB), as they always
// did.
const (
	streamDoubling        = 900
	streamDoublings       = 9 // 256 << 9 packages is past maxPartPackages
	maxMemoryPartPackages = 16384
)

// maxPartPackages is the most DARE packages a part holds: 81,880 of
// 65,568 bytes fit in S3's largest part of 5 GiB.
const maxPartPackages = object.MaxPartSize / crypt.MaxPackageLen

// MaxSize is the largest file a put takes: 10,000 parts of 81,880 packages,
// each holding 64 KiB of the stream, less the terminator byte the stream
// carries after the file (docs/FORMAT.md): 53,660,876,799,999 bytes, 48.8 TiB. S3's own limit is
// 10,000 parts of 5 GiB (48.83 TiB); DARE's 32 bytes a package take the
// difference.
const MaxSize = MaxParts*maxPartPackages*crypt.PackageSize - 1

// MaxStreamSize is the longest stream of unknown length a put takes: the
// 10,000 parts of streamPartSize's schedule (900 parts each of 256, 512, …,
// 65,536 packages, then 1,900 of 81,880), 273,306,400 packages of 64 KiB
// less the terminator byte: 17,911,408,230,399 bytes, 16.3 TiB. A longer
// stream needs its size declared (PutOptions.ExpectedSize), which plans it
// as a file of that size, up to MaxSize.
const MaxStreamSize = (streamDoubling*(defaultPartPackages<<streamDoublings-defaultPartPackages)+
	(MaxParts-streamDoublings*streamDoubling)*maxPartPackages)*crypt.PackageSize - 1

// ErrTooLarge means a file is larger than MaxSize: no upload can hold it.
var ErrTooLarge = errors.New("too large for S3")

// CheckSize fails with ErrTooLarge for a plaintext of more than MaxSize
// bytes, before anything is uploaded.
func CheckSize(plain int64) error {
	if plain > MaxSize {
		return fmt.Errorf("%w: %s bytes, and the largest archive S3 can hold is %s bytes (48.8 TiB: 10,000 parts of at most 5 GiB)", ErrTooLarge, formatInt(plain), formatInt(MaxSize))
	}
	return nil
}

// formatInt writes n with thousands separators.
func formatInt(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// PartSize picks the size of every part but the last for an encrypted
// stream of cipherSize bytes (negative when unknown). Parts hold whole DARE
// packages, so any part can be re-encrypted from its first package index.
// A known size gets parts of equal size, as few as fit MaxParts, and never
// fewer packages than defaultPartPackages (16 MiB); a stream of unknown
// length starts with this size and grows (see streamPartSize). Beyond
// MaxSize's ciphertext the size returned is over object.MaxPartSize: the
// callers check CheckSize first.
func PartSize(cipherSize int64) int64 {
	pkg := int64(crypt.MaxPackageLen)
	packages := int64(defaultPartPackages)
	if cipherSize > 0 {
		perPart := (cipherSize + MaxParts - 1) / MaxParts
		if need := (perPart + pkg - 1) / pkg; need > packages {
			packages = need
		}
	}
	return packages * pkg
}

// streamPartSize is the size of part number (from 1) of a stream of
// unknown length. S3 accepts parts of different sizes as long as all but
// the last are at least MinPartSize.
func streamPartSize(number int32) int64 {
	doublings := min(int64(max(number-1, 0))/streamDoubling, streamDoublings)
	return min(int64(defaultPartPackages)<<doublings, maxPartPackages) * crypt.MaxPackageLen
}

// memoryPartSize is the size of part number of a stream whose parts are
// held in memory: streamPartSize up to 1 GiB.
func memoryPartSize(number int32) int64 {
	return min(streamPartSize(number), maxMemoryPartPackages*crypt.MaxPackageLen)
}

// Source is what to archive.
type Source struct {
	R    io.Reader
	Name string // the file name stored, encrypted, in the storage ID
	Size int64  // plaintext size, or -1 for a stream of unknown length
	// Meta is what the storage ID records of the file besides its name; the zero Meta,
	// for a stream, records nothing and gives a version 2 ID.
	Meta crypt.Meta
}

// PutOptions tune one upload.
type PutOptions struct {
	StorageClass string // "" means DEEP_ARCHIVE
	// Concurrency fixes the parts in flight; 0 lets them adapt to the link
	// (flight.Adaptive). A stream whose parts are held in memory (no
	// SpoolDir) keeps DefaultConcurrency unless told otherwise.
	Concurrency int
	// SpoolDir is where the parts of a stream (Source.Size < 0) are written
	// before they are sent: a directory of the user's that nobody else can
	// write to (cmd passes the state directory, resume.Store.Dir), on disk
	// rather than on a tmpfs /tmp. "" keeps the parts in memory, as many
	// as DefaultConcurrency of them, each up to 1 GiB. See spool.go.
	SpoolDir string
	// ExpectedSize, if set, is the size declared for a stream (put
	// --expected-size): its parts are planned as those of a file of that
	// size, which may be up to MaxSize, and a stream longer than that fails
	// with ErrLongerThanExpected. Unset, parts follow streamPartSize, up to
	// MaxStreamSize.
	ExpectedSize *int64
	MaxIDLen     int // longest storage ID the store accepts (1024 less any key prefix)
	OnPart       func(object.Part)
	// OnSent, if set, is told of the bytes of the parts as they leave, each
	// once (object.CountingPart): a bar that follows it moves while large
	// parts are in flight on a slow link.
	OnSent func(n int64)
	// Claim, if set, is called by Put with the storage ID just before the
	// multipart upload is created, so that the caller can lock the ID against
	// whatever aborts unfinished uploads. An error stops the Put before any
	// upload exists. release is called once the upload is completed or
	// aborted. A stream that fits in one request creates no upload and never
	// calls it. PutResumable, which locks its source, ignores it.
	Claim func(id string) (release func(), err error)
	// BeforeObject, if set, is called with the storage ID before the object
	// can exist: a put of one request calls it before sending anything, a
	// multipart upload once every part is sent and just before it is
	// completed. An error stops the put; one that wraps ErrSourceChanged also
	// ends a resumable upload, so that the next run starts under a new salt.
	// A directory archive writes its index there (package dirarchive).
	BeforeObject func(ctx context.Context, id string) error
}

// gate is what bounds the parts in flight of a seekable source, whose
// parts are partSize bytes.
func (o PutOptions) gate(partSize int64) *flight.Gate {
	if o.Concurrency > 0 {
		return flight.Fixed(o.Concurrency)
	}
	return flight.AdaptiveFor(partSize)
}

// MasterKey lends the master key to use for the length of the call only; the caller
// keeps it sealed the rest of the time. cmd passes its session's withMasterKey.
type MasterKey func(use func(master []byte) error) error

// Put encrypts src under a fresh salt and uploads it. It returns the new
// object's storage ID and the plaintext size. The master key is opened only to
// derive the object's keys.
func Put(ctx context.Context, s object.Store, master MasterKey, src Source, o PutOptions) (id string, size int64, err error) {
	return put(ctx, s, master, src, o, nil)
}

// put is Put with an optional fixed salt, the tests' hook.
func put(ctx context.Context, s object.Store, master MasterKey, src Source, o PutOptions, fixed *crypt.Salt) (id string, size int64, err error) {
	// The plan first: a declared size S3 cannot hold is refused before the
	// master key is opened and before any request.
	sizes, err := planParts(src.Size, o)
	if err != nil {
		return "", 0, err
	}
	var spool *spoolDir
	if src.Size < 0 && o.SpoolDir != "" {
		if spool, err = openSpoolDir(o.SpoolDir); err != nil {
			return "", 0, err
		}
		defer spool.Close()
	}

	keys, err := newObjectKeys(master, fixed)
	if err != nil {
		return "", 0, err
	}
	defer keys.Destroy()

	maxLen := o.MaxIDLen
	if maxLen <= 0 {
		maxLen = crypt.MaxIDLen
	}
	id, err = crypt.SealNameMeta(keys, src.Name, src.Meta, maxLen)
	if err != nil {
		return "", 0, err
	}
	if o.BeforeObject != nil {
		if err := o.BeforeObject(ctx, id); err != nil {
			return "", 0, err
		}
	}

	// A stream's reads end when the put does: when it is interrupted, or
	// when a part fails and the spooled upload stops (stopReading).
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	plain := src.R
	if src.Size < 0 {
		plain = &interruptible{ctx: readCtx, r: src.R}
	}
	counted := &countingReader{r: plain, want: src.Size, declared: -1}
	if src.Size < 0 && o.ExpectedSize != nil {
		counted.declared = *o.ExpectedSize
	}
	enc, err := keys.EncryptReader(counted, 0)
	if err != nil {
		return "", 0, err
	}
	w := &watchedCreate{Store: s, claim: o.Claim}
	if spool != nil {
		_, err = putStream(ctx, w, id, enc, sizes, spool, o, stopReading)
	} else {
		concurrency := o.Concurrency
		if concurrency <= 0 {
			concurrency = DefaultConcurrency
		}
		_, err = object.Upload(ctx, w, id, enc, object.UploadOptions{
			PutOptions:  object.PutOptions{StorageClass: o.StorageClass},
			PartSizes:   sizes,
			Concurrency: concurrency,
			OnPart:      o.OnPart,
			OnSent:      o.OnSent,
		})
		if err != nil && w.created {
			// Upload aborted it; a part in flight may have landed since
			// (see abortStream).
			_ = abortStream(ctx, s, id, w.uploadID)
		}
	}
	if w.release != nil {
		w.release()
	}
	if err != nil {
		if w.created && errors.Is(err, object.ErrNotFound) && !errors.Is(err, context.Canceled) {
			// S3 answers NoSuchUpload: the upload we created is gone. The
			// cause stays as text: the storage ID is not what is missing.
			return "", 0, fmt.Errorf("upload %s: %w (%v)", src.Name, ErrUploadAborted, err)
		}
		return "", 0, fmt.Errorf("upload %s: %w", src.Name, err)
	}
	return id, counted.n, nil
}

// planParts gives the size of each part (by its number, from 1) of a
// source of size bytes (-1 for a stream): a file's equal parts; a stream
// with an ExpectedSize the parts of a file of that size; any other stream
// the growing schedule, up to 1 GiB when its parts are held in memory.
func planParts(size int64, o PutOptions) (func(int32) int64, error) {
	fixed := func(part int64) func(int32) int64 { return func(int32) int64 { return part } }
	var sizes func(int32) int64
	switch {
	case size >= 0:
		return fixed(PartSize(crypt.EncryptedSize(size))), nil
	case o.ExpectedSize != nil:
		if err := checkExpected(*o.ExpectedSize); err != nil {
			return nil, err
		}
		sizes = fixed(PartSize(crypt.EncryptedSize(*o.ExpectedSize)))
	case o.SpoolDir != "":
		return streamPartSize, nil
	default:
		return memoryPartSize, nil
	}
	if o.SpoolDir == "" && sizes(1) > maxMemoryPartPackages*crypt.MaxPackageLen {
		return nil, fmt.Errorf("%w: parts of %s bytes", ErrNoSpool, formatInt(sizes(1)))
	}
	return sizes, nil
}

// watchedCreate is the store of one Put: it calls the Put's Claim before the
// multipart upload is created, and notes whether it was.
type watchedCreate struct {
	object.Store
	claim    func(id string) (func(), error)
	release  func()
	created  bool
	uploadID string
}

func (w *watchedCreate) CreateUpload(ctx context.Context, key string, o object.PutOptions) (string, error) {
	if w.claim != nil {
		release, err := w.claim(key)
		if err != nil {
			return "", err
		}
		w.release = release
	}
	uploadID, err := w.Store.CreateUpload(ctx, key, o)
	if err != nil {
		// S3 may have made the upload and lost its answer.
		abortUploadsAt(ctx, w.Store, key)
		return "", err
	}
	w.created, w.uploadID = true, uploadID
	return uploadID, nil
}

// abortTimeout bounds the requests that end an upload, which go out even
// when the put's context is done.
const abortTimeout = time.Minute

// abortUploadsAt aborts every multipart upload at key, for a key that this
// put made from a fresh salt: any upload there is one of ours whose upload ID
// was lost, which would otherwise be billed unseen until a lifecycle rule
// ends it. Failures leave it to "ogive uploads" and to that rule.
func abortUploadsAt(ctx context.Context, s object.Store, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	listed, err := s.ListUploads(ctx)
	if err != nil {
		return
	}
	for _, u := range listed {
		if u.Key == key {
			s.AbortUpload(ctx, key, u.UploadID)
		}
	}
}

// newObjectKeys derives the keys of a new object under a fresh salt, or under fixed (the
// tests' hook), holding the master key open for the derivation only.
func newObjectKeys(master MasterKey, fixed *crypt.Salt) (*crypt.Keys, error) {
	var salt crypt.Salt
	if fixed != nil {
		salt = *fixed
	} else {
		var err error
		if salt, err = crypt.NewSalt(); err != nil {
			return nil, err
		}
	}
	var keys *crypt.Keys
	err := master(func(m []byte) error {
		var err error
		keys, err = crypt.DeriveKeys(m, salt)
		return err
	})
	if err != nil {
		keys.Destroy()
		return nil, err
	}
	return keys, nil
}

// countingReader counts the plaintext read and, when the size is known,
// fails the upload if the source turns out shorter or longer: an archive of
// a file that changed under us would not be the file the user thinks. A
// stream given a declared size (put --expected-size) fails once it gives
// more than that, with ErrLongerThanExpected: its parts, planned for that
// size, may not hold it.
type countingReader struct {
	r        io.Reader
	want     int64 // the size, or -1 when unknown
	declared int64 // the most a stream may give, or -1
	n        int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.declared >= 0 && c.n > c.declared {
		return 0, fmt.Errorf("%w: more than %s bytes", ErrLongerThanExpected, formatInt(c.declared))
	}
	if c.want >= 0 {
		if c.n > c.want {
			return n, fmt.Errorf("read more than %d bytes: %w", c.want, ErrSourceChanged)
		}
		if errors.Is(err, io.EOF) && c.n != c.want {
			return n, fmt.Errorf("read %d of %d bytes: %w", c.n, c.want, ErrSourceChanged)
		}
	}
	return n, err
}
