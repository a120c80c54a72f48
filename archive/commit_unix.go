//go:build unix

package archive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// nameFinal gives the open file, still under its temporary name tmp, its final name
// and no other. It links the open file (linkOpen) to the final name, which replaces
// nothing, or with force to a fresh random name that it then renames over the final
// one; removes tmp; and fails if the file still has a name besides the new one.
func (t *Target) nameFinal(tmp string) error {
	name, err := t.link()
	if err != nil {
		return err
	}
	t.removeIfHeld(tmp)
	if n, err := links(t.f); err != nil || n != 1 {
		// The temporary file was moved to another name before it was
		// linked: a name someone else chose would hold the plaintext as
		// long as the final one. The name just linked goes; the other one
		// is out of reach.
		t.removeIfHeld(name)
		t.record.remove()
		t.wipe()
		return fmt.Errorf("%s has a name besides %s: %w", tmp, name, ErrTempReplaced)
	}
	if name != t.final {
		// Rename replaces a file, or a symbolic link itself, at the final name.
		if err := os.Rename(name, t.final); err != nil {
			t.removeIfHeld(name)
			t.record.remove()
			return fmt.Errorf("rename to %s: %w", t.final, err)
		}
	}
	return nil
}

// link gives the open file a second name beside its temporary one, and
// returns it: the final name, with a link, which never replaces anything;
// or with force a fresh random name, which Commit renames over the final one.
func (t *Target) link() (string, error) {
	if !t.force {
		err := linkOpen(t.f, t.final)
		if errors.Is(err, os.ErrExist) {
			// A file appeared at the final name during the download.
			t.discard()
			return "", fmt.Errorf("%s: %w", t.final, ErrExists)
		}
		return t.final, t.linkFailed(err)
	}
	for range 3 {
		fresh := filepath.Join(filepath.Dir(t.final), hashedPrefix+randomHex(16))
		if err := linkOpen(t.f, fresh); !errors.Is(err, os.ErrExist) {
			return fresh, t.linkFailed(err)
		}
	}
	return "", t.linkFailed(os.ErrExist)
}

// linkFailed says why the open file could not be linked: most likely its
// temporary name no longer holds it (a file that no name holds cannot be
// linked again); otherwise the download is discarded.
func (t *Target) linkFailed(err error) error {
	if err == nil {
		return nil
	}
	if ours, _ := t.holds(t.f.Name()); !ours {
		return fmt.Errorf("%s: %w", t.f.Name(), ErrTempReplaced)
	}
	t.discard()
	return fmt.Errorf("link to %s: %w", t.final, err)
}
