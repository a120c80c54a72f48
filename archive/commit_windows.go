package archive

import (
	"errors"
	"fmt"
	"io/fs"
)

// nameFinal gives the open file, still under its temporary name tmp, its final name
// and no other, by renaming the open file (renameOpen): with force over whatever is at
// the final name, without only if nothing is. Nothing is linked or removed, so a file
// system without hard links (FAT32, exFAT) is written to as NTFS is, and no removed
// name lingers until the file is closed.
func (t *Target) nameFinal(tmp string) error {
	err := renameOpen(t.f, t.final, t.force)
	switch {
	case err == nil:
		return nil
	case !t.force && errors.Is(err, fs.ErrExist):
		// A file appeared at the final name during the download.
		t.discard()
		return fmt.Errorf("%s: %w", t.final, ErrExists)
	}
	if ours, herr := t.holds(tmp); !ours {
		// Moved to a name someone else chose since Commit looked: as then, the
		// plaintext is wiped from under it.
		if herr == nil {
			t.wipe()
		}
		return fmt.Errorf("%s: %w", tmp, ErrTempReplaced)
	}
	t.discard()
	return fmt.Errorf("rename to %s: %w", t.final, err)
}
