package cmd_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ogive-project/ogive/crypt"
	fp "github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
)

// TestPutNeverOverwritesARacedObject has someone with write access to the
// bucket put an object, of the very size of the archive, under the storage
// ID of a put that is running, just before its last request (the Complete
// of a multipart upload, or the single PutObject of a small file). The put
// refuses to replace it, says so with a hint and fails; the object stays
// byte for byte as it was, and no upload or resume record is left behind.
func TestPutNeverOverwritesARacedObject(t *testing.T) {
	r := newRig(t, rigOptions{})
	for _, c := range []struct {
		name  string
		size  int
		last  func(*http.Request) bool
		stdin bool
	}{
		{"multipart/file", 21 << 20, isCompleteUpload, false},
		{"multipart/stdin", 21 << 20, isCompleteUpload, true},
		{"put/file", 1000, isPutObject, false},
		{"put/stdin", 1000, isPutObject, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := randomBytes(t, c.size)
			raced := randomBytes(t, int(crypt.EncryptedSize(int64(c.size))))
			var (
				once    sync.Once
				id      string
				raceErr error
			)
			race := func(req *http.Request) bool {
				if c.last(req) {
					once.Do(func() {
						id = strings.TrimPrefix(req.URL.Path, "/"+r.srv.Bucket+"/"+r.prefix)
						raceErr = r.directStore().Put(context.Background(), id, raced, object.PutOptions{})
					})
				}
				return false
			}
			r.proxy.SetRules(fp.Rule{Match: race})
			args := []string{"put", "--password-file", r.pwFile}
			stdin := ""
			if c.stdin {
				stdin = string(data)
				args = append(args, "--name", "piped.bin", "-")
			} else {
				args = append(args, r.write(strings.ReplaceAll(c.name, "/", "-")+".bin", data))
			}
			res := r.ogive(stdin, args...)
			r.proxy.SetRules()
			if id == "" || raceErr != nil {
				t.Fatalf("the race did not happen: %q, %v", id, raceErr)
			}
			if res.code != 1 || !strings.Contains(res.stderr, "object already exists") ||
				!strings.Contains(res.stderr, "hint: another object already holds this storage ID") {
				t.Errorf("put onto a raced object: %s", res)
			}
			stored, err := os.ReadFile(r.objectPath(id))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stored, raced) {
				t.Errorf("the raced object was changed: %d bytes", len(stored))
			}
			// Nothing is left to resume onto the raced key: no upload, no record.
			uploads, err := r.directStore().ListUploads(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range uploads {
				if u.Key == id {
					t.Errorf("upload left behind: %+v", u)
				}
			}
			if res := r.ogive("", "uploads", "--password-file", r.pwFile); res.code != 0 || strings.Contains(res.stdout, id) {
				t.Errorf("uploads still shows the upload: %s", res)
			}
		})
	}
}
