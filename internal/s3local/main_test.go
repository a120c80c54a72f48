package s3local

import (
	"context"
	"fmt"
	"os"
	"testing"
)

var testRoot string

func tempDir() (string, error) {
	return os.MkdirTemp(testRoot, "shared-")
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChild(dir))
	}
	os.Exit(runTests(m))
}

// childEnv makes the test binary a process that starts a server and
// waits to be killed; see TestVersitygwDiesWithItsParent.
const childEnv = "S3LOCAL_TEST_CHILD_DIR"

func runChild(dir string) int {
	s, err := Start(context.Background(), Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("versitygw pid %d\n", s.gw.cmd.Process.Pid)
	select {}
}

func runTests(m *testing.M) int {
	var err error
	testRoot, err = os.MkdirTemp("", "s3local-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(testRoot)
	code := m.Run()
	if sharedServer != nil {
		if err := sharedServer.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close shared server:", err)
			code = 1
		}
	}
	return code
}
