package cmd

import (
	"runtime/debug"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	stamp := func(version string, settings ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/ogive-project/ogive", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return info
	}
	const rev = "1129105aa6c2f9b1e3bbd9a9f3c8e1d2c3b4a5f6"
	for _, tc := range []struct {
		name, version, commit string
		info                  *debug.BuildInfo
		want                  string
	}{
		{"make build at a tag, stamped", "v0.5.0", "", stamp("(devel)", "vcs.revision", rev, "vcs.modified", "false"),
			"v0.5.0 (commit 1129105, built with go1.26.8 linux/amd64)"},
		{"modified tree", "dev", "", stamp("v0.0.0-20261129163559-1129105aa6c2+dirty", "vcs.revision", rev, "vcs.modified", "true"),
			"dev (commit 1129105-dirty, built with go1.26.8 linux/amd64)"},
		{"go install @v0.5.0", "dev", "", stamp("v0.5.0"),
			"v0.5.0 (built with go1.26.8 linux/amd64)"},
		{"pseudo-version after a tag", "dev", "", stamp("v0.5.1-0.20261129163559-1129105aa6c2", "vcs.revision", rev),
			"dev (commit 1129105, built with go1.26.8 linux/amd64)"},
		{"no stamp: the Makefile's commit", "dev", "a29837a-dirty", stamp("(devel)"),
			"dev (commit a29837a-dirty, built with go1.26.8 linux/amd64)"},
		{"no build info", "", "", nil, "dev (built with go1.26.8 linux/amd64)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatVersion(tc.version, tc.commit, tc.info, "go1.26.8", "linux/amd64"); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
