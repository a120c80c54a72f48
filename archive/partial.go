package archive

import (
	"encoding/json"
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
// the chunks that were written, authenticated and synced to disk.
type partialRecord struct {
	path string

	mu      sync.Mutex
	key     partialKey
	chunks  map[int]bool
	unsaved int
	resumed int
}

type partialFile struct {
	partialKey
	Done []int `json:"done"`
}

// saveEvery bounds how many completed chunks a crash can make the next run
// fetch again, against the cost of an fsync and a small write per save.
const saveEvery = 1

// load returns the chunks done for key, or none if the record is missing,
// unreadable or about another download.
func (r *partialRecord) load(key partialKey) map[int]bool {
	b, err := os.ReadFile(r.path)
	if err != nil {
		return nil
	}
	var pf partialFile
	if json.Unmarshal(b, &pf) != nil || pf.ID != key.ID || pf.Size != key.Size ||
		!pf.Modified.Equal(key.Modified) || pf.ChunkPackages != key.ChunkPackages {
		return nil
	}
	done := map[int]bool{}
	for _, i := range pf.Done {
		done[i] = true
	}
	return done
}

// start records that a download of key begins with the chunks in had.
func (r *partialRecord) start(key partialKey, had map[int]bool) error {
	r.mu.Lock()
	r.key, r.chunks, r.resumed = key, map[int]bool{}, len(had)
	for i := range had {
		r.chunks[i] = true
	}
	r.mu.Unlock()
	return r.write()
}

// done marks chunk i as written; every few chunks the file is synced and
// the record saved, so the record never claims data the disk may not have.
func (r *partialRecord) done(f *os.File, i int) {
	r.mu.Lock()
	r.chunks[i] = true
	r.unsaved++
	due := r.unsaved >= saveEvery
	r.mu.Unlock()
	if due {
		r.save(f)
	}
}

// save syncs the data, then records every chunk marked done. Errors are
// not fatal: a record that could not be written costs a re-download.
func (r *partialRecord) save(f *os.File) {
	if f.Sync() != nil {
		return
	}
	r.mu.Lock()
	r.unsaved = 0
	r.mu.Unlock()
	r.write()
}

func (r *partialRecord) write() error {
	r.mu.Lock()
	pf := partialFile{partialKey: r.key}
	for i := range r.chunks {
		pf.Done = append(pf.Done, i)
	}
	r.mu.Unlock()
	b, err := json.Marshal(pf)
	if err != nil {
		return err
	}
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.path)
}

func (r *partialRecord) remove() {
	if r != nil {
		os.Remove(r.path)
	}
}
