package object

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is a Store held in memory, for tests. It follows S3's rules where
// ogive depends on them: storage classes, the restore state machine with its
// delays and expiry, InvalidObjectState on reading an archived object,
// multipart part sizes and checksums, ETags, and the refusal to write onto
// a key that holds an object, as S3 answers If-None-Match: *.
type Memory struct {
	clock        func() time.Time
	restoreDelay func(Tier) time.Duration
	day          time.Duration

	mu      sync.Mutex
	objects map[string]*memObject
	uploads map[string]*memUpload
	nextID  int
}

var _ Store = (*Memory)(nil)

type memObject struct {
	body        []byte
	class       string
	contentType string
	metadata    map[string]string
	modified    time.Time
	etag        string
	// parts are the parts a multipart upload was completed from; nil for
	// an object stored with Put.
	parts []Part

	// Restore record: a restore was asked for, becomes readable at readyAt
	// and stays readable until expiry.
	restoring bool
	readyAt   time.Time
	expiry    time.Time
}

type memUpload struct {
	key       string
	options   PutOptions
	initiated time.Time
	parts     map[int32]memPart
}

type memPart struct {
	body []byte
	Part
}

// NewMemory returns an empty in-memory store. clock says what time it is
// (nil: time.Now), so tests can move time forward; restoreDelay says how long
// a restore of each tier takes (nil: 5 minutes Expedited, 12 hours Standard,
// 48 hours Bulk); day is how long a restored copy's day lasts (0: 24 hours).
func NewMemory(clock func() time.Time, restoreDelay func(Tier) time.Duration, day time.Duration) *Memory {
	if clock == nil {
		clock = time.Now
	}
	if restoreDelay == nil {
		restoreDelay = awsRestoreDelay
	}
	if day <= 0 {
		day = 24 * time.Hour
	}
	return &Memory{
		clock:        clock,
		restoreDelay: restoreDelay,
		day:          day,
		objects:      make(map[string]*memObject),
		uploads:      make(map[string]*memUpload),
	}
}

func awsRestoreDelay(t Tier) time.Duration {
	switch t {
	case TierExpedited:
		return 5 * time.Minute
	case TierBulk:
		return 48 * time.Hour
	default:
		return 12 * time.Hour
	}
}

func (m *Memory) Put(ctx context.Context, key string, body []byte, o PutOptions) error {
	if err := checkPut(key, o); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; ok {
		return fmt.Errorf("put %s: %w", key, ErrExists)
	}
	m.objects[key] = m.newObject(bytes.Clone(body), bodyETag(body), o)
	return nil
}

func (m *Memory) newObject(body []byte, etag string, o PutOptions) *memObject {
	return &memObject{
		body:        body,
		class:       o.storageClass(),
		contentType: o.contentType(),
		metadata:    lowerKeys(o.Metadata),
		modified:    m.clock().UTC(),
		etag:        etag,
	}
}

func (m *Memory) CreateUpload(ctx context.Context, key string, o PutOptions) (string, error) {
	if err := checkPut(key, o); err != nil {
		return "", fmt.Errorf("create upload %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("create upload %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	id := "memory-upload-" + strconv.Itoa(m.nextID)
	o.Metadata = maps.Clone(o.Metadata)
	m.uploads[id] = &memUpload{key: key, options: o, initiated: m.clock().UTC(), parts: make(map[int32]memPart)}
	return id, nil
}

func (m *Memory) UploadPart(ctx context.Context, key, uploadID string, number int32, part PartBody) (Part, error) {
	if number < 1 || number > MaxParts {
		return Part{}, fmt.Errorf("upload part %d of %s: %w", number, key, errPartNumber)
	}
	if part.Size > MaxPartSize {
		return Part{}, fmt.Errorf("upload part %d of %s: %w", number, key, errPartTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return Part{}, fmt.Errorf("upload part %d of %s: %w", number, key, err)
	}
	body, err := ReadPart(part)
	if err != nil {
		return Part{}, fmt.Errorf("upload part %d of %s: %w", number, key, err)
	}
	if part.CRC32C != "" && part.CRC32C != ChecksumCRC32C(body) {
		// S3's BadDigest: the bytes are not those the checksum was made of.
		return Part{}, fmt.Errorf("upload part %d of %s: crc32c %s sent, body has %s", number, key, part.CRC32C, ChecksumCRC32C(body))
	}
	p := Part{
		Number:         number,
		Size:           int64(len(body)),
		ETag:           bodyETag(body),
		ChecksumCRC32C: ChecksumCRC32C(body),
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, err := m.upload(key, uploadID)
	if err != nil {
		return Part{}, fmt.Errorf("upload part %d of %s: %w", number, key, err)
	}
	u.parts[number] = memPart{body: bytes.Clone(body), Part: p}
	return p, nil
}

// upload finds an upload in progress; m.mu must be held.
func (m *Memory) upload(key, uploadID string) (*memUpload, error) {
	u, ok := m.uploads[uploadID]
	if !ok || u.key != key {
		return nil, fmt.Errorf("upload %s: %w", uploadID, ErrNotFound)
	}
	return u, nil
}

func (m *Memory) CompleteUpload(ctx context.Context, key, uploadID string, parts []Part) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("complete upload %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// The key is looked at first, as the local Deep Archive server does:
	// a Complete sent again after the first one succeeded finds the object
	// it made.
	if _, ok := m.objects[key]; ok {
		return fmt.Errorf("complete upload %s: %w", key, ErrExists)
	}
	u, err := m.upload(key, uploadID)
	if err != nil {
		return fmt.Errorf("complete upload %s: %w", key, err)
	}
	if len(parts) == 0 {
		return fmt.Errorf("complete upload %s: %w: no parts", key, errInvalidPart)
	}
	var size int
	for i, p := range parts {
		stored, ok := u.parts[p.Number]
		switch {
		case !ok:
			return fmt.Errorf("complete upload %s: %w: part %d was not uploaded", key, errInvalidPart, p.Number)
		case i > 0 && p.Number <= parts[i-1].Number:
			return fmt.Errorf("complete upload %s: %w: part %d out of order", key, errInvalidPart, p.Number)
		case p.ETag != stored.ETag:
			return fmt.Errorf("complete upload %s: %w: part %d etag %s, uploaded %s", key, errInvalidPart, p.Number, p.ETag, stored.ETag)
		case p.ChecksumCRC32C != stored.ChecksumCRC32C:
			return fmt.Errorf("complete upload %s: %w: part %d crc32c %q, uploaded %q", key, errInvalidPart, p.Number, p.ChecksumCRC32C, stored.ChecksumCRC32C)
		case i < len(parts)-1 && stored.Size < MinPartSize:
			return fmt.Errorf("complete upload %s: %w: part %d has %d bytes", key, errPartTooSmall, p.Number, stored.Size)
		}
		size += len(stored.body)
	}
	body := make([]byte, 0, size)
	var completed []Part
	for _, p := range parts {
		body = append(body, u.parts[p.Number].body...)
		completed = append(completed, u.parts[p.Number].Part)
	}
	etag, _ := multipartETag(completed) // the parts' ETags are this store's MD5s
	o := m.newObject(body, etag, u.options)
	o.parts = completed
	m.objects[key] = o
	delete(m.uploads, uploadID)
	return nil
}

func (m *Memory) AbortUpload(ctx context.Context, key, uploadID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("abort upload %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.upload(key, uploadID); err != nil {
		return fmt.Errorf("abort upload %s: %w", key, err)
	}
	delete(m.uploads, uploadID)
	return nil
}

func (m *Memory) ListParts(ctx context.Context, key, uploadID string) ([]Part, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, err := m.upload(key, uploadID)
	if err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", key, err)
	}
	parts := make([]Part, 0, len(u.parts))
	for _, p := range u.parts {
		parts = append(parts, p.Part)
	}
	slices.SortFunc(parts, func(a, b Part) int { return int(a.Number - b.Number) })
	return parts, nil
}

func (m *Memory) ListUploads(ctx context.Context) ([]MultipartUpload, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list uploads: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	uploads := make([]MultipartUpload, 0, len(m.uploads))
	for id, u := range m.uploads {
		uploads = append(uploads, MultipartUpload{Key: u.key, UploadID: id, Initiated: u.initiated})
	}
	slices.SortFunc(uploads, func(a, b MultipartUpload) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return a.Initiated.Compare(b.Initiated)
	})
	return uploads, nil
}

func (m *Memory) List(ctx context.Context, fn func(Info) error) error {
	return m.ListPrefix(ctx, "", fn)
}

func (m *Memory) ListPrefix(ctx context.Context, prefix string, fn func(Info) error) error {
	// Snapshot first so that fn may call back into the store.
	m.mu.Lock()
	now := m.clock()
	var infos []Info
	for key, o := range m.objects {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		info, err := o.info(key, now)
		if err != nil {
			m.mu.Unlock()
			return fmt.Errorf("list: %w", err)
		}
		info.ContentType, info.Metadata = "", nil
		infos = append(infos, info)
	}
	m.mu.Unlock()
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Key, b.Key) })
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list: %w", err)
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

func (m *Memory) Head(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, fmt.Errorf("head %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("head %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return Info{}, fmt.Errorf("head %s: %w", key, ErrNotFound)
	}
	info, err := o.info(key, m.clock())
	if err != nil {
		return Info{}, fmt.Errorf("head %s: %w", key, err)
	}
	return info, nil
}

// info describes o at time now. The restore status goes through the same
// header parser as the S3 store's HEAD.
func (o *memObject) info(key string, now time.Time) (Info, error) {
	header := ""
	if o.restoring {
		header = formatRestoreHeader(now.Before(o.readyAt), o.expiry)
	}
	status, err := headStatus(o.class, header, now)
	if err != nil {
		return Info{}, err
	}
	return Info{
		Key:          key,
		Size:         int64(len(o.body)),
		LastModified: o.modified,
		StorageClass: o.class,
		ETag:         o.etag,
		ContentType:  o.contentType,
		Metadata:     maps.Clone(o.metadata),
		Status:       status,
	}, nil
}

func (m *Memory) Restore(ctx context.Context, key string, days int32, tier Tier) (RestoreResult, error) {
	if err := checkRestore(key, days, tier); err != nil {
		return 0, fmt.Errorf("restore %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("restore %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return 0, fmt.Errorf("restore %s: %w", key, ErrNotFound)
	}
	now := m.clock()
	info, err := o.info(key, now)
	if err != nil {
		return 0, fmt.Errorf("restore %s: %w", key, err)
	}
	lifetime := time.Duration(days) * m.day
	switch state := info.Status.State; {
	case state == StateAvailable:
		return RestoreNotArchived, nil
	case state == StateRestoring:
		return RestoreInProgress, nil
	case tier == TierExpedited && o.class == "DEEP_ARCHIVE":
		return 0, fmt.Errorf("restore %s: %w %q: not available for DEEP_ARCHIVE", key, ErrInvalidTier, tier)
	case state == StateRestored:
		// As in S3, the new lifetime counts from the request.
		o.expiry = now.Add(lifetime)
		return RestoreExtended, nil
	default:
		o.restoring = true
		o.readyAt = now.Add(m.restoreDelay(tier))
		o.expiry = o.readyAt.Add(lifetime)
		return RestoreAccepted, nil
	}
}

func (m *Memory) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkGet(key, offset); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	info, err := o.info(key, m.clock())
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if s := info.Status.State; s == StateArchived || s == StateRestoring {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotRestored)
	}
	size := int64(len(o.body))
	if offset > 0 && offset >= size {
		return nil, fmt.Errorf("get %s: %w: offset %d of %d bytes", key, errInvalidRange, offset, size)
	}
	end := size
	if length >= 0 && length < size-offset {
		end = offset + length
	}
	// Stored bodies are never written to again, so readers may share them.
	return io.NopCloser(bytes.NewReader(o.body[offset:end])), nil
}

func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
