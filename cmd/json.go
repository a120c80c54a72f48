package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// With --json, commands print JSON Lines: one object per line, one line per
// archive, so that a listing streams and `jq` reads it as it comes. The
// field names below are a stable interface documented in the README and on
// the man pages (jsonMeanings in manual.go, which a test holds to these
// structs): add fields if needed, never rename or remove one.

// archiveJSON is an archive as list, head and restore print it.
type archiveJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Size is the plaintext size in bytes, null when the object's size is
	// not that of a valid archive.
	Size         *int64 `json:"size"`
	Date         string `json:"date"` // upload time, RFC 3339, UTC
	StorageClass string `json:"storage_class"`
	Status       string `json:"status"` // DEEPS, RECOV, READY or ?????, as in the table
	State        string `json:"state"`  // archived, restoring, restored, available or unknown
	// RestoreExpiry is when a restored copy goes away (RFC 3339, UTC); null
	// unless the state is restored.
	RestoreExpiry *string `json:"restore_expiry"`
	// Mode (four octal digits, setuid, setgid and sticky first) and MTime
	// (RFC 3339 with nanoseconds, UTC) are the file's as put recorded them;
	// absent for standard input, block devices and archives written before
	// ogive recorded them.
	Mode  string `json:"mode,omitempty"`
	MTime string `json:"mtime,omitempty"`
}

// withMeta adds to a what the archive's storage ID records of the file.
func (a archiveJSON) withMeta(m crypt.Meta) archiveJSON {
	if m.HasMode {
		a.Mode = fmt.Sprintf("%04o", m.Mode)
	}
	if m.HasMTime {
		a.MTime = m.MTime.UTC().Format(time.RFC3339Nano)
	}
	return a
}

// restoreJSON is one line of restore --json: the archive as it stands after
// the command, and what restore did about it.
type restoreJSON struct {
	archiveJSON
	// Restore is a restoring.Action: requested (a restore was sent), in_progress (one
	// was already running), already_restored, not_archived (nothing to
	// restore), extended (S3 lengthened a finished restore's copy) or
	// unknown (--all skips an archive whose status S3 did not make clear).
	Restore string `json:"restore"`
	Tier    string `json:"tier"` // the tier asked for: Bulk or Standard
}

// putJSON is one line of put --json, one per uploaded file.
type putJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Size         int64  `json:"size"` // plaintext bytes read
	StorageClass string `json:"storage_class"`
	Entries      int    `json:"entries,omitempty"` // a directory archive's entries
}

// newArchiveJSON describes an archive: plain is its plaintext size (negative
// when unknown), and status its restore state.
func newArchiveJSON(id, name string, plain int64, date time.Time, class string, status object.RestoreStatus) archiveJSON {
	a := archiveJSON{
		ID:           id,
		Name:         name,
		Date:         date.UTC().Format(time.RFC3339),
		StorageClass: class,
		Status:       statusCode(status.State),
		State:        status.State.String(),
	}
	if plain >= 0 {
		a.Size = &plain
	}
	if status.State == object.StateRestored && !status.Expiry.IsZero() {
		exp := status.Expiry.UTC().Format(time.RFC3339)
		a.RestoreExpiry = &exp
	}
	return a
}

// plainSize is the plaintext size of archive a stored in cipher bytes, or
// -1 when cipher is not the size of a valid archive.
func (s *session) plainSize(a *archive.Archive, cipher int64) (int64, error) {
	size := int64(-1)
	err := s.withMasterKey(func(master []byte) error {
		keys, err := a.Keys(master)
		if err != nil {
			return err
		}
		defer keys.Destroy()
		if n, err := keys.PlainSize(cipher); err == nil {
			size = n
		}
		return nil
	})
	return size, err
}

// writeJSONLine prints v as one line of JSON. File names keep their
// characters ("&", "<") rather than HTML escapes: the output is for scripts,
// not web pages.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
