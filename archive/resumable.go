package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/resume"
)

// SeekableSource is a file or block device: any part can be read again, so
// an interrupted upload can continue where it stopped.
type SeekableSource struct {
	R        io.ReaderAt
	Name     string
	Size     int64
	Identity resume.Source
	// Recheck describes the source again after the upload, to notice a file
	// modified while it was read; nil skips the check.
	Recheck func() (resume.Source, error)
}

// ResumableOptions tune PutResumable.
type ResumableOptions struct {
	PutOptions
	States   *resume.Store
	Bucket   string // with Prefix, where the state of this upload belongs
	Prefix   string
	NoResume bool         // start afresh even if an interrupted upload is recorded
	Notice   func(string) // told what happened to an interrupted upload
	// Salt fixes the salt of a new upload. It is a test hook (the tests prove
	// a resumed object equals an uninterrupted one); production leaves it nil.
	Salt *crypt.Salt
}

// PutResult describes a finished PutResumable.
type PutResult struct {
	ID          string
	Size        int64 // plaintext bytes
	Parts       int
	ResumedFrom int // parts already in S3 from an interrupted run
}

// PutResumable encrypts and uploads a seekable source so that, if it is
// interrupted (Ctrl-C, a lost network, SIGKILL, a reboot), the same call
// continues it: the multipart upload ID and salt are recorded before the
// first part is sent, parts already in S3 are kept after their checksums
// are checked against the source re-encrypted under that salt, and only the
// rest is sent. A source that changed since never reuses the salt: its old
// upload is aborted and a new one starts with a new salt.
//
// On failure the upload is left in place, recorded, for the next run to
// resume (or for "ogive uploads --abort").
func PutResumable(ctx context.Context, s object.Store, master []byte, src SeekableSource, o ResumableOptions) (PutResult, error) {
	cipherSize := crypt.EncryptedSize(src.Size)
	if cipherSize < 0 {
		return PutResult{}, fmt.Errorf("%s: %w", src.Name, crypt.ErrTooLarge)
	}
	if BenchmarkPlaintext {
		cipherSize = src.Size
	}
	partSize := PartSize(cipherSize)
	if cipherSize <= partSize {
		// One part: a single PUT, nothing to resume.
		id, n, err := put(ctx, s, master, Source{R: io.NewSectionReader(src.R, 0, src.Size), Name: src.Name, Size: src.Size}, o.PutOptions, o.Salt)
		return PutResult{ID: id, Size: n, Parts: 1}, err
	}
	notice := o.Notice
	if notice == nil {
		notice = func(string) {}
	}
	up, keys, done, err := resumeOrStart(ctx, s, master, src, o, partSize, notice)
	if err != nil {
		return PutResult{}, err
	}
	defer keys.Destroy()

	p := &partPlan{keys: keys, src: src, partSize: partSize, cipherSize: cipherSize}
	total := p.count()
	// Parts already in S3 must be the source's parts under this salt. One
	// that is not means the source changed without its metadata showing it:
	// sending it again would encrypt new data under the same salt, so the
	// whole upload starts again instead.
	kept, err := p.check(done)
	if err != nil {
		return PutResult{}, err
	}
	if len(kept) < len(done) {
		notice("the source does not match the parts uploaded before; starting again with a new salt")
		abort(ctx, s, up, o)
		return PutResumable(ctx, s, master, src, withoutResume(o))
	}
	if len(kept) > 0 {
		notice(fmt.Sprintf("resuming: %d of %d parts already uploaded", len(kept), total))
	}
	parts, err := p.upload(ctx, s, up, kept, o)
	if err != nil {
		return PutResult{}, fmt.Errorf("upload %s (resumable: run the same command again): %w", src.Name, err)
	}
	if src.Recheck != nil {
		now, err := src.Recheck()
		if err != nil || !(&resume.Upload{Source: src.Identity}).Matches(now) {
			abort(ctx, s, up, o)
			return PutResult{}, fmt.Errorf("%s: %w", src.Name, ErrSourceChanged)
		}
	}
	if err := object.Complete(ctx, s, up.ID, up.UploadID, parts, cipherSize); err != nil {
		return PutResult{}, fmt.Errorf("upload %s: %w", src.Name, err)
	}
	if err := o.States.Remove(o.Bucket, o.Prefix, src.Identity.Path); err != nil {
		notice(err.Error())
	}
	return PutResult{ID: up.ID, Size: src.Size, Parts: total, ResumedFrom: len(kept)}, nil
}

func withoutResume(o ResumableOptions) ResumableOptions {
	o.NoResume = true
	o.Salt = nil
	return o
}

// resumeOrStart finds the recorded upload of src and the parts S3 holds of
// it, or starts a new upload and records it.
func resumeOrStart(ctx context.Context, s object.Store, master []byte, src SeekableSource, o ResumableOptions,
	partSize int64, notice func(string)) (*resume.Upload, *crypt.Keys, []object.Part, error) {
	st, err := o.States.Load(o.Bucket, o.Prefix, src.Identity.Path)
	switch {
	case errors.Is(err, resume.ErrNoState):
	case err != nil:
		return nil, nil, nil, err
	case o.NoResume:
		abort(ctx, s, st, o)
	case !st.Matches(src.Identity) || st.PartSize != partSize:
		notice("the source changed since the interrupted upload; starting again with a new salt")
		abort(ctx, s, st, o)
	default:
		name, keys, err := crypt.OpenID(master, st.ID)
		if err != nil || name != src.Name {
			if keys != nil {
				keys.Destroy()
			}
			abort(ctx, s, st, o)
			break
		}
		parts, err := s.ListParts(ctx, st.ID, st.UploadID)
		if errors.Is(err, object.ErrNotFound) {
			// Aborted meanwhile, by hand or by a lifecycle rule.
			keys.Destroy()
			o.States.Remove(o.Bucket, o.Prefix, src.Identity.Path)
			break
		}
		if err != nil {
			keys.Destroy()
			return nil, nil, nil, fmt.Errorf("resume upload of %s: %w", src.Name, err)
		}
		return st, keys, parts, nil
	}

	salt := o.Salt
	if salt == nil {
		fresh, err := crypt.NewSalt()
		if err != nil {
			return nil, nil, nil, err
		}
		salt = &fresh
	}
	keys, err := crypt.DeriveKeys(master, *salt)
	if err != nil {
		return nil, nil, nil, err
	}
	maxLen := o.MaxIDLen
	if maxLen <= 0 {
		maxLen = crypt.MaxIDLen
	}
	id, err := crypt.SealName(keys, src.Name, maxLen)
	if err != nil {
		keys.Destroy()
		return nil, nil, nil, err
	}
	uploadID, err := s.CreateUpload(ctx, id, object.PutOptions{StorageClass: o.StorageClass})
	if err != nil {
		keys.Destroy()
		return nil, nil, nil, fmt.Errorf("upload %s: %w", src.Name, err)
	}
	up := &resume.Upload{
		Bucket: o.Bucket, Prefix: o.Prefix, ID: id, UploadID: uploadID,
		PartSize: partSize, Class: o.StorageClass, Source: src.Identity, Started: time.Now().UTC(),
	}
	// Recorded before any part is sent, so even a SIGKILL leaves nothing
	// that "ogive uploads" cannot find.
	if err := o.States.Save(up); err != nil {
		s.AbortUpload(context.WithoutCancel(ctx), id, uploadID)
		keys.Destroy()
		return nil, nil, nil, err
	}
	return up, keys, nil, nil
}

// abort ends a recorded upload and forgets it. Failures are not fatal: the
// upload then shows in "ogive uploads" and in the lifecycle rule's reach.
func abort(ctx context.Context, s object.Store, up *resume.Upload, o ResumableOptions) {
	s.AbortUpload(context.WithoutCancel(ctx), up.ID, up.UploadID)
	o.States.Remove(o.Bucket, o.Prefix, up.Source.Path)
}

// partPlan cuts the encrypted source into parts of whole DARE packages.
type partPlan struct {
	keys       *crypt.Keys
	src        SeekableSource
	partSize   int64
	cipherSize int64
}

func (p *partPlan) count() int { return int((p.cipherSize + p.partSize - 1) / p.partSize) }

func (p *partPlan) length(n int32) int64 {
	return min(p.partSize, p.cipherSize-int64(n-1)*p.partSize)
}

// encrypt writes part n's ciphertext into buf, from the plaintext of its
// packages: parts are deterministic under a salt.
func (p *partPlan) encrypt(n int32, buf []byte) ([]byte, error) {
	if BenchmarkPlaintext {
		buf = buf[:p.length(n)]
		if _, err := p.src.R.ReadAt(buf, int64(n-1)*p.partSize); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read part %d of %s: %w", n, p.src.Name, err)
		}
		return buf, nil
	}
	firstPkg := int64(n-1) * p.partSize / crypt.MaxPackageLen
	off := firstPkg * crypt.PackageSize
	enc, err := p.keys.EncryptReader(io.NewSectionReader(p.src.R, off, p.src.Size-off), uint64(firstPkg))
	if err != nil {
		return nil, err
	}
	buf = buf[:p.length(n)]
	if _, err := io.ReadFull(enc, buf); err != nil {
		return nil, fmt.Errorf("read part %d of %s: %w", n, p.src.Name, err)
	}
	return buf, nil
}

// check keeps the parts in S3 whose size and CRC-32C match the source's
// part re-encrypted; it stops at the first that does not.
func (p *partPlan) check(done []object.Part) ([]object.Part, error) {
	var kept []object.Part
	buf := make([]byte, 0, p.partSize)
	for _, part := range done {
		if part.Number < 1 || int(part.Number) > p.count() || part.Size != p.length(part.Number) {
			return kept, nil
		}
		b, err := p.encrypt(part.Number, buf)
		if err != nil {
			return nil, err
		}
		if object.ChecksumCRC32C(b) != part.ChecksumCRC32C {
			return kept, nil
		}
		kept = append(kept, part)
	}
	return kept, nil
}

// upload sends the parts that are not kept, Concurrency at a time, each
// encrypted from its own package index, and returns every part in order.
func (p *partPlan) upload(ctx context.Context, s object.Store, up *resume.Upload, kept []object.Part, o ResumableOptions) ([]object.Part, error) {
	have := map[int32]object.Part{}
	for _, k := range kept {
		have[k.Number] = k
		if o.OnPart != nil {
			o.OnPart(k)
		}
	}
	concurrency := o.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	todo := make(chan int32)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, p.partSize)
			for n := range todo {
				b, err := p.encrypt(n, buf)
				var part object.Part
				if err == nil {
					part, err = s.UploadPart(ctx, up.ID, up.UploadID, n, b)
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					cancel()
				} else {
					have[n] = part
					if o.OnPart != nil {
						o.OnPart(part)
					}
				}
				mu.Unlock()
			}
		}()
	}
	var missing []int32
	for n := int32(1); int(n) <= p.count(); n++ {
		if _, ok := have[n]; !ok {
			missing = append(missing, n)
		}
	}
send:
	for _, n := range missing {
		select {
		case todo <- n:
		case <-ctx.Done():
			break send
		}
	}
	close(todo)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parts := make([]object.Part, 0, len(have))
	for _, part := range have {
		parts = append(parts, part)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	return parts, nil
}
