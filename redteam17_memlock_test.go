package main

import (
	"strings"
	"testing"
)

// TestRedteam17NeedsKeysAttachedProfile shows that needsKeys takes a -p
// whose value is attached ("-pNAME", "-p=NAME", "-qpNAME") and happens to
// end in "p" for a group of short flags waiting for its value in the next
// argument: it then skips the command's name as that value, finds no
// command, and says no keys are needed. Cobra runs the command all the
// same (pflag takes "-plaptop" as profile "laptop"), so under a low
// ulimit -l the memory-lock preflight is skipped and memguard hangs: the
// very thing the preflight exists to prevent. A profile named "laptop" or
// "desktop" is ordinary.
func TestRedteam17NeedsKeysAttachedProfile(t *testing.T) {
	for _, args := range []string{
		"-plaptop list",
		"-p=laptop list",
		"-qplaptop list",
		"-pdesktop uploads",
	} {
		if !needsKeys(strings.Fields(args)) {
			t.Errorf("needsKeys(%q) = false, but cobra runs a command that opens the profile", args)
		}
	}
}
