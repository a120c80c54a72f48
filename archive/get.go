package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

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
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".ogive-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	return &Target{final: path, force: force, f: f}, nil
}

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
			return fmt.Errorf("%s: %w", t.final, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("link to %s: %w", t.final, err)
		}
	}
	return syncDir(filepath.Dir(t.final))
}

// Abort discards a download that did not complete.
func (t *Target) Abort() {
	t.f.Close()
	if !t.device {
		os.Remove(t.f.Name())
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
