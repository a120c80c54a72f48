package archive

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// Meta is sealed in the storage ID with the name: FileMeta of the open
	// file for a regular file, nothing for a block device.
	Meta crypt.Meta
	// Recheck describes the source again after the upload, to notice a file
	// modified while it was read; nil skips the check.
	Recheck func() (resume.Source, error)
	// Scanned, if set, is shown the plaintext of each part's first pass
	// (the pass whose package tags the bytes sent must match), with its
	// offset in the source, from the goroutine of that part: a directory
	// archive takes its files' SHA-256 sums from it. A part's first pass
	// may run more than once (a resumed upload checks the parts it keeps).
	Scanned func(off int64, p []byte)
}

// ResumableOptions tune PutResumable.
type ResumableOptions struct {
	PutOptions
	States   *resume.Store
	Bucket   string // with Prefix, where the state of this upload belongs
	Prefix   string
	NoResume bool         // start afresh even if an interrupted upload is recorded
	Notice   func(string) // told what happened to an interrupted upload
	// OnKept, if set, is called instead of OnPart for each part that an
	// interrupted run sent and that is kept, before any part is sent.
	OnKept func(object.Part)
	// OnAbort, if set, is called with the storage ID of each upload of this
	// source that is aborted (its source changed, it is started afresh, it
	// cannot complete), after the abort: a directory archive drops the index
	// it may have stored for it.
	OnAbort func(ctx context.Context, id string)
	// Salt fixes the salt of a new upload when no upload is recorded. It is a
	// test hook (the tests prove a resumed object equals an uninterrupted
	// one); production leaves it nil.
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
// continues it.
//
// The storage ID seals src.Meta with the name (crypt.SealNameMeta); a resumed
// upload keeps its ID only if the ID records the same Meta, or records none: a
// version 2 ID of an upload an earlier ogive began is kept, without the mode and
// time, and Notice says so.
//
// A record of the upload (resume.Upload) is saved before the upload is
// created, and again with the digest of each part before the part is sent;
// it is MACed with a key derived from the master key, and only a record that
// authenticates, names an ID of this profile for this file name and this
// source, and whose ID holds no object yet, is resumed. Then every part it
// has a digest of is encrypted again from the source and must give the same
// digest, and every part S3 lists must have one: otherwise the source changed
// without its metadata showing it, and the upload starts again under a new
// salt, so that no nonce ever encrypts two plaintexts. Parts in S3 whose
// ETag is the MD5 of the part encrypted again are kept; the rest are sent.
//
// One upload of a source runs at a time: a second one fails at once with a
// *resume.BusyError. The master key is opened only to derive keys. On
// failure the upload is left in place, recorded, for the next run to resume
// (or for "ogive uploads --abort").
func PutResumable(ctx context.Context, s object.Store, master MasterKey, src SeekableSource, o ResumableOptions) (PutResult, error) {
	if err := CheckSize(src.Size); err != nil {
		return PutResult{}, fmt.Errorf("%s: %w", src.Name, err)
	}
	cipherSize := crypt.EncryptedSize(src.Size)
	if cipherSize < 0 {
		return PutResult{}, fmt.Errorf("%s: %w", src.Name, crypt.ErrTooLarge)
	}
	if BenchmarkPlaintext {
		cipherSize = src.Size
	}
	if SinglePart(src.Size) {
		// One part: a single PUT, nothing to resume.
		id, n, err := put(ctx, s, master, Source{R: io.NewSectionReader(src.R, 0, src.Size), Name: src.Name, Size: src.Size, Meta: src.Meta}, o.PutOptions, o.Salt)
		return PutResult{ID: id, Size: n, Parts: 1}, err
	}
	r := &resumable{s: s, master: master, src: src, o: o, partSize: PartSize(cipherSize), cipherSize: cipherSize, notice: o.Notice}
	if r.notice == nil {
		r.notice = func(string) {}
	}
	lock, err := o.States.Lock(o.Bucket, o.Prefix, src.Identity.Path)
	if err != nil {
		return PutResult{}, err
	}
	defer func() {
		if err := lock.Release(); err != nil {
			r.notice(err.Error())
		}
	}()
	err = master(func(m []byte) error {
		var err error
		r.recordKey, err = crypt.DeriveRecordKey(m)
		return err
	})
	if err != nil {
		return PutResult{}, err
	}
	defer r.recordKey.Destroy()
	return r.run(ctx)
}

// SinglePart reports whether PutResumable sends a source of size bytes in
// one request, which leaves nothing to resume.
func SinglePart(size int64) bool {
	cipherSize := crypt.EncryptedSize(size)
	if BenchmarkPlaintext {
		cipherSize = size
	}
	return cipherSize <= PartSize(cipherSize)
}

// resumable is one PutResumable of more than one part, with the source's lock held.
type resumable struct {
	s          object.Store
	master     MasterKey
	src        SeekableSource
	o          ResumableOptions
	partSize   int64
	cipherSize int64
	notice     func(string)
	recordKey  *crypt.RecordKey

	// saving serializes the record's updates as parts are sent.
	saving sync.Mutex
}

func (r *resumable) run(ctx context.Context) (PutResult, error) {
	up, keys, kept, err := r.resumeOrStart(ctx)
	if err != nil {
		return PutResult{}, err
	}
	defer keys.Destroy()
	p := &partPlan{keys: keys, src: r.src, partSize: r.partSize, cipherSize: r.cipherSize}
	total := p.count()
	if len(kept) > 0 {
		r.notice(fmt.Sprintf("resuming: %d of %d parts already uploaded", len(kept), total))
	}
	parts, err := r.upload(ctx, p, up, kept)
	if err != nil && errors.Is(err, ErrSourceChanged) {
		// What was sent is of a source that is no longer there: nothing of
		// it is worth keeping, and the next run starts under a new salt.
		r.abort(ctx, up)
		return PutResult{}, fmt.Errorf("upload %s: %w", r.src.Name, err)
	}
	if err != nil {
		if errors.Is(err, object.ErrNotFound) && ctx.Err() == nil {
			// NoSuchUpload: the upload recorded is gone, aborted by someone else;
			// the next run finds it gone and starts afresh.
			return PutResult{}, fmt.Errorf("upload %s (run the same command again to start it afresh): %w (%v)", r.src.Name, ErrUploadAborted, err)
		}
		return PutResult{}, fmt.Errorf("upload %s (resumable: run the same command again): %w", r.src.Name, err)
	}
	if r.src.Recheck != nil {
		now, err := r.src.Recheck()
		if err != nil || !(&resume.Upload{Source: r.src.Identity}).Matches(now) {
			r.abort(ctx, up)
			return PutResult{}, fmt.Errorf("%s: %w", r.src.Name, ErrSourceChanged)
		}
	}
	if r.o.BeforeObject != nil {
		if err := r.o.BeforeObject(ctx, up.ID); err != nil {
			if errors.Is(err, ErrSourceChanged) {
				r.abort(ctx, up)
			}
			return PutResult{}, fmt.Errorf("upload %s: %w", r.src.Name, err)
		}
	}
	if err := object.Complete(ctx, r.s, up.ID, up.UploadID, parts, r.cipherSize); err != nil {
		if errors.Is(err, object.ErrExists) || errors.Is(err, object.ErrUnconfirmed) {
			// Another object took the key, or one that cannot be told to
			// be this upload's: the upload cannot complete, and the next
			// run must start under a new salt.
			r.abort(ctx, up)
		}
		return PutResult{}, fmt.Errorf("upload %s: %w", r.src.Name, err)
	}
	if err := r.o.States.Remove(r.o.Bucket, r.o.Prefix, r.src.Identity.Path); err != nil {
		r.notice(err.Error())
	}
	return PutResult{ID: up.ID, Size: r.src.Size, Parts: total, ResumedFrom: len(kept)}, nil
}

// resumeOrStart returns the recorded upload of the source, its keys and the
// parts of it S3 holds that can be kept, if it can be resumed; otherwise a
// new upload, created and recorded.
func (r *resumable) resumeOrStart(ctx context.Context) (*resume.Upload, *crypt.Keys, []object.Part, error) {
	rec, err := r.o.States.Load(r.o.Bucket, r.o.Prefix, r.src.Identity.Path, r.recordKey)
	switch {
	case errors.Is(err, resume.ErrNoState):
		return r.start(ctx, r.o.Salt)
	case errors.Is(err, resume.ErrUntrusted):
		// Not written with this master key, or from an older ogive: nothing in it
		// is believed, nothing is aborted because of it.
		r.notice(fmt.Sprintf("not resuming: %v; starting a new upload", err))
		return r.start(ctx, nil)
	case err != nil:
		return nil, nil, nil, err
	}
	keys, meta, err := r.openRecordedID(rec)
	if err != nil {
		return nil, nil, nil, err
	}
	if keys == nil {
		r.notice(fmt.Sprintf("not resuming: the recorded storage ID %s is not an archive of %s in this profile; starting a new upload", rec.ID, r.src.Name))
		return r.start(ctx, nil)
	}
	// The record is this profile's and names this file: aborting its upload
	// can only end an upload of ours.
	restart := func(why string) (*resume.Upload, *crypt.Keys, []object.Part, error) {
		keys.Destroy()
		if why != "" {
			r.notice(why)
		}
		r.abort(ctx, rec)
		return r.start(ctx, nil)
	}
	switch {
	case r.o.NoResume:
		return restart("")
	case !rec.Matches(r.src.Identity) || rec.PartSize != r.partSize:
		return restart("the source changed since the interrupted upload; starting again with a new salt")
	case !meta.Equal(r.src.Meta) && !meta.Empty():
		// The ID records the mode and time of the file as it was then.
		return restart("the source's mode changed since the interrupted upload; starting again with a new salt")
	case rec.UploadID == "":
		return restart("") // the last run stopped before S3 created its upload
	}
	// An object at the recorded ID, whoever put it there, must never be
	// followed by parts encrypted under its salt.
	if _, err := r.s.Head(ctx, rec.ID); err == nil {
		return restart(fmt.Sprintf("an archive already exists under the recorded storage ID %s; starting a new upload", rec.ID))
	} else if !errors.Is(err, object.ErrNotFound) {
		keys.Destroy()
		return nil, nil, nil, fmt.Errorf("resume upload of %s: %w", r.src.Name, err)
	}
	listed, err := r.s.ListParts(ctx, rec.ID, rec.UploadID)
	if errors.Is(err, object.ErrNotFound) {
		// Aborted meanwhile, by hand or by a lifecycle rule.
		keys.Destroy()
		r.o.States.Remove(r.o.Bucket, r.o.Prefix, r.src.Identity.Path)
		return r.start(ctx, nil)
	}
	if err != nil {
		keys.Destroy()
		return nil, nil, nil, fmt.Errorf("resume upload of %s: %w", r.src.Name, err)
	}
	p := &partPlan{keys: keys, src: r.src, partSize: r.partSize, cipherSize: r.cipherSize}
	kept, same, err := p.check(ctx, rec, listed)
	if err != nil {
		keys.Destroy()
		return nil, nil, nil, err
	}
	if !same {
		return restart("the source does not match the parts recorded before; starting again with a new salt")
	}
	if meta.Empty() && !r.src.Meta.Empty() {
		// A version 2 ID, from an ogive before version 3: the upload resumes under
		// it (one salt, one plaintext), but the file's mode and time cannot be
		// added to it now.
		r.notice(fmt.Sprintf("resuming the upload an earlier ogive began, under storage ID %s: the file's mode and modification time are not recorded in that ID", rec.ID))
	}
	return rec, keys, kept, nil
}

// openRecordedID returns the keys of the recorded ID, and the metadata it
// records, if it is an ID of this profile that seals the source's name, or nil.
func (r *resumable) openRecordedID(rec *resume.Upload) (*crypt.Keys, crypt.Meta, error) {
	var keys *crypt.Keys
	var meta crypt.Meta
	err := r.master(func(m []byte) error {
		name, mt, k, err := crypt.OpenIDMeta(m, rec.ID)
		if err == nil && name == r.src.Name {
			keys, meta = k, mt
		} else if k != nil {
			k.Destroy()
		}
		return nil
	})
	return keys, meta, err
}

// start creates a new upload under a fresh salt (or fixed, the tests' hook)
// and records it: once before creating it, so that "ogive uploads --abort"
// finds the lock of an upload being created, and again with its upload ID.
func (r *resumable) start(ctx context.Context, fixed *crypt.Salt) (*resume.Upload, *crypt.Keys, []object.Part, error) {
	keys, err := newObjectKeys(r.master, fixed)
	if err != nil {
		return nil, nil, nil, err
	}
	maxLen := r.o.MaxIDLen
	if maxLen <= 0 {
		maxLen = crypt.MaxIDLen
	}
	id, err := crypt.SealNameMeta(keys, r.src.Name, r.src.Meta, maxLen)
	if err != nil {
		keys.Destroy()
		return nil, nil, nil, err
	}
	up := &resume.Upload{
		Bucket: r.o.Bucket, Prefix: r.o.Prefix, ID: id, PartSize: r.partSize, Class: r.o.StorageClass,
		Source: r.src.Identity, Started: time.Now().UTC(), Digests: map[int32][32]byte{},
	}
	if err := r.o.States.Save(up, r.recordKey); err != nil {
		keys.Destroy()
		return nil, nil, nil, err
	}
	up.UploadID, err = r.s.CreateUpload(ctx, id, object.PutOptions{StorageClass: r.o.StorageClass})
	if err != nil {
		keys.Destroy()
		// S3 may have made the upload and lost its answer.
		r.abort(ctx, up)
		return nil, nil, nil, fmt.Errorf("upload %s: %w", r.src.Name, err)
	}
	// Recorded before any part is sent, so even a SIGKILL leaves nothing
	// that "ogive uploads" cannot find.
	if err := r.o.States.Save(up, r.recordKey); err != nil {
		r.s.AbortUpload(context.WithoutCancel(ctx), id, up.UploadID)
		r.o.States.Remove(r.o.Bucket, r.o.Prefix, r.src.Identity.Path)
		keys.Destroy()
		return nil, nil, nil, err
	}
	return up, keys, nil, nil
}

// abort ends a recorded upload of this profile and forgets it. A record
// without an upload ID was saved before S3 answered CreateMultipartUpload, and
// S3 may have made the upload all the same (ogive died before the record was
// saved again, or the answer was lost): every upload at its key is aborted,
// the record saying the key is ours. Failures are not fatal: the upload then
// shows in "ogive uploads" and in the lifecycle rule's reach.
func (r *resumable) abort(ctx context.Context, up *resume.Upload) {
	if up.UploadID == "" {
		abortUploadsAt(ctx, r.s, up.ID)
	} else {
		r.s.AbortUpload(context.WithoutCancel(ctx), up.ID, up.UploadID)
	}
	r.o.States.Remove(r.o.Bucket, r.o.Prefix, up.Source.Path)
	if r.o.OnAbort != nil {
		r.o.OnAbort(context.WithoutCancel(ctx), up.ID)
	}
}

// record notes the digest of part n in the upload's record on disk before
// the part is sent. A part recorded already must give the same digest: the
// source changed since it was checked otherwise, and sending it would
// encrypt new data under nonces that encrypted other data.
func (r *resumable) record(up *resume.Upload, n int32, d [32]byte) error {
	r.saving.Lock()
	defer r.saving.Unlock()
	if old, ok := up.Digests[n]; ok {
		if old != d {
			return fmt.Errorf("part %d of %s: %w", n, r.src.Name, ErrSourceChanged)
		}
		return nil
	}
	up.Digests[n] = d
	if err := r.o.States.Save(up, r.recordKey); err != nil {
		delete(up.Digests, n)
		return err
	}
	return nil
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

// check encrypts again every part the record has a digest of and compares
// the digests; same is false if one differs, or if S3 lists a part that was
// never recorded (its record may be lost, or it is not ours): either way the
// upload must start again under a new salt. It keeps the parts in S3 whose
// size and ETag (S3's MD5) match the part encrypted again (partHolds); the
// others are sent again, which is safe since they encrypt the same plaintext.
func (p *partPlan) check(ctx context.Context, rec *resume.Upload, listed []object.Part) (kept []object.Part, same bool, err error) {
	inS3 := map[int32]object.Part{}
	for _, part := range listed {
		if _, ok := rec.Digests[part.Number]; !ok {
			return nil, false, nil
		}
		inS3[part.Number] = part
	}
	numbers := make([]int32, 0, len(rec.Digests))
	for n := range rec.Digests {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		if n < 1 || int(n) > p.count() {
			return nil, false, nil
		}
		part, inS3 := inS3[n]
		sums, err := p.scan(ctx, n, inS3)
		if err != nil {
			return nil, false, err
		}
		if sums.digest != rec.Digests[n] {
			return nil, false, nil
		}
		if inS3 && partHolds(part, sums) {
			kept = append(kept, part)
		}
	}
	return kept, true, nil
}

// partHolds reports whether the part S3 lists holds the part encrypted
// again, whose first pass gave s. Only its ETag can tell: the MD5 S3 computed of the bytes it
// received, which other bytes cannot be made to match. Its CRC-32C cannot
// (four bytes chosen anywhere in a part set it to any value), so it never
// decides. Where ETags are not MD5s (SSE-KMS, SSE-C), no part is kept. A
// part that is not kept is sent again: the same ciphertext, so no nonce
// encrypts anything new.
func partHolds(part object.Part, s partSums) bool {
	if part.Size != s.size {
		return false
	}
	same, ok := object.MatchETag(part.ETag, [][md5.Size]byte{s.md5})
	return ok && same
}

// upload sends the parts that are not kept, as many at a time as the
// options' gate lets through, each
// encrypted from its own package index, recorded before it is sent and
// streamed (stream.go), and returns every part in order.
func (r *resumable) upload(ctx context.Context, p *partPlan, up *resume.Upload, kept []object.Part) ([]object.Part, error) {
	have := map[int32]object.Part{}
	for _, k := range kept {
		have[k.Number] = k
		if r.o.OnKept != nil {
			r.o.OnKept(k)
		} else if r.o.OnPart != nil {
			r.o.OnPart(k)
		}
	}
	gate := r.o.gate(p.partSize)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	send := func(n int32) error {
		// The part streams: scanned first for its checksum and digest,
		// then encrypted again as it is sent.
		sums, err := p.scan(ctx, n, false)
		if err == nil {
			err = r.record(up, n, sums.digest)
		}
		var part object.Part
		if err == nil {
			part, err = r.s.UploadPart(ctx, up.ID, up.UploadID, n, object.CountingPart(p.body(n, sums), r.o.OnSent))
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			cancel()
			return err
		}
		have[n] = part
		if r.o.OnPart != nil {
			r.o.OnPart(part)
		}
		return nil
	}
	for n := int32(1); int(n) <= p.count(); n++ {
		mu.Lock()
		_, done := have[n]
		mu.Unlock()
		if done {
			continue
		}
		t, err := gate.Acquire(ctx)
		if err != nil {
			break
		}
		wg.Go(func() {
			err := send(n)
			gate.Release(t, err == nil)
		})
	}
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
