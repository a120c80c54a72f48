package archive

import (
	"bytes"
	"testing"

	"github.com/ogive-project/ogive/crypt"
)

// What a multipart put stores is the encrypted stream, unless this is the
// benchmark build, where it is the file itself. "make test" runs this in the
// real build and "make lint" in the benchmark one, so both halves of the
// switch are checked.
func TestBenchmarkPlaintextSwitch(t *testing.T) {
	r := newResumeRig(t, 20<<20+7) // two parts
	mem := standardStore()
	res, err := r.putStandard(mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := body(t, mem, res.ID)
	if BenchmarkPlaintext {
		if !bytes.Equal(stored, r.data) {
			t.Errorf("benchmark build stored %d bytes that are not the file", len(stored))
		}
		return
	}
	if int64(len(stored)) != crypt.EncryptedSize(int64(len(r.data))) || bytes.Contains(stored, r.data[:4096]) {
		t.Errorf("stored %d bytes that are not the encrypted stream of the %d-byte file", len(stored), len(r.data))
	}
}
