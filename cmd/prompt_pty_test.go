//go:build unix

package cmd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogive-project/ogive/internal/ptytest"
)

const ptyTimeout = 30 * time.Second

// rm at a terminal names the archive and asks, reading the answer from the
// terminal even when stdin carries the password (and a "y" after it):
// Enter is no, and nothing is deleted; "y" deletes. --force stays the cost
// override only: without it a young archive is refused before any question.
func TestTerminalRmAsks(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.put(r.write("big.bin", randomBytes(t, 200<<10)))[0]

	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"rm", id}, Stdin: strings.NewReader(rigPassword + "\ny\n")})
	if code := tm.Wait(ptyTimeout); code != 1 || strings.Contains(tm.Raw(), "[y/N]") ||
		!strings.Contains(tm.ScreenText(), "add --force") {
		t.Fatalf("rm of a young archive without --force: exit %d\n%s", code, tm.ScreenText())
	}

	tm = r.terminal(t, 24, 80, ptytest.Options{Args: []string{"rm", "--force", id}, Stdin: strings.NewReader(rigPassword + "\ny\n")})
	tm.WaitFor("for good? [y/N] ", ptyTimeout)
	if raw := tm.Raw(); !strings.Contains(raw, "Delete big.bin (200.1 KiB, "+id+") for good? [y/N] ") ||
		!strings.Contains(raw, "charged for the remaining") {
		t.Errorf("question:\n%s", tm.ScreenText())
	}
	tm.Type("\r")
	if code := tm.Wait(ptyTimeout); code != 1 || !strings.Contains(tm.ScreenText(), "ogive: not confirmed: nothing was deleted") {
		t.Fatalf("rm answered with Enter: exit %d\n%s", code, tm.ScreenText())
	}
	if !r.exists(t, id) {
		t.Fatal("the archive was deleted after Enter (no)")
	}

	tm = r.terminal(t, 24, 80, ptytest.Options{Args: []string{"rm", "--force", id}, Stdin: strings.NewReader(rigPassword + "\n")})
	tm.WaitFor("for good? [y/N] ", ptyTimeout)
	tm.Type("y\r")
	if code := tm.Wait(ptyTimeout); code != 0 || !strings.Contains(tm.ScreenText(), "Deleted big.bin") {
		t.Fatalf("rm answered y: exit %d\n%s", code, tm.ScreenText())
	}
	if r.exists(t, id) {
		t.Error("the archive is still there after y")
	}
}

// Several archives: one question listing each with its size and ID, and
// the total; --yes asks nothing.
func TestTerminalRmSeveralAsksOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	ids := r.put(r.write("a.bin", randomBytes(t, 1<<20)), r.write("b.bin", randomBytes(t, 2<<20)))
	args := append([]string{"rm", "--force", "--password-file", r.pwFile}, ids...)
	tm := r.terminal(t, 24, 120, ptytest.Options{Args: args})
	tm.WaitFor("for good? [y/N] ", ptyTimeout)
	screen := tm.ScreenText()
	for _, want := range []string{"About to delete 2 archives:\r\n", "  a.bin  1.0 MiB  " + ids[0] + "\r\n", "  b.bin  2.0 MiB  " + ids[1] + "\r\n",
		"Delete these 2 archives (3.0 MiB in all) for good? [y/N] "} {
		if !strings.Contains(tm.Raw(), want) {
			t.Errorf("question lacks %q:\n%s", want, screen)
		}
	}
	if strings.Count(tm.Raw(), "[y/N]") != 1 {
		t.Errorf("asked more than once:\n%s", screen)
	}
	tm.Type("no\r")
	if code := tm.Wait(ptyTimeout); code != 1 || !r.exists(t, ids[0]) || !r.exists(t, ids[1]) {
		t.Fatalf("rm answered no: exit %d\n%s", code, tm.ScreenText())
	}

	tm = r.terminal(t, 24, 120, ptytest.Options{Args: append([]string{"rm", "--yes"}, args[1:]...)})
	if code := tm.Wait(ptyTimeout); code != 0 || strings.Contains(tm.Raw(), "[y/N]") || r.exists(t, ids[0]) || r.exists(t, ids[1]) {
		t.Fatalf("rm --yes: exit %d\n%s", code, tm.ScreenText())
	}
}

// uploads lists each unfinished upload with the parts and bytes the bucket
// holds, under a header on stderr; uploads --abort at a terminal says what
// it throws away and asks first.
func TestTerminalUploadsAbortAsks(t *testing.T) {
	r := newRig(t, rigOptions{})
	path := r.unfinishedUpload(t, "big.bin")
	// Part 1 is sent alongside part 2, so it may have been cut short too.
	sent := map[int]string{0: "0 parts, 0 B", 1: "1 part, 16.0 MiB"}[bucketParts(t, r)]
	if sent == "" {
		t.Fatalf("the bucket holds %d parts", bucketParts(t, r))
	}

	list := r.ogive("", "uploads", "--password-file", r.pwFile)
	if list.code != 0 || !strings.HasPrefix(list.stderr, "STARTED (UTC)     STORAGE ID  NAME  SOURCE  (WHERE, UPLOAD ID, PARTS AND BYTES SENT)\n") ||
		!strings.Contains(list.stdout, "  big.bin  "+path+"  (bucket, upload ") || !strings.HasSuffix(list.stdout, ", "+sent+" sent)\n") ||
		strings.Count(list.stdout, "\n") != 1 {
		t.Fatalf("uploads: %s", list)
	}

	tm := r.terminal(t, 24, 100, ptytest.Options{Args: []string{"uploads", "--abort", "--password-file", r.pwFile}})
	tm.WaitFor("[y/N] ", ptyTimeout)
	if screen := tm.ScreenText(); !strings.Contains(screen, "Abort 1 unfinished upload and throw away what they sent ("+sent+")? [y/N]") ||
		!strings.Contains(screen, "  big.bin  ") {
		t.Errorf("question:\n%s", screen)
	}
	tm.Type("\r")
	if code := tm.Wait(ptyTimeout); code != 1 || !strings.Contains(tm.ScreenText(), "ogive: not confirmed: no upload was aborted") {
		t.Fatalf("uploads --abort answered Enter: exit %d\n%s", code, tm.ScreenText())
	}
	if _, uploads := bucketState(t, r); uploads != 1 {
		t.Fatalf("%d unfinished uploads after no, want 1", uploads)
	}

	tm = r.terminal(t, 24, 100, ptytest.Options{Args: []string{"uploads", "--abort", "--password-file", r.pwFile}})
	tm.WaitFor("[y/N] ", ptyTimeout)
	tm.Type("yes\r")
	if code := tm.Wait(ptyTimeout); code != 0 || !strings.Contains(tm.ScreenText(), "Aborted the upload of big.bin") {
		t.Fatalf("uploads --abort answered yes: exit %d\n%s", code, tm.ScreenText())
	}
	if _, uploads := bucketState(t, r); uploads != 0 {
		t.Errorf("%d unfinished uploads after yes", uploads)
	}
}

// bucketParts is the number of parts of the bucket's one unfinished upload.
func bucketParts(t *testing.T, r *rig) int {
	t.Helper()
	s := r.directStore()
	uploads, err := s.ListUploads(context.Background())
	if err != nil || len(uploads) != 1 {
		t.Fatalf("%d unfinished uploads, %v", len(uploads), err)
	}
	parts, err := s.ListParts(context.Background(), uploads[0].Key, uploads[0].UploadID)
	if err != nil {
		t.Fatal(err)
	}
	return len(parts)
}

// restore --all at a terminal asks with the estimated cost before sending
// anything.
func TestTerminalRestoreAllAsks(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.put(r.write("big.bin", randomBytes(t, 1<<20)))
	tm := r.terminal(t, 24, 160, ptytest.Options{Args: []string{"restore", "--all", "--password-file", r.pwFile}})
	tm.WaitFor("Send 1 restore request? [y/N] ", ptyTimeout)
	if !strings.Contains(tm.ScreenText(), "Estimated cost: Bulk retrieval of 1 archive, 1.0 MiB") {
		t.Errorf("no estimate with the question:\n%s", tm.ScreenText())
	}
	tm.Type("n\r")
	if code := tm.Wait(ptyTimeout); code != 1 || !strings.Contains(tm.ScreenText(), "ogive: not confirmed: no restore was requested") {
		t.Fatalf("restore --all answered n: exit %d\n%s", code, tm.ScreenText())
	}
	// Nothing was sent: without a terminal, restore --all still finds the
	// archive to restore, and sends its request without asking.
	res := r.ogive("", "restore", "--all", "--password-file", r.pwFile)
	if res.code != 0 || !strings.Contains(res.stderr, "Estimated cost: Bulk retrieval of 1 archive") || strings.Contains(res.stderr, "[y/N]") {
		t.Fatalf("restore --all without a terminal: %s", res)
	}
}

// A mistyped password is asked for again at the terminal, up to three
// tries; a piped one fails at once.
func TestTerminalPasswordTries(t *testing.T) {
	r := newRig(t, rigOptions{})
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"list"}})
	tm.WaitFor("Enter password: ", ptyTimeout)
	tm.Type("wrong-one\r")
	tm.WaitFor("Wrong password; try again.", ptyTimeout)
	tm.Type(rigPassword + "\r")
	if code := tm.Wait(ptyTimeout); code != 0 || !strings.Contains(tm.ScreenText(), "STORAGE ID") {
		t.Fatalf("second try right: exit %d\n%s", code, tm.ScreenText())
	}

	tm = r.terminal(t, 24, 80, ptytest.Options{Args: []string{"list"}})
	for i := range 3 {
		tm.WaitScreen("prompt", ptyTimeout, func(rows []string) bool {
			return strings.Count(strings.Join(rows, "\n"), "Enter password:") == i+1
		})
		tm.Type("wrong\r")
	}
	if code := tm.Wait(ptyTimeout); code != 1 || strings.Count(tm.ScreenText(), "Wrong password; try again.") != 2 ||
		!strings.Contains(tm.ScreenText(), "ogive: open profile") {
		t.Fatalf("three wrong tries: exit %d\n%s", code, tm.ScreenText())
	}

	tm = r.terminal(t, 24, 80, ptytest.Options{Args: []string{"list"}, Stdin: strings.NewReader("wrong\n" + rigPassword + "\n")})
	if code := tm.Wait(ptyTimeout); code != 1 || strings.Contains(tm.Raw(), "Wrong password; try again.") {
		t.Fatalf("piped wrong password: exit %d\n%s", code, tm.ScreenText())
	}
}

// init asks again at the same prompt: after a short password the password,
// after a mismatch both.
func TestTerminalInitPasswordTries(t *testing.T) {
	r := newRig(t, rigOptions{})
	profile := filepath.Join(r.dir, "new.profile")
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"init", "-p", profile,
		"--bucket", r.srv.Bucket, "--region", r.srv.Region, "--endpoint", r.proxy.URL, "--prefix", "other/"}})
	tm.WaitFor("Enter password: ", ptyTimeout)
	tm.Type("short\r")
	tm.WaitFor("The password is shorter than 8 bytes; try again.", ptyTimeout)
	tm.WaitScreen("the second prompt", ptyTimeout, func(rows []string) bool {
		return strings.Count(strings.Join(rows, "\n"), "Enter password:") == 2
	})
	tm.Type("long-enough-1\r")
	tm.WaitFor("Confirm password: ", ptyTimeout)
	tm.Type("long-enough-2\r")
	tm.WaitFor("The passwords do not match; try again.", ptyTimeout)
	tm.WaitScreen("the third prompt", ptyTimeout, func(rows []string) bool {
		return strings.Count(strings.Join(rows, "\n"), "Enter password:") == 3
	})
	tm.Type("long-enough-1\r")
	tm.WaitScreen("the second confirmation", ptyTimeout, func(rows []string) bool {
		return strings.Count(strings.Join(rows, "\n"), "Confirm password:") == 2
	})
	tm.Type("long-enough-1\r")
	// The password is taken: the AWS key questions follow. Leave there.
	tm.WaitFor("AWS", ptyTimeout)
	tm.Type("\x03")
	if code := tm.Wait(ptyTimeout); code != 130 {
		t.Fatalf("exit %d\n%s", code, tm.ScreenText())
	}
	if _, err := os.Stat(profile); err == nil {
		t.Error("a profile was written")
	}
}

// Ctrl-C at a password prompt ends ogive at once with status 130 and echo
// back on; what was typed after it is not read as a password.
func TestTerminalCtrlCAtPasswordPrompt(t *testing.T) {
	r := newRig(t, rigOptions{})
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"list"}})
	tm.WaitFor("Enter password: ", ptyTimeout)
	tm.Type("half-typed\x03not-the-password\r")
	code := tm.Wait(ptyTimeout)
	screen := tm.ScreenText()
	if code != 130 || !strings.Contains(screen, "ogive: interrupted") || strings.Contains(screen, "wrong password") ||
		strings.Contains(tm.Raw(), "half-typed") {
		t.Fatalf("exit %d\n%s", code, screen)
	}
	if echo, err := tm.Echo(); err != nil || !echo {
		t.Errorf("echo after Ctrl-C: %v, %v", echo, err)
	}
}

// init --reinit words its three prompts apart, and says what the .bak is.
func TestTerminalReinitPrompts(t *testing.T) {
	r := newRig(t, rigOptions{})
	tm := r.terminal(t, 24, 100, ptytest.Options{Args: []string{"init", "--reinit"}})
	tm.WaitFor("Current password: ", ptyTimeout)
	tm.Type(rigPassword + "\r")
	tm.WaitFor("New password: ", ptyTimeout)
	tm.Type("a-new-password\r")
	tm.WaitFor("Confirm new password: ", ptyTimeout)
	// Then Enter at the AWS key questions keeps the keys.
	tm.Type("a-new-password\r\r\r")
	if code := tm.Wait(ptyTimeout); code != 0 || !strings.Contains(tm.ScreenText(), "The .bak still opens with the old password") ||
		strings.Contains(tm.Raw(), "Enter password") {
		t.Fatalf("exit %d\n%s", code, tm.ScreenText())
	}
}
