package s3local

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRestoreWindowPhases(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &restoreWindow{Requested: t0, Ready: t0.Add(time.Hour), Expiry: t0.Add(3 * time.Hour)}
	for _, c := range []struct {
		at   time.Duration
		want restorePhase
	}{
		{0, phaseOngoing},
		{time.Hour - time.Nanosecond, phaseOngoing},
		{time.Hour, phaseRestored},
		{3*time.Hour - time.Nanosecond, phaseRestored},
		{3 * time.Hour, phaseNone},
	} {
		if got := w.phase(t0.Add(c.at)); got != c.want {
			t.Errorf("at +%v: phase %d, want %d", c.at, got, c.want)
		}
	}
	var none *restoreWindow
	if none.phase(t0) != phaseNone {
		t.Error("nil window is not phaseNone")
	}
}

func TestRequestRestoreTransitions(t *testing.T) {
	s, err := openState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	id := objectID{"b", "k"}
	wait, keep := time.Hour, 24*time.Hour

	if out, _, err := s.requestRestore(id, t0, tierBulk, wait, keep); err != nil || out != restoreNotAllowed {
		t.Fatalf("unknown key: %v %v, want not allowed", out, err)
	}
	if err := s.setClass(id, classDeepArchive); err != nil {
		t.Fatal(err)
	}
	out, w, err := s.requestRestore(id, t0, tierBulk, wait, keep)
	if err != nil || out != restoreStarted || !w.Ready.Equal(t0.Add(wait)) || !w.Expiry.Equal(t0.Add(wait+keep)) {
		t.Fatalf("first: %v %+v %v", out, w, err)
	}
	if out, _, _ := s.requestRestore(id, t0.Add(wait/2), tierBulk, wait, keep); out != restoreInProgress {
		t.Fatalf("while running: %v", out)
	}
	later := t0.Add(wait + time.Hour)
	out, w, err = s.requestRestore(id, later, tierStandard, wait, 2*keep)
	if err != nil || out != restoreExtended || !w.Expiry.Equal(later.Add(2*keep)) || !w.Ready.Equal(t0.Add(wait)) {
		t.Fatalf("restored: %v %+v %v", out, w, err)
	}
	expired := w.Expiry
	out, w, err = s.requestRestore(id, expired, tierStandard, wait, keep)
	if err != nil || out != restoreStarted || !w.Ready.Equal(expired.Add(wait)) || w.Tier != tierStandard {
		t.Fatalf("after expiry: %v %+v %v", out, w, err)
	}
	// Overwriting the key drops its restore.
	if err := s.setClass(id, classDeepArchive); err != nil {
		t.Fatal(err)
	}
	if _, r := s.lookup(id); r != nil {
		t.Fatalf("restore survived an overwrite: %+v", r)
	}
	if err := s.setClass(id, classStandard); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := s.requestRestore(id, t0, tierBulk, wait, keep); out != restoreNotAllowed {
		t.Fatalf("STANDARD key: %v", out)
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	deep, odd := objectID{"b", "deep"}, objectID{"b", "a/../weird key\x00with nul"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.setClass(deep, classDeepArchive))
	must(s.setClass(odd, classGlacier))
	_, _, err = s.requestRestore(deep, t0, tierBulk, time.Hour, time.Hour)
	must(err)
	must(s.beginUpload(objectID{"b", "up"}, "upload-1", classDeepArchive))
	must(s.beginUpload(objectID{"b", "gone"}, "upload-2", classGlacier))
	must(s.abortUpload("upload-2"))
	// A write interrupted before its rename leaves a temporary file.
	leftover := filepath.Join(dir, "objects", tempPrefix+"123")
	must(os.WriteFile(leftover, []byte("{"), 0o644))

	s, err = openState(dir)
	must(err)
	if class, r := s.lookup(deep); class != classDeepArchive || r == nil || !r.Ready.Equal(t0.Add(time.Hour)) {
		t.Errorf("deep: %s %+v", class, r)
	}
	if class, _ := s.lookup(odd); class != classGlacier {
		t.Errorf("odd key: %s", class)
	}
	if class, _ := s.lookup(objectID{"b", "never"}); class != classStandard {
		t.Errorf("unknown key: %s", class)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("temporary file kept: %v", err)
	}
	parts := []partRecord{{Number: 1, Size: 5 << 20, CRC32C: "5WyABQ=="}, {Number: 3, Size: 10, CRC32C: "Ol45iQ=="}}
	must(s.completeUpload(objectID{"b", "up"}, "upload-1", parts))
	if class, _ := s.lookup(objectID{"b", "up"}); class != classDeepArchive {
		t.Errorf("upload begun before reopen completed as %s", class)
	}
	// An upload completed under another key is not that key's class.
	must(s.beginUpload(objectID{"b", "x"}, "upload-3", classGlacier))
	must(s.completeUpload(objectID{"b", "y"}, "upload-3", nil))
	if class, _ := s.lookup(objectID{"b", "y"}); class != classStandard {
		t.Errorf("mismatched upload gave class %s", class)
	}
	// A STANDARD object completed from parts keeps a record for its parts.
	must(s.beginUpload(objectID{"b", "std"}, "upload-4", classStandard))
	must(s.completeUpload(objectID{"b", "std"}, "upload-4", parts[:1]))

	// Parts survive a restart, and a new write of the key drops them.
	s, err = openState(dir)
	must(err)
	if got := s.parts(objectID{"b", "up"}); !slices.Equal(got, parts) {
		t.Errorf("parts after reopen: %+v, want %+v", got, parts)
	}
	if got := s.parts(objectID{"b", "std"}); !slices.Equal(got, parts[:1]) {
		t.Errorf("STANDARD parts after reopen: %+v", got)
	}
	must(s.setClass(objectID{"b", "up"}, classDeepArchive))
	if got := s.parts(objectID{"b", "up"}); got != nil {
		t.Errorf("parts kept after the key was written again: %+v", got)
	}
	must(s.setClass(objectID{"b", "std"}, classStandard))
	if got := s.parts(objectID{"b", "std"}); got != nil {
		t.Errorf("STANDARD parts kept after the key was written again: %+v", got)
	}
}

func TestOpenStateRejectsCorruptRecords(t *testing.T) {
	for name, content := range map[string]string{
		"not json": "{",
		"no class": `{"bucket":"b","key":"k"}`,
	} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "objects"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "objects", "x.json"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := openState(dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
