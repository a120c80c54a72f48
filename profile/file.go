package profile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

const backupSuffix = ".bak"

// readFile reads a profile file, refusing one that others can read or
// that is larger than any profile can be.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrNotExist, err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Stat the open file, not the path, so the checks apply to what is read.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if err := checkPrivate(fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, maxFileSize)
	}
	return data, nil
}

// checkAbsent reports ErrExists if anything, even a dangling symlink, is at path.
func checkAbsent(path string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return ErrExists
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return err
	}
}

// existingFile resolves symlinks so that Replace updates the file a link
// points to rather than replacing the link.
func existingFile(path string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %w", ErrNotExist, err)
	}
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(target)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	return target, nil
}

// writeNew puts data at path without ever overwriting: the data is written
// and synced under a temporary name, then hard-linked to path, which fails
// if path exists.
func writeNew(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := writeTemp(dir, filepath.Base(path), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		return err
	}
	return syncDir(dir)
}

// writeOver copies the file at path to path+".bak", then atomically
// replaces path with data. Copying rather than renaming the old file means
// path never goes missing, even if ogive dies halfway.
func writeOver(path string, data []byte) error {
	dir, base := filepath.Dir(path), filepath.Base(path)
	old, err := os.Open(path)
	if err != nil {
		return err
	}
	defer old.Close()
	bak, err := writeTemp(dir, base+backupSuffix, func(w io.Writer) error {
		_, err := io.Copy(w, old)
		return err
	})
	if err != nil {
		return fmt.Errorf("back up old profile: %w", err)
	}
	defer os.Remove(bak) // a no-op once renamed
	if err := os.Rename(bak, path+backupSuffix); err != nil {
		return fmt.Errorf("back up old profile: %w", err)
	}

	tmp, err := writeTemp(dir, base, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeTemp creates a 0600 file next to its final name, fills it with
// write and syncs it. It returns the file's name; on error nothing is left.
func writeTemp(dir, base string, write func(io.Writer) error) (name string, err error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// CreateTemp's mode is subject to the umask; make it exact.
	if err := f.Chmod(0o600); err != nil {
		return "", err
	}
	if err := write(f); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}
