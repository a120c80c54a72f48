package archive

// A file download is written to a temporary file beside its final name, with a record of
// the ranges already written, so that an interrupted get resumes. Both sit in the
// destination directory, which other users may be able to write (a shared directory, or
// /tmp). So the temporary file is only ever one this user created (O_EXCL, O_NOFOLLOW,
// mode 0600, checked on the open descriptor before a resume), and the record proves each
// range with a MAC under a key derived from the archive's keys (crypt.RangeMAC), which no
// one without the master key can compute. docs/FORMAT.md §5 describes the record.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/crypt"
)

const (
	partialSuffix   = ".ogive-partial"
	recordSuffix    = ".json"
	recordTmpSuffix = ".json.tmp"
	asideSuffix     = ".aside-" // and 8 random hex digits
	// longestSuffix is what is ever appended to a temporary file's name: a set-aside one.
	longestSuffix = len(asideSuffix) + 8
	// hashedPrefix starts the temporary names of a long file name and of one-off files.
	hashedPrefix = ".ogive-partial-"
	maxNameLen   = 255 // bytes in a file name, on Linux file systems
)

// partialName is the name of the temporary file of a download to the file name base:
// ".base.ogive-partial". When that, with the longest suffix added to it, would not fit in
// a file name, it is ".ogive-partial-" and 32 hex digits of base's SHA-256 instead:
// fixed, so that the next run finds it again, whatever the name's length.
func partialName(base string) string {
	name := "." + base + partialSuffix
	if len(name)+longestSuffix <= maxNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(base))
	return hashedPrefix + hex.EncodeToString(sum[:16])
}

// PartialPath is where a download to final keeps what it wrote so far, if anything.
func PartialPath(final string) string {
	dir, base := filepath.Split(final)
	return filepath.Join(dir, partialName(base))
}

// Suspect is a file found under a download's temporary name that this user's ogive did
// not leave there, or not as it is: it is never written into nor read from.
type Suspect struct {
	Path    string // where it was found
	Problem string // what is wrong with it, e.g. "it belongs to uid 65534"
	MovedTo string // where it was set aside; "" if it could not be moved
	Err     error  // why it could not be moved or replaced
	Using   string // the temporary file the download uses instead
}

// claim is the temporary file a download writes.
type claim struct {
	f         *os.File
	resumable bool // under its fixed name, so a later run finds it
	existed   bool // left by an earlier run: what it holds may be resumed
	suspect   *Suspect
}

// claimPartial opens the temporary file of a download to dir/base: the one an earlier
// run left, if it is this user's own, or a new one. A file there that is not this user's
// own, private regular file is set aside and a new one created; if it cannot be moved
// (a sticky directory such as /tmp, and another user's file), the download goes to a
// one-off temporary file that a later run will not resume.
func claimPartial(dir, base string) (*claim, error) {
	path := filepath.Join(dir, partialName(base))
	var suspect *Suspect
	// Two tries: another ogive may create the file between our open and our create,
	// and the second try then finds it busy.
	for range 2 {
		f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
		switch {
		case err == nil:
			problem, err := notOwnPrivate(f)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("check temporary file %s: %w", path, err)
			}
			if problem == "" {
				if err := lock(f); err != nil {
					f.Close()
					return nil, err
				}
				return &claim{f: f, resumable: true, existed: true}, nil
			}
			f.Close()
			suspect = &Suspect{Path: path, Problem: problem}
		case errors.Is(err, fs.ErrNotExist):
		default:
			// A symbolic link (ELOOP), another user's private file (EACCES), a
			// directory or a socket: say what it is, from the name's own metadata.
			suspect = &Suspect{Path: path, Problem: describe(path, err)}
		}
		if suspect != nil {
			aside := path + asideSuffix + randomHex(4)
			if err := os.Rename(path, aside); err != nil {
				suspect.Problem += " and cannot be moved"
				suspect.Err = err
				break
			}
			suspect.MovedTo = aside
		}
		f, err = createPrivate(path)
		switch {
		case err == nil:
			if err := lock(f); err != nil {
				f.Close()
				return nil, err
			}
			if suspect != nil {
				suspect.Using = path
			}
			return &claim{f: f, resumable: true, suspect: suspect}, nil
		case !errors.Is(err, fs.ErrExist):
			return nil, fmt.Errorf("create temporary file: %w", err)
		}
		if suspect != nil {
			// Something came back right after it was set aside: do not fight it.
			break
		}
	}
	if suspect == nil {
		suspect = &Suspect{Path: path, Problem: "another file keeps taking its place", Err: fs.ErrExist}
	}
	oneOff := filepath.Join(dir, hashedPrefix+randomHex(16))
	f, err := createPrivate(oneOff)
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	suspect.Using = oneOff
	return &claim{f: f, suspect: suspect}, nil
}

// createPrivate creates a new file at path, only if nothing is there, not even a
// symbolic link, with mode 0600 whatever the umask.
func createPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

// lock takes the download's lock: one ogive at a time writes a temporary file.
func lock(f *os.File) error {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("%s is being written by another ogive: %w", f.Name(), ErrBusy)
	}
	return nil
}

// notOwnPrivate says what makes the open file f something this user's ogive did not
// create as it is: not a regular file, another owner, a mode other than 0600, or more
// than one link (a hard link to a file kept elsewhere). "" means f can be resumed.
func notOwnPrivate(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	return problemOf(fi), nil
}

func problemOf(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return "it is a symbolic link"
	case !fi.Mode().IsRegular():
		return "it is not a regular file"
	case !ok:
		return "its owner is unknown"
	case int(st.Uid) != os.Geteuid():
		return fmt.Sprintf("it belongs to uid %d", st.Uid)
	case st.Mode&0o7777 != 0o600:
		return fmt.Sprintf("its mode is %04o, not 0600", st.Mode&0o7777)
	case st.Nlink != 1:
		return fmt.Sprintf("it has %d links", st.Nlink)
	}
	return ""
}

// describe says what is at path, which could not be opened with err.
func describe(path string, err error) string {
	if fi, lerr := os.Lstat(path); lerr == nil {
		if p := problemOf(fi); p != "" {
			return p
		}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return "it cannot be opened: " + errno.Error()
	}
	return "it cannot be opened"
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// partialKey says which download a temporary file holds: the same object,
// unchanged (size and modification time), cut into the same chunks.
type partialKey struct {
	ID            string    `json:"id"`
	Size          int64     `json:"size"`
	Modified      time.Time `json:"modified"`
	ChunkPackages int       `json:"chunk_packages"`
}

// partialRecord is the progress record beside a download's temporary file:
// for each chunk written after it authenticated, the range MAC of its
// plaintext as written. The record is saved after every chunk without an
// fsync (cheap, and enough to survive SIGKILL, as the page cache survives
// the process); after a crash of the machine, the data may lag behind the
// record, so a resumed download checks every recorded chunk against the
// file and fetches again any that does not match.
type partialRecord struct {
	path, tmp string
	mac       *crypt.RangeMAC // nil until Resume

	mu      sync.Mutex // guards key, tags
	key     partialKey
	tags    map[int][]byte
	resumed int

	writeMu sync.Mutex // one writer at a time: concurrent chunks finish together
}

type partialFile struct {
	partialKey
	Done map[int][]byte `json:"done"` // chunk index → range MAC of its plaintext (base64)
}

// recordEntryMax bounds one chunk's entry in a record, `"4294967295":"<24 base64>",`, and
// recordFixedMax the rest, an ID of crypt.MaxIDLen characters included.
const (
	recordEntryMax = 48
	recordFixedMax = 4096
)

// load returns the chunks recorded for key, of the chunks chunks, or none if
// the record is missing, unreadable, not this user's own regular file, larger
// than a record of that many chunks can be, or about another download.
func (r *partialRecord) load(key partialKey, chunks int) map[int][]byte {
	f, err := os.OpenFile(r.path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !ownRegular(fi) {
		return nil
	}
	limit := int64(recordFixedMax) + int64(chunks)*recordEntryMax
	if fi.Size() > limit {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil || int64(len(b)) > limit {
		return nil
	}
	var pf partialFile
	if json.Unmarshal(b, &pf) != nil || pf.ID != key.ID || pf.Size != key.Size ||
		!pf.Modified.Equal(key.Modified) || pf.ChunkPackages != key.ChunkPackages {
		return nil
	}
	for i, tag := range pf.Done {
		if i < 0 || i >= chunks || len(tag) != crypt.RangeMACSize {
			delete(pf.Done, i)
		}
	}
	return pf.Done
}

// ownRegular reports whether fi is a regular file of this user: the record
// proves its chunks itself, but nothing else's bytes are worth parsing.
func ownRegular(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return fi.Mode().IsRegular() && ok && int(st.Uid) == os.Geteuid()
}

// verify keeps the recorded chunks whose data in f still has the recorded
// tag; span gives each chunk's plaintext offset and length.
func verify(f io.ReaderAt, had map[int][]byte, span func(int) (int64, int64), mac *crypt.RangeMAC, chunkPackages int) map[int]bool {
	ok := map[int]bool{}
	var buf []byte
	for i, tag := range had {
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
		if mac.Verify(uint32(chunkPackages), uint64(i), b, tag) {
			ok[i] = true
		}
	}
	return ok
}

// start records that a download of key begins with the chunks in had.
func (r *partialRecord) start(key partialKey, had map[int][]byte, valid map[int]bool) error {
	r.mu.Lock()
	r.key, r.tags, r.resumed = key, map[int][]byte{}, len(valid)
	for i := range valid {
		r.tags[i] = had[i]
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
	tag, err := r.mac.Sum(uint32(r.key.ChunkPackages), uint64(i), b)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.tags[i] = tag[:]
	r.mu.Unlock()
	r.write()
}

// write replaces the record through a temporary file that only this call
// created: whatever sits at either name, a symbolic link included, is
// replaced, never written through.
func (r *partialRecord) write() error {
	r.mu.Lock()
	pf := partialFile{partialKey: r.key, Done: make(map[int][]byte, len(r.tags))}
	for i, tag := range r.tags {
		pf.Done[i] = tag
	}
	r.mu.Unlock()
	b, err := json.Marshal(pf)
	if err != nil {
		return err
	}
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	f, err := createPrivate(r.tmp)
	if errors.Is(err, fs.ErrExist) {
		// Left by a run that was killed mid-write, or planted: the download's
		// lock rules out another ogive writing it now.
		os.Remove(r.tmp)
		f, err = createPrivate(r.tmp)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(r.tmp, r.path)
	}
	if err != nil {
		os.Remove(r.tmp)
	}
	return err
}

// readBack holds the buffers that completed chunks are read back into, one
// per download worker at most, rather than a new one per chunk.
var readBack = sync.Pool{New: func() any { return new([]byte) }}

// close wipes the record's key.
func (r *partialRecord) close() {
	if r != nil {
		r.mac.Destroy()
	}
}

func (r *partialRecord) remove() {
	if r != nil {
		os.Remove(r.path)
		os.Remove(r.tmp)
	}
}
