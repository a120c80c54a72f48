package object

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

type redteam15Failing struct{ err error }

func (r redteam15Failing) Read([]byte) (int, error) { return 0, r.err }

// TestRedteam15RewindAfterErrorAtStart: PartBody promises that Open is
// called again for each attempt, and the S3 store relies on the SDK's
// rewind (Seek to the start) for that. rewindable reopens only when the
// offset moves: a body whose first read fails (a transient EIO from NFS or
// FUSE, a reopen that fails once) leaves w.err set at offset 0, the SDK's
// Seek(0, SeekStart) is then a no-op, and every later attempt fails with the
// cached error without opening the body again. A failure one byte later
// is retried with a fresh Open: the outcome depends on where it happened.
func TestRedteam15RewindAfterErrorAtStart(t *testing.T) {
	data := []byte("the part's bytes")
	opens := 0
	body := PartBody{
		Size:   int64(len(data)),
		CRC32C: ChecksumCRC32C(data),
		Open: func() (io.Reader, error) {
			opens++
			if opens == 1 {
				return redteam15Failing{errors.New("input/output error")}, nil
			}
			return bytes.NewReader(data), nil
		},
	}
	w := newRewindable(body)
	if _, err := io.ReadAll(w); err == nil {
		t.Fatal("first attempt: no error")
	}
	// What the SDK's retry middleware does before the next attempt.
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(w)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("second attempt after a rewind: %q, %v (body opened %d times); want the body opened again", got, err, opens)
	}
}
