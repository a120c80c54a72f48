package archive

// A file download is written to a temporary file beside its final name, with a record of
// the ranges already written, so that an interrupted get resumes. Both sit in the
// destination directory, which other users may be able to write (a shared directory, or
// /tmp). So the temporary file is only ever one this user created (O_EXCL, O_NOFOLLOW,
// mode 0600, checked on the open descriptor before a resume), and the record proves each
// range with a MAC under a key derived from the archive's keys (crypt.RangeMAC), which no
// one without the master key can compute. docs/FORMAT.md §5 describes the record.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

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
		f, err := openFile(path, os.O_RDWR|oNoFollow|oSpecial, 0)
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
	f, err := openFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
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

// partialRecord is the progress record beside a download's temporary file
// (docs/FORMAT.md §5.3): a header line that says which download it is, then
// one line per range written after it authenticated, with the range MAC of
// its plaintext as written. start writes the header and the ranges a resume
// kept through a new file renamed over the record, and keeps that file open;
// done appends one line to it. So recording a range costs one short write
// whatever the number of ranges before it: rewriting the whole record each
// time made a get of a terabyte spend hours on it.
//
// Nothing is fsynced: the page cache survives a SIGKILL of the process, and
// after a crash of the machine the record may lag or lead the data, or end in
// a torn line, so a resume checks every recorded range against the file and
// fetches again any that does not match.
type partialRecord struct {
	path, tmp string
	mac       *crypt.RangeMAC // nil until Resume
	key       partialKey      // set by start, before any done
	resumed   int

	mu sync.Mutex // guards f: concurrent ranges finish together
	f  *os.File   // the record, to append to; nil before start, after close, or after a failed append
}

// recordHeader is a record's first line.
type recordHeader struct {
	Format string `json:"format"`
	partialKey
}

// recordFormat names the record's format: an earlier one (a single JSON
// object, with no newline) has no header line, and is ignored.
const recordFormat = "ogive partial download 1"

// recordEntryMax bounds one range's line, "4294967295 <32 hex digits>\n", and
// recordFixedMax the header, an ID of crypt.MaxIDLen characters included.
const (
	recordIndexMax = 10 // decimal digits
	recordEntryMax = recordIndexMax + 1 + 2*crypt.RangeMACSize + 1
	recordFixedMax = 4096
)

// appendEntry appends the line that records range i with tag.
func appendEntry(b []byte, i int, tag []byte) []byte {
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, ' ')
	b = hex.AppendEncode(b, tag)
	return append(b, '\n')
}

// load returns the ranges recorded for key, of the chunks ranges, or none if
// the record is missing, unreadable, not this user's own regular file, larger
// than a record of that many ranges can be, or about another download. A
// line it cannot parse, a torn one, or one about a range past the last, is
// skipped; of two lines about one range, the later one counts.
func (r *partialRecord) load(key partialKey, chunks int) map[int][]byte {
	f, err := openFile(r.path, os.O_RDONLY|oNoFollow|oSpecial, 0)
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
	line, rest, ok := bytes.Cut(b, []byte{'\n'})
	var h recordHeader
	if !ok || json.Unmarshal(line, &h) != nil || h.Format != recordFormat || h.ID != key.ID ||
		h.Size != key.Size || !h.Modified.Equal(key.Modified) || h.ChunkPackages != key.ChunkPackages {
		return nil
	}
	done := map[int][]byte{}
	for {
		// What follows the last newline is a line torn by a crash mid-append.
		line, rest, ok = bytes.Cut(rest, []byte{'\n'})
		if !ok {
			return done
		}
		if i, tag, ok := parseEntry(line, chunks); ok {
			done[i] = tag
		}
	}
}

// parseEntry reads a range's line, without its newline: the range's index i,
// 0 ≤ i < chunks, in decimal without leading zeros, a space, and its tag in
// lowercase hex.
func parseEntry(line []byte, chunks int) (int, []byte, bool) {
	index, digits, ok := bytes.Cut(line, []byte{' '})
	if !ok || len(index) == 0 || len(index) > recordIndexMax || index[0] == '0' && len(index) > 1 ||
		len(digits) != 2*crypt.RangeMACSize {
		return 0, nil, false
	}
	i := 0
	for _, c := range index {
		if c < '0' || c > '9' {
			return 0, nil, false
		}
		if i = i*10 + int(c-'0'); i >= chunks {
			return 0, nil, false
		}
	}
	for _, c := range digits {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return 0, nil, false
		}
	}
	tag := make([]byte, crypt.RangeMACSize)
	if _, err := hex.Decode(tag, digits); err != nil {
		return 0, nil, false
	}
	return i, tag, true
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

// start begins the record of a download of key, with the ranges in valid,
// whose tags are in had. It writes them to a new file that only this call
// created and renames it over the record: whatever sat at either name, a
// symbolic link included, is replaced, never written through. The file stays
// open for done to append to, and is never opened by its name again.
func (r *partialRecord) start(key partialKey, had map[int][]byte, valid map[int]bool) error {
	r.closeFile()
	r.key, r.resumed = key, len(valid)
	b, err := json.Marshal(recordHeader{Format: recordFormat, partialKey: key})
	if err != nil {
		return err
	}
	b = append(b, '\n')
	for _, i := range slices.Sorted(maps.Keys(valid)) {
		b = appendEntry(b, i, had[i])
	}
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
	if err == nil {
		err = os.Rename(r.tmp, r.path)
	}
	if err != nil {
		f.Close()
		os.Remove(r.tmp)
		return err
	}
	r.mu.Lock()
	r.f = f
	r.mu.Unlock()
	return nil
}

// done records chunk i, whose plaintext in f has the given span, with one
// line appended to the record in a single write. Errors are not fatal: a
// range that could not be recorded costs a re-download.
func (r *partialRecord) done(f io.ReaderAt, i int, off, n int64) {
	readBackSlots <- struct{}{}
	defer func() { <-readBackSlots }()
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
	var line [recordEntryMax]byte
	entry := appendEntry(line[:0], i, tag[:])
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return
	}
	if _, err := r.f.Write(entry); err != nil {
		// Part of the line may be written (a full disk): the next line would
		// run into it, so the record stops here, and a resume fetches the
		// ranges after it again.
		r.f.Close()
		r.f = nil
	}
}

// closeFile closes the record's file, if open: nothing more is recorded.
func (r *partialRecord) closeFile() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// readBack holds the buffers that completed chunks are read back into,
// rather than a new one per chunk; readBackSlots lets maxReadBack chunks be
// read back at once, so that 32 ranges in flight do not hold 32 of them
// (256 MiB): a read back and its MAC take a few milliseconds.
var (
	readBack      = sync.Pool{New: func() any { return new([]byte) }}
	readBackSlots = make(chan struct{}, maxReadBack)
)

const maxReadBack = 2

// close closes the record and wipes its key.
func (r *partialRecord) close() {
	if r != nil {
		r.closeFile()
		r.mac.Destroy()
	}
}

func (r *partialRecord) remove() {
	if r != nil {
		os.Remove(r.path)
		os.Remove(r.tmp)
	}
}
