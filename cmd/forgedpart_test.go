package cmd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ogive-project/ogive/internal/crcforge"
	fp "github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
)

// TestForgedPartIsNeverKept has someone with write access to the bucket, and
// no key, watch a put of a file and, just before its Complete, replace part 2
// of the upload with junk of the same size and CRC-32C, both of which
// ListParts tells. The Complete fails (S3 compares the part's ETag with the
// one ogive got when it sent the part) and put says to run it again. The
// second run keeps only the parts whose ETag, S3's MD5 of what it received,
// is the part encrypted again, so it sends part 2 again: put, verify and get
// then all agree with the file.
func TestForgedPartIsNeverKept(t *testing.T) {
	r := newRig(t, rigOptions{})
	data := randomBytes(t, 40<<20)
	src := r.write("victim.bin", data)
	var once sync.Once
	var forgeErr error
	forged := false
	forge := func(req *http.Request) bool {
		if !isCompleteUpload(req) {
			return false
		}
		once.Do(func() {
			id := strings.TrimPrefix(req.URL.Path, "/"+r.srv.Bucket+"/"+r.prefix)
			upload := req.URL.Query().Get("uploadId")
			s := r.directStore()
			parts, err := s.ListParts(context.Background(), id, upload)
			if forgeErr = err; err != nil {
				return
			}
			for _, p := range parts {
				if p.Number != 2 {
					continue
				}
				crc, err := base64.StdEncoding.DecodeString(p.ChecksumCRC32C)
				if err != nil || len(crc) != 4 {
					forgeErr = err
					return
				}
				junk := randomBytes(t, int(p.Size))
				crcforge.Forge(junk, binary.BigEndian.Uint32(crc))
				_, forgeErr = s.UploadPart(context.Background(), id, upload, 2, object.BytesPart(junk))
				forged = forgeErr == nil
			}
		})
		return false
	}
	r.proxy.SetRules(fp.Rule{Match: forge})
	first := r.ogive("", "put", "--password-file", r.pwFile, src)
	r.proxy.SetRules()
	if !forged {
		t.Fatalf("the part was not replaced (%v): %s", forgeErr, first)
	}
	if first.code != 1 {
		t.Fatalf("the put whose part was replaced: want exit 1: %s", first)
	}
	second := r.ogive("", "put", "--password-file", r.pwFile, src)
	if second.code != 0 || !strings.Contains(second.stderr, "resuming: 2 of 3 parts") {
		t.Fatalf("second put: want a resume that keeps 2 parts and sends part 2 again: %s", second)
	}
	id := strings.TrimSpace(second.stdout)
	if v := r.ogive("", "verify", "--password-file", r.pwFile, id, src); v.code != 0 {
		t.Fatalf("verify: %s", v)
	}
	r.restoreAll(id)
	out := r.mkdir("out")
	if get := r.ogive("", "get", "--password-file", r.pwFile, id, out); get.code != 0 {
		t.Fatalf("get: %s", get)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "victim.bin")); !bytes.Equal(got, data) {
		t.Fatal("the archive is not the file")
	}
}
