package cmd

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// versionString is what --version prints after "ogive ": the version, the
// commit it was built from and the Go that built it, such as
// "v0.5.0 (commit 1129105, built with go1.26.8 linux/amd64)".
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return formatVersion(Version, Commit, info, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// formatVersion puts the parts together. The version is the one -ldflags
// set (make build sets the release tag when the commit has one), else the
// module's tag when built by "go install ...@vX" or by "go build" at a
// tagged commit, else "dev": a pseudo-version only repeats the commit. The
// commit and its dirty flag come from the VCS stamp "go build" records in a
// checkout; "go install ...@vX" has none, the tag names the commit. Where
// go build records no stamp (a git worktree, -buildvcs=false), the commit
// -ldflags set in Commit stands in.
func formatVersion(version, commit string, info *debug.BuildInfo, goVersion, platform string) string {
	var revision string
	var modified bool
	if info != nil {
		if version == "" || version == "dev" {
			if v := info.Main.Version; v != "" && v != "(devel)" && !pseudoVersion.MatchString(v) {
				version = v
			}
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version == "" {
		version = "dev"
	}
	if revision != "" {
		commit = revision[:min(len(revision), 7)]
		if modified {
			commit += "-dirty"
		}
	}
	var details []string
	if commit != "" {
		details = append(details, "commit "+commit)
	}
	details = append(details, fmt.Sprintf("built with %s %s", goVersion, platform))
	return version + " (" + strings.Join(details, ", ") + ")"
}

// pseudoVersion matches the tail of a Go pseudo-version, such as
// v0.0.0-20261129163559-a29837a1b2c3 or v0.5.1-0.20261129163559-a29837a1b2c3+dirty.
var pseudoVersion = regexp.MustCompile(`[-.]\d{14}-[0-9a-f]{12}(\+dirty)?$`)
