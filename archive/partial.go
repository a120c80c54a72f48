package archive

import (
	"encoding/json"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"time"
)

// partialKey says which download a temporary file holds: the same object,
// unchanged (size and modification time), cut into the same chunks.
type partialKey struct {
	ID            string    `json:"id"`
	Size          int64     `json:"size"`
	Modified      time.Time `json:"modified"`
	ChunkPackages int       `json:"chunk_packages"`
}

// partialRecord is the progress record beside a download's temporary file:
// for each chunk written after it authenticated, the CRC-32C of its
// plaintext as written. The record is saved after every chunk without an
// fsync (cheap, and enough to survive SIGKILL, as the page cache survives
// the process); after a crash of the machine, the data may lag behind the
// record, so a resumed download checks every recorded chunk against the
// file and fetches again any that does not match.
type partialRecord struct {
	path string

	mu      sync.Mutex
	key     partialKey
	chunks  map[int]uint32
	resumed int
}

type partialFile struct {
	partialKey
	Done map[int]uint32 `json:"done"` // chunk index → CRC-32C of its plaintext
}

// load returns the chunks recorded for key, or none if the record is
// missing, unreadable or about another download.
func (r *partialRecord) load(key partialKey) map[int]uint32 {
	b, err := os.ReadFile(r.path)
	if err != nil {
		return nil
	}
	var pf partialFile
	if json.Unmarshal(b, &pf) != nil || pf.ID != key.ID || pf.Size != key.Size ||
		!pf.Modified.Equal(key.Modified) || pf.ChunkPackages != key.ChunkPackages {
		return nil
	}
	return pf.Done
}

// verify keeps the recorded chunks whose data in f still has the recorded
// checksum; span gives each chunk's plaintext offset and length.
func verify(f io.ReaderAt, had map[int]uint32, span func(int) (int64, int64)) map[int]bool {
	ok := map[int]bool{}
	var buf []byte
	for i, sum := range had {
		off, n := span(i)
		if n <= 0 {
			continue
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		b := buf[:n]
		if _, err := f.ReadAt(b, off); err != nil {
			continue
		}
		if crc32.Checksum(b, castagnoli) == sum {
			ok[i] = true
		}
	}
	return ok
}

// start records that a download of key begins with the chunks in had.
func (r *partialRecord) start(key partialKey, had map[int]uint32, valid map[int]bool) error {
	r.mu.Lock()
	r.key, r.chunks, r.resumed = key, map[int]uint32{}, len(valid)
	for i := range valid {
		r.chunks[i] = had[i]
	}
	r.mu.Unlock()
	return r.write()
}

// done records chunk i, whose plaintext in f has the given span. Errors
// are not fatal: a record that could not be written costs a re-download.
func (r *partialRecord) done(f io.ReaderAt, i int, off, n int64) {
	bp := readBack.Get().(*[]byte)
	defer readBack.Put(bp)
	if int64(cap(*bp)) < n {
		*bp = make([]byte, n)
	}
	b := (*bp)[:n]
	if _, err := f.ReadAt(b, off); err != nil {
		return
	}
	sum := crc32.Checksum(b, castagnoli)
	r.mu.Lock()
	r.chunks[i] = sum
	r.mu.Unlock()
	r.write()
}

func (r *partialRecord) write() error {
	r.mu.Lock()
	pf := partialFile{partialKey: r.key, Done: make(map[int]uint32, len(r.chunks))}
	for i, sum := range r.chunks {
		pf.Done[i] = sum
	}
	r.mu.Unlock()
	b, err := json.Marshal(pf)
	if err != nil {
		return err
	}
	// One writer at a time: concurrent chunks finish together.
	writeMu.Lock()
	defer writeMu.Unlock()
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.path)
}

var writeMu sync.Mutex

// readBack holds the buffers that completed chunks are read back into, one
// per download worker at most, rather than a new one per chunk.
var readBack = sync.Pool{New: func() any { return new([]byte) }}

func (r *partialRecord) remove() {
	if r != nil {
		os.Remove(r.path)
	}
}
