package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

var (
	// ErrExists means the destination file exists and --force was not given.
	ErrExists = errors.New("destination already exists")
	// ErrDeviceTooSmall means a block device cannot hold the archive.
	ErrDeviceTooSmall = errors.New("block device is too small")
	// ErrNoDevices means the system has no devices ogive reads or writes (Windows).
	ErrNoDevices = errors.New("devices are not supported on this system")
	// ErrUnsafeName means a decrypted file name cannot be used as a file name here.
	ErrUnsafeName = errors.New("archived file name is not a safe file name")
)

// Locate looks the object up before a download: its ciphertext size, and
// whether Deep Archive will serve it at all. An archive that is not restored
// fails here with object.ErrNotRestored, before anything is written.
func Locate(ctx context.Context, s object.Store, id string) (object.Info, error) {
	info, err := s.Head(ctx, id)
	if err != nil {
		return info, err
	}
	switch info.Status.State {
	case object.StateArchived:
		return info, fmt.Errorf("%s is archived: %w", id, object.ErrNotRestored)
	case object.StateRestoring:
		return info, fmt.Errorf("%s is still being restored: %w", id, object.ErrNotRestored)
	}
	return info, nil
}

// SafeName checks that a decrypted name is a plain file name, so a crafted
// archive cannot steer a download outside the destination directory.
func SafeName(name string) error {
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
		return fmt.Errorf("%q: %w", name, ErrUnsafeName)
	}
	return nil
}

// Target is where a download lands. A regular file is written under a
// temporary name in the same directory and renamed only once every byte has
// authenticated; a block device is written in place.
type Target struct {
	final   string
	force   bool
	f       *os.File
	device  bool
	size    int64          // the plaintext's size, from Resume; -1 before
	record  *partialRecord // the progress record of a resumable file download; nil otherwise
	existed bool           // the temporary file was left by an earlier run
	suspect *Suspect
	meta    crypt.Meta // applied by Commit to a file
}

// NewTarget prepares to write path. An existing regular file is refused
// unless force is set; an existing block device is written into. A
// symbolic link is never written through: it is refused, or with force
// replaced by the file.
func NewTarget(path string, force bool) (*Target, error) {
	if DevicePath(path) {
		return nil, fmt.Errorf("%s: %w", path, ErrNoDevices)
	}
	st, err := os.Lstat(path)
	switch {
	case err == nil && st.Mode()&os.ModeSymlink != 0:
		if !force {
			return nil, fmt.Errorf("%s: %w; refusing to write through it", path, ErrSymlink)
		}
	case err == nil && st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0:
		return openDevice(path)
	case err == nil && st.IsDir():
		return nil, fmt.Errorf("%s is a directory", path)
	case err == nil && !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is %s: %w", path, kind(st.Mode()), ErrSpecialFile)
	case err == nil && !force:
		return nil, fmt.Errorf("%s: %w", path, ErrExists)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	// The temporary name is fixed, so that a download interrupted by a
	// crash or an expired restore continues in the next run (see Resume).
	dir, base := filepath.Split(path)
	c, err := claimPartial(dir, base)
	if err != nil {
		return nil, err
	}
	t := &Target{final: path, force: force, f: c.f, size: -1, existed: c.existed, suspect: c.suspect}
	if c.resumable {
		p := c.f.Name()
		t.record = &partialRecord{path: p + recordSuffix, tmp: p + recordTmpSuffix}
	}
	return t, nil
}

// kind names a file type that get does not write to.
func kind(m os.FileMode) string {
	switch {
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

var (
	// ErrBusy means another process is downloading to the same destination.
	ErrBusy = errors.New("destination busy")
	// ErrSymlink means the destination is a symbolic link and --force was not given.
	ErrSymlink = errors.New("destination is a symbolic link")
	// ErrSpecialFile means the destination is a device, pipe or socket that
	// get neither writes into (only block devices) nor replaces.
	ErrSpecialFile = errors.New("neither a file nor a block device")
	// ErrTempReplaced means the download's temporary file was moved or
	// replaced by someone else while it was being written.
	ErrTempReplaced = errors.New("temporary file was replaced during the download")
	// ErrTempChanged means the download's temporary file does not hold what
	// was downloaded into it: something else wrote to it, or cut it.
	ErrTempChanged = errors.New("temporary file changed during the download")
)

// SetMeta makes Commit give a file download the mode and modification time meta
// records (the archive's, from its storage ID). Only the permission bits 0777, less
// the umask, are applied, never setuid, setgid or sticky; a block device gets nothing.
func (t *Target) SetMeta(meta crypt.Meta) { t.meta = meta }

// setTime gives the open file, complete and synced, the archive's modification time,
// through its descriptor (futimens acts on the file written, whatever its name holds by
// now), before the file gets its final name: a time tells no one anything the name
// would not. A failure is returned for Commit to report, not to fail on.
func (t *Target) setTime() error {
	if !t.meta.HasMTime {
		return nil
	}
	if err := applyMTime(t.f, t.meta.MTime); err != nil {
		return fmt.Errorf("its modification time could not be set: %w", err)
	}
	return nil
}

// applyMTime is setMTime; a test makes it fail as a file system that keeps no such
// times would (the local file systems the tests use clamp any time they are given).
var applyMTime = setMTime

// setMode gives the file the archive's permission bits, less the umask (restoredMode),
// once Commit has checked that the final name holds it and no other name does. Until
// then the file stays 0600: a file others may read and write, fs.protected_hardlinks
// lets them link, and a second name would fail the download. fchmod acts on the file
// written, whatever its names hold by now. The mode and time are then synced.
func (t *Target) setMode() error {
	if t.meta.HasMode {
		if err := t.f.Chmod(os.FileMode(restoredMode(t.meta.Mode))); err != nil {
			return fmt.Errorf("its mode could not be set: %w", err)
		}
	}
	if t.meta.Empty() {
		return nil
	}
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("its mode and modification time may not be on disk yet: %w", err)
	}
	return nil
}

// MetaError is Commit's report that the download is complete, authenticated and under
// its final name, but that the archive's mode or modification time could not be given
// to it (a file system that keeps no such times, say). The file is kept: it holds every
// byte of the archive. A caller prints it as a warning, not as a failure.
type MetaError struct {
	Path string
	Errs []error // the mode's error, the time's, or both
}

func (e *MetaError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("%s is downloaded and kept, but %s", e.Path, strings.Join(msgs, "; "))
}

func (e *MetaError) Unwrap() []error { return e.Errs }

// Device reports whether the target is a block device.
func (t *Target) Device() bool { return t.device }

// Suspect is the file that NewTarget found under the temporary name and
// would not use, or the record that Resume could not replace, or nil.
func (t *Target) Suspect() *Suspect { return t.suspect }

// CheckSize fails when a block device is smaller than size bytes.
func (t *Target) CheckSize(size int64) error {
	if !t.device {
		return nil
	}
	have, err := DeviceSize(t.f)
	if err != nil {
		return fmt.Errorf("size of %s: %w", t.final, err)
	}
	if int64(have) < size {
		return fmt.Errorf("%s holds %d bytes, the archive %d: %w", t.final, have, size, ErrDeviceTooSmall)
	}
	return nil
}

// File is where the plaintext goes, at its offsets.
func (t *Target) File() io.WriterAt { return t.f }

// Resume prepares a download of the object info describes, decrypted with
// keys, in chunks of chunkPackages packages: it returns which chunks an
// interrupted earlier run already wrote and authenticated, still intact in
// the temporary file (for DownloadOptions.Skip), and the function that
// records each chunk this run completes (DownloadOptions.Done). A chunk is
// resumed only if its bytes in the file carry the range MAC recorded for it.
// A file download must call it before writing: Commit gives the final name
// only to a file of the plaintext size it learns here.
func (t *Target) Resume(keys crypt.Decrypter, info object.Info, chunkPackages int) (skip func(int) bool, done func(int), err error) {
	plainSize, err := keys.PlainSize(info.Size)
	if err != nil {
		return nil, nil, err
	}
	t.size = plainSize
	if t.record == nil {
		return nil, nil, nil // a device, or a one-off file, is written from the start
	}
	if t.record.mac == nil {
		if t.record.mac, err = keys.RangeMAC(); err != nil {
			return nil, nil, err
		}
	}
	span := func(i int) (int64, int64) {
		off := int64(i) * int64(chunkPackages) * crypt.PackageSize
		return off, min(int64(chunkPackages)*crypt.PackageSize, plainSize-off)
	}
	chunks := int((crypt.PackageCount(plainSize) + uint64(chunkPackages) - 1) / uint64(chunkPackages))
	key := partialKey{ID: info.Key, Size: info.Size, Modified: info.LastModified.UTC(), ChunkPackages: chunkPackages}
	var had map[int][]byte
	var valid map[int]bool
	if t.existed {
		had = t.record.load(key, chunks)
		valid = verify(t.f, had, span, t.record.mac, chunkPackages)
	}
	// The tags prove the resumed ranges, and nothing past the archive's end:
	// the file cut there cannot keep a tail that was never in it (another of
	// the user's own private files renamed over the partial passes every
	// check of claimPartial). A file that resumes nothing starts empty.
	keep := plainSize
	if len(valid) == 0 {
		keep = 0
	}
	if err := t.f.Truncate(keep); err != nil {
		return nil, nil, fmt.Errorf("reset %s: %w", t.f.Name(), err)
	}
	if err := t.record.start(key, had, valid); err != nil {
		// Another user's file under the record's name in a sticky directory,
		// say: the download goes on without a record, rewriting every range,
		// and a later run will not resume it.
		t.suspect = &Suspect{Path: t.record.path, Problem: "it cannot be replaced", Err: err, Using: t.f.Name()}
		t.record.close()
		t.record = nil
		return nil, nil, nil
	}
	return func(i int) bool { return valid[i] }, func(i int) {
		off, n := span(i)
		t.record.done(t.f, i, off, n)
	}, nil
}

// Resumed is how many chunks Resume found already downloaded.
func (t *Target) Resumed() int {
	if t.record == nil {
		return 0
	}
	return t.record.resumed
}

// Commit makes the download durable and, for a file, gives it its final
// name. The file stays open until then, and the name is given to the open
// file (nameFinal: a link on Unix, a rename of the handle on Windows), not to
// its temporary name, which anyone who can write the directory may swap at any
// instant. Commit succeeds only if, with the file still open, the final name
// holds it, and no other name does.
func (t *Target) Commit() error {
	if t.device {
		err := t.f.Sync()
		if cerr := t.f.Close(); err == nil && cerr != nil {
			return fmt.Errorf("close %s: %w", t.final, cerr)
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", t.final, err)
		}
		return nil
	}
	defer t.record.close()
	// The data is synced before the file gets a name: closing it reports
	// nothing that matters after that.
	defer t.f.Close()
	if err := t.f.Sync(); err != nil {
		t.discard()
		return fmt.Errorf("sync %s: %w", t.final, err)
	}
	if err := t.checkSize(); err != nil {
		t.discard()
		return err
	}
	var metaErrs []error
	if err := t.setTime(); err != nil {
		metaErrs = append(metaErrs, err)
	}
	tmp := t.f.Name()
	ours, err := t.holds(tmp)
	if err != nil {
		t.discard()
		return fmt.Errorf("check %s: %w", tmp, err)
	}
	if !ours {
		// Someone moved the file away, or put another in its place: a
		// download that ends like this gets no final name, and its
		// plaintext is wiped from under whatever name now holds it.
		t.wipe()
		return fmt.Errorf("%s: %w", tmp, ErrTempReplaced)
	}
	if err := t.nameFinal(tmp); err != nil {
		return err
	}
	t.record.remove()
	// Someone could have put another file at the final name since, and
	// moved the download to a name of their choosing.
	if ours, err := t.holds(t.final); err != nil || !ours {
		if err == nil {
			t.wipe()
		}
		return fmt.Errorf("%s does not hold the download: %w", t.final, ErrTempReplaced)
	}
	if err := t.setMode(); err != nil {
		metaErrs = append(metaErrs, err)
	}
	if err := syncDir(filepath.Dir(t.final)); err != nil {
		return err
	}
	if len(metaErrs) > 0 {
		return &MetaError{Path: t.final, Errs: metaErrs}
	}
	return nil
}

// checkSize fails unless the open file, a file download's, holds exactly
// the plaintext's size: the bytes the download wrote, no more, no fewer.
func (t *Target) checkSize() error {
	if t.device {
		return nil
	}
	if t.size < 0 {
		return fmt.Errorf("commit %s: the archive's size is unknown (Resume was not called)", t.f.Name())
	}
	fi, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("check %s: %w", t.f.Name(), err)
	}
	if fi.Size() != t.size {
		return fmt.Errorf("%s holds %d bytes, the archive %d: %w", t.f.Name(), fi.Size(), t.size, ErrTempChanged)
	}
	return nil
}

// holds reports whether the name path still holds the target's open file.
func (t *Target) holds(path string) (bool, error) {
	if t.device {
		return true, nil
	}
	mine, err := t.f.Stat()
	if err != nil {
		return false, err
	}
	there, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(mine, there), nil
}

// Abort discards a download that did not complete. A temporary name that
// no longer holds the download's file is left alone.
func (t *Target) Abort() {
	defer t.record.close()
	defer t.f.Close()
	if !t.device {
		t.discard()
	}
}

// discard removes a file download's temporary file, if its name still holds
// it, and its record.
// wipe empties the open file when a name someone else chose may hold it, so
// that no plaintext stays behind under that name. The user keeps nothing of
// such a download: it is run again.
func (t *Target) wipe() {
	_ = t.f.Truncate(0)
	_ = t.f.Sync()
}

func (t *Target) discard() {
	t.removeIfHeld(t.f.Name())
	t.record.remove()
}

// removeIfHeld removes the name path if it holds the target's open file.
func (t *Target) removeIfHeld(path string) {
	if ours, _ := t.holds(path); ours {
		os.Remove(path)
	}
}

// Keep closes a download that did not complete but can continue: its
// temporary file and progress record stay for the next run. It returns the
// temporary file, or "" when there is nothing a next run could resume: a
// device, or a one-off file, which Keep discards.
func (t *Target) Keep() string {
	if t.device || t.record == nil {
		t.Abort()
		return ""
	}
	defer t.record.close()
	t.f.Sync()
	t.f.Close()
	return t.f.Name()
}
