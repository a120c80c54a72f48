package resume

import (
	"errors"
	"testing"
)

// TestDirWindows: on Windows, where neither XDG_STATE_HOME nor HOME is usually set, the
// state goes under %LocalAppData%; elsewhere LocalAppData means nothing.
func TestDirWindows(t *testing.T) {
	env := map[string]string{"LocalAppData": "/lad"}
	getenv := func(k string) string { return env[k] }
	if got, err := dir(getenv, "windows"); err != nil || got != "/lad/ogive/uploads" {
		t.Errorf("windows with LocalAppData: %q, %v; want /lad/ogive/uploads", got, err)
	}
	if got, err := dir(getenv, "linux"); !errors.Is(err, ErrNoStateDir) {
		t.Errorf("linux with LocalAppData only: %q, %v; want ErrNoStateDir", got, err)
	}
	env["HOME"] = "/h"
	if got, err := dir(getenv, "windows"); err != nil || got != "/h/.local/state/ogive/uploads" {
		t.Errorf("windows with HOME: %q, %v; want HOME's", got, err)
	}
}
