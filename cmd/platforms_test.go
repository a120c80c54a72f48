package cmd

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlatformNotes: help shows the notes of the system it runs on, for
// the command asked about; a man page lists every system's, the same on
// any system.
func TestPlatformNotes(t *testing.T) {
	saved := platformNotes
	defer func() { platformNotes = saved }()
	platformNotes = []platformNote{
		{commands: []string{"ogive put", "ogive get"}, systems: []string{"windows"}, text: "No block devices: a path such as \\\\.\\PhysicalDrive0 is refused, and so is writing to one, whatever its name says."},
		{commands: []string{"ogive put"}, systems: []string{"darwin", "windows"}, text: "Second note."},
		{systems: []string{"freebsd"}, text: "Root only."},
	}
	var b bytes.Buffer
	writePlatformNotes(&b, "ogive put", "windows")
	want := "\nOn Windows:\n" +
		"  - No block devices: a path such as \\\\.\\PhysicalDrive0 is refused, and so is\n" +
		"    writing to one, whatever its name says.\n" +
		"  - Second note.\n"
	if b.String() != want {
		t.Errorf("put on windows:\n%s\nwant\n%s", b.String(), want)
	}
	for _, c := range []struct{ path, goos string }{{"ogive put", "linux"}, {"ogive list", "windows"}, {"ogive put", "freebsd"}} {
		b.Reset()
		writePlatformNotes(&b, c.path, c.goos)
		if b.Len() != 0 {
			t.Errorf("%s on %s: %q", c.path, c.goos, b.String())
		}
	}
	if got := notesFor("ogive", "freebsd"); len(got) != 1 || got[0] != "Root only." {
		t.Errorf("root notes on freebsd: %q", got)
	}

	sec := platformSection("ogive put")
	if sec == nil || sec.Title != SectionPlatforms || len(sec.Items) != 2 ||
		sec.Items[0].Tag != "macOS" || sec.Items[0].Text != "Second note." ||
		sec.Items[1].Tag != "Windows" || !strings.HasSuffix(sec.Items[1].Text, "says. Second note.") {
		t.Errorf("put's PLATFORMS section: %+v", sec)
	}
	if platformSection("ogive list") != nil {
		t.Error("a PLATFORMS section for a command without notes")
	}
}

// TestPlatformNotesInHelp: "ogive CMD --help" ends with this system's
// notes for CMD.
func TestPlatformNotesInHelp(t *testing.T) {
	saved := platformNotes
	defer func() { platformNotes = saved }()
	platformNotes = []platformNote{{commands: []string{"ogive ls"}, systems: []string{"darwin", "freebsd", "linux", "windows"}, text: "A test note."}}
	systemNames["linux"] = "Linux"
	defer delete(systemNames, "linux")
	var out bytes.Buffer
	f := &Factory{In: strings.NewReader(""), Out: &out, Err: &out, Getenv: func(string) string { return "" }}
	if code := Main(t.Context(), f, "ls", "--help"); code != exitOK {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !strings.HasSuffix(out.String(), "  - A test note.\n") || !strings.Contains(out.String(), "Usage:") {
		t.Errorf("ls --help:\n%s", out.String())
	}
	out.Reset()
	if code := Main(t.Context(), f, "list", "--help"); code != exitOK || strings.Contains(out.String(), "A test note") {
		t.Errorf("list --help (%d):\n%s", code, out.String())
	}
}

// TestDefaultProfilePath: $HOME/.ogive, and on Windows, where HOME is
// often unset, %USERPROFILE%\.ogive; never a relative path.
func TestDefaultProfilePath(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, c := range []struct {
		goos string
		env  func(string) string
		want string
	}{
		{"linux", env("HOME", "/home/u", "USERPROFILE", "/x"), filepath.Join("/home/u", ".ogive")},
		{"linux", env("USERPROFILE", "/x"), ""},
		{"windows", env("USERPROFILE", "/users/u"), filepath.Join("/users/u", ".ogive")},
		{"windows", env("HOME", "/home/u", "USERPROFILE", "/users/u"), filepath.Join("/home/u", ".ogive")},
		{"windows", env("OGIVE_PROFILE", "/p", "USERPROFILE", "/users/u"), "/p"},
		{"windows", env(), ""},
	} {
		if got := defaultProfilePath(c.env, c.goos); got != c.want {
			t.Errorf("%s: %q, want %q", c.goos, got, c.want)
		}
	}
}
