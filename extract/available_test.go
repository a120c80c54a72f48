package extract

import (
	"errors"
	"runtime"
	"testing"
)

// TestAvailable: every Unix extracts; elsewhere (Windows) New refuses with
// ErrUnsupported before it makes anything, and its text names the system.
func TestAvailable(t *testing.T) {
	dir := t.TempDir()
	x, err := New(dir, "dest", "top", Options{})
	if runtime.GOOS == "windows" {
		if !errors.Is(Available(), ErrUnsupported) || !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Available %v, New %v: want ErrUnsupported", Available(), err)
		}
		if ErrUnsupported.Error() != "extracting a directory archive is not supported on windows" {
			t.Errorf("ErrUnsupported says %q", ErrUnsupported)
		}
		return
	}
	if err := Available(); err != nil {
		t.Fatalf("Available on %s: %v", runtime.GOOS, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Finish(); err != nil {
		t.Fatal(err)
	}
}
