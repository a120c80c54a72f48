//go:build unix

package cmd_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"

	"github.com/ogive-project/ogive/internal/ptytest"
)

// At a terminal, list's rows fit its width, whatever the names: IDs are cut
// to a unique beginning that commands accept, names end with "…".
func TestListFitsTerminal(t *testing.T) {
	r := newRig(t, rigOptions{})
	long := strings.Repeat("a rather long file name ", 4) + ".tar"
	wide := strings.Repeat("写真", 12) + ".jpg"
	ids := r.put(r.write("short.txt", []byte("s")), r.write(long, []byte("l")), r.write(wide, []byte("w")))
	for _, cols := range []int{80, 50} {
		t.Run(strconv.Itoa(cols), func(t *testing.T) {
			tm := r.terminal(t, 24, cols, ptytest.Options{Args: []string{"list", "--password-file", r.pwFile}})
			if code := tm.Wait(30 * time.Second); code != 0 {
				t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimRight(tm.Raw(), "\r\n"), "\r\n") {
				if l != "" {
					lines = append(lines, l)
				}
			}
			if len(lines) != 5 {
				t.Fatalf("%d lines, want a header, a rule and 3 rows:\n%s", len(lines), tm.Raw())
			}
			for _, l := range lines {
				if w := uniseg.StringWidth(l); w > cols {
					t.Errorf("%d columns in %d: %q", w, cols, l)
				}
			}
			t.Logf("%d columns:\n%s", cols, tm.ScreenText())
			screen := tm.Screen()
			if len(screen) < 5 || !strings.HasPrefix(screen[0], "SIZE ") || !strings.HasPrefix(screen[1], "----") {
				t.Fatalf("screen:\n%s", tm.ScreenText())
			}
			found := 0
			for _, row := range screen[2:5] {
				f := strings.Fields(row)
				if len(f) < 6 || f[3] != "DEEPS" {
					t.Fatalf("row %q does not start an archive: it wrapped?\n%s", row, tm.ScreenText())
				}
				if len(f[4]) != 12 {
					t.Errorf("ID %q is not shortened to 12 characters", f[4])
				}
				for _, id := range ids {
					if strings.HasPrefix(id, f[4]) {
						found++
					}
				}
				if cols == 80 && !strings.HasSuffix(f[2], "Z") {
					t.Errorf("no time of day in %q", f[2])
				}
			}
			if res := r.ogive("", "head", "--password-file", r.pwFile, strings.Fields(screen[2])[4]); res.code != 2 || res.stdout != "DEEPS\n" {
				t.Errorf("head with the ID as list shows it: %s", res)
			}
			if found != 3 {
				t.Errorf("shown IDs are not beginnings of the archives' IDs:\n%s", tm.ScreenText())
			}
			if !strings.Contains(tm.ScreenText(), "…") || !strings.Contains(tm.ScreenText(), "short.txt") {
				t.Errorf("long names not cut, or a short one cut:\n%s", tm.ScreenText())
			}
		})
	}
}

// get refuses to write an archive to a terminal, before the password is
// asked for; through a pipe it writes as before.
func TestGetRefusesTerminalStdout(t *testing.T) {
	r := newRig(t, rigOptions{})
	ids := r.put(r.write("data.bin", []byte("\x00\x01binary\x1b[2J")))
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"get", ids[0][:12], "-"}})
	if code := tm.Wait(30 * time.Second); code != 1 {
		t.Fatalf("exit %d:\n%s", code, tm.ScreenText())
	}
	screen := tm.ScreenText()
	if !strings.Contains(screen, "ogive: refusing to write binary data to a terminal\nhint: redirect stdout (ogive get ID - > file)") || strings.Contains(screen, "password") {
		t.Errorf("get ID - at a terminal:\n%s", screen)
	}

	r.restoreAll(ids...)
	var out bytes.Buffer
	tm = r.terminal(t, 24, 80, ptytest.Options{Args: []string{"get", "--password-file", r.pwFile, ids[0], "-"}, Stdout: &out})
	if code := tm.Wait(30 * time.Second); code != 0 {
		t.Fatalf("get ID - > pipe: exit %d:\n%s", code, tm.ScreenText())
	}
	if out.String() != "\x00\x01binary\x1b[2J" {
		t.Errorf("get ID - > pipe wrote %q", out.String())
	}
}
