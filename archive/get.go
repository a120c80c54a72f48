package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

var (
	// ErrExists means the destination file exists and --force was not given.
	ErrExists = errors.New("destination already exists")
	// ErrDeviceTooSmall means a block device cannot hold the archive.
	ErrDeviceTooSmall = errors.New("block device is too small")
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
	final  string
	force  bool
	f      *os.File
	device bool
	record *partialRecord // the progress record of a file download; nil for devices
}

// NewTarget prepares to write path. An existing regular file is refused
// unless force is set; an existing block device is written into.
func NewTarget(path string, force bool) (*Target, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0:
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open block device: %w", err)
		}
		return &Target{final: path, f: f, device: true}, nil
	case err == nil && st.IsDir():
		return nil, fmt.Errorf("%s is a directory", path)
	case err == nil && !force:
		return nil, fmt.Errorf("%s: %w", path, ErrExists)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	// The temporary name is fixed, so that a download interrupted by a
	// crash or an expired restore continues in the next run (see Resume).
	dir, base := filepath.Split(path)
	partial := filepath.Join(dir, "."+base+".ogive-partial")
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is being downloaded by another ogive: %w", path, ErrBusy)
	}
	return &Target{final: path, force: force, f: f, record: &partialRecord{path: partial + ".json"}}, nil
}

// ErrBusy means another process is downloading to the same destination.
var ErrBusy = errors.New("destination busy")

// Device reports whether the target is a block device.
func (t *Target) Device() bool { return t.device }

// CheckSize fails when a block device is smaller than size bytes.
func (t *Target) CheckSize(size int64) error {
	if !t.device {
		return nil
	}
	have, err := unix.IoctlGetInt(int(t.f.Fd()), unix.BLKGETSIZE64)
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

// Resume prepares a download of the object info describes, plainSize
// bytes of plaintext, in chunks of chunkPackages packages: it returns which
// chunks an interrupted earlier run already wrote and authenticated, still
// intact in the temporary file (for DownloadOptions.Skip), and the function
// that records each chunk this run completes (DownloadOptions.Done).
func (t *Target) Resume(info object.Info, plainSize int64, chunkPackages int) (skip func(int) bool, done func(int), err error) {
	if t.record == nil {
		return nil, nil, nil // a device is rewritten from the start
	}
	span := func(i int) (int64, int64) {
		off := int64(i) * int64(chunkPackages) * crypt.PackageSize
		return off, min(int64(chunkPackages)*crypt.PackageSize, plainSize-off)
	}
	key := partialKey{ID: info.Key, Size: info.Size, Modified: info.LastModified.UTC(), ChunkPackages: chunkPackages}
	had := t.record.load(key)
	valid := verify(t.f, had, span)
	if len(valid) == 0 {
		if err := t.f.Truncate(0); err != nil {
			return nil, nil, fmt.Errorf("reset %s: %w", t.f.Name(), err)
		}
	}
	if err := t.record.start(key, had, valid); err != nil {
		return nil, nil, err
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

// Commit makes the download durable and, for a file, gives it its final name.
func (t *Target) Commit() error {
	if err := t.f.Sync(); err != nil {
		t.Abort()
		return fmt.Errorf("sync %s: %w", t.final, err)
	}
	tmp := t.f.Name()
	if err := t.f.Close(); err != nil {
		t.Abort()
		return fmt.Errorf("close %s: %w", t.final, err)
	}
	if t.device {
		return nil
	}
	if t.force {
		err := os.Rename(tmp, t.final)
		if err != nil {
			os.Remove(tmp)
			return fmt.Errorf("rename to %s: %w", t.final, err)
		}
	} else {
		// Link refuses to replace a file that appeared during the download.
		err := os.Link(tmp, t.final)
		os.Remove(tmp)
		if errors.Is(err, os.ErrExist) {
			t.record.remove()
			return fmt.Errorf("%s: %w", t.final, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("link to %s: %w", t.final, err)
		}
	}
	t.record.remove()
	return syncDir(filepath.Dir(t.final))
}

// Abort discards a download that did not complete.
func (t *Target) Abort() {
	t.f.Close()
	if !t.device {
		os.Remove(t.f.Name())
		t.record.remove()
	}
}

// Keep closes a download that did not complete but can continue: its
// temporary file and progress record stay for the next run.
func (t *Target) Keep() {
	t.f.Sync()
	t.f.Close()
}

// Partial is the temporary file of a download that did not complete.
func (t *Target) Partial() string {
	if t.device {
		return ""
	}
	return t.f.Name()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
