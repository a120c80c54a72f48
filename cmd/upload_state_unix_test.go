//go:build unix

package cmd_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRecordSymlinkIsNotFollowed plants, where put keeps the record of a
// file's upload, a symbolic link to a FIFO, which a plain open would wait on
// for ever, and then to another file of the victim's: put must neither read
// the link nor write through it.
func TestRecordSymlinkIsNotFollowed(t *testing.T) {
	r := newRig(t, rigOptions{})
	bin := buildOgive(t)
	path := r.write("big.bin", randomBytes(t, 17<<20))
	fifo := filepath.Join(r.dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	victim := r.write("victim.txt", []byte("precious\n"))
	uploads := filepath.Join(r.env["XDG_STATE_HOME"], "ogive", "uploads")
	if err := os.MkdirAll(uploads, 0o700); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(r.srv.Bucket + "\x00" + r.prefix + "\x00" + path))
	record := filepath.Join(uploads, hex.EncodeToString(h[:12])+".json")
	for _, target := range []string{fifo, victim} {
		if err := os.Symlink(target, record); err != nil {
			t.Fatal(err)
		}
		p := r.start(t, bin, nil, "put", "--password-file", r.pwFile, path)
		select {
		case <-p.done:
		case <-time.After(time.Minute):
			t.Fatalf("put with the record linked to %s still runs after a minute: %s", target, p.stderr.String())
		}
		if code := p.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(p.stderr.String(), "is a symbolic link") {
			t.Fatalf("put with the record linked to %s: exit %d: %s", target, code, p.stderr.String())
		}
		if _, err := os.Lstat(record); !os.IsNotExist(err) {
			t.Errorf("record left after the put: %v", err)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("the symlink's target was written: %q", b)
	}
}
