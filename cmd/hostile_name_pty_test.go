//go:build unix

package cmd_test

import (
	"strings"
	"testing"
	"time"

	fp "github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/internal/ptytest"
)

// Probe (held): a terminal shrunk to 1-4 columns while the bar of a file
// named with escape sequences and wide characters is drawn.
func TestTerminalHostileNameOnTinyTerminal(t *testing.T) {
	r := newRig(t, rigOptions{})
	name := "\x1b]0;owned\x07\x1b[2J日本語ファイル名前\u202e.bin"
	big := r.write(name, randomBytes(t, 20<<20))
	r.proxy.SetRules(fp.Rule{Fault: fp.Stall, Match: afterFirst(isUploadPart)})
	defer r.proxy.SetRules()
	tm := r.terminal(t, 24, 80, ptytest.Options{Args: []string{"put", "--password-file", r.pwFile, big}})
	tm.WaitFor("%", 30*time.Second)
	for _, c := range []int{4, 1, 2, 3, 200, 10} {
		tm.Resize(24, c)
		time.Sleep(500 * time.Millisecond)
	}
	raw := tm.Raw()
	if strings.Contains(raw, "\x1b]0;owned") || strings.Contains(raw, "\x1b[2J") || strings.Contains(raw, "\u202e") {
		t.Errorf("the name reached the terminal raw: %q", raw)
	}
	if strings.Contains(raw, "panic") {
		t.Errorf("panic: %s", raw)
	}
	tm.Resize(24, 80)
	tm.Type("\x03")
	code := tm.Wait(20 * time.Second)
	t.Logf("exit %d; screen:\n%s", code, tm.ScreenText())
}
