//go:build !linux

package extract

import (
	"os"
	"time"
)

// syncEach makes each file durable as it is written, where there is no
// syncfs(2) to sync a whole batch at once.
func syncEach(f *os.File) error { return f.Sync() }

// syncData has nothing to do: syncEach synced every file.
func (x *Extractor) syncData() error { return nil }

// syncMeta syncs each directory this run made, once its mode and time are
// set.
func (x *Extractor) syncMeta(made []string) error {
	for _, rel := range made {
		if err := syncDir(x.root, fsPath(rel)); err != nil {
			return err
		}
	}
	return nil
}

// setFileTime sets the modification time of the temporary tmp by its name
// in the root (futimens, to the nanosecond, is not everywhere), in a
// directory no one else may enter while the extraction runs.
func (x *Extractor) setFileTime(_ *os.File, tmp string, mtime time.Time) error {
	return x.root.Chtimes(tmp, time.Time{}, mtime)
}

// processUmask is the umask when the process started: reading it again
// would set it, racing with files other goroutines create.
func processUmask() uint32 { return startUmask }
