package cmd_test

import (
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
)

// oneError is what a failed command prints last: one "ogive:" line and at
// most one hint.
var oneError = regexp.MustCompile(`(^|\n)ogive: [^\n]+\n(hint: [^\n]+\n)?$`)

// buildOgive builds the ogive binary, signal handling and all, for tests
// that need a process of its own. It is built once per test process.
func buildOgive(t *testing.T) string {
	t.Helper()
	built.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(build.Default.GOROOT, "bin", "go")
		}
		if built.dir, built.err = os.MkdirTemp("", "ogive-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "ogive")
		out, err := exec.Command(goBin, "build", "-o", built.path, "github.com/ogive-project/ogive").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// built is the binary buildOgive made; TestMain removes its directory.
var built struct {
	sync.Once
	dir, path string
	err       error
}
