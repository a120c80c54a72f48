//go:build linux

package cmd_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/harden"
)

// TestRedteam17LongPasswordLineUnderLockLimit: the check at start accepts
// a limit on locked memory of exactly harden.LockNeed() (64 KiB with 4 KiB
// pages: "still fits a limit of 64 KiB, the default of older Linux kernels
// and of FreeBSD's login class"). Under that limit, a password file whose
// first line is long (here a stray file of 1 MB without a newline, the
// case input's maxLineLen exists for; a line of about 24 KB is enough) is
// read into locked buffers that grow past the limit, and memguard panics
// ("could not acquire lock ... limit reached?", exit 2, a stack trace)
// instead of ogive saying "line longer than 65536 bytes", as it does under
// a higher limit. LockPages does not count the line buffer's growth (the
// old and the new buffer are both locked while it is copied).
func TestRedteam17LongPasswordLineUnderLockLimit(t *testing.T) {
	bin, dir := nobodyCopy(t, buildOgive(t))
	pw := filepath.Join(dir, "missing-password") // the name runLimited gives
	if err := os.WriteFile(pw, bytes.Repeat([]byte("a"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(pw, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	limit := fmt.Sprintf("-l %d", harden.LockNeed()>>10)
	code, _, stderr := runLimited(t, bin, dir, limit, "init", "--bucket", "b", "--region", "us-east-1", "--endpoint", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "line longer than") {
		t.Errorf("under ulimit %s: exit %d, stderr %.300q; want 1 and the line too long", limit, code, stderr)
	}
}
