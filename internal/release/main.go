// Command release builds ogive's release archives (make release):
//
//	go run ./internal/release -version v0.9.0 [-out dist] [-targets linux/amd64,...]
//
// For each target it builds a static binary and packs it, with the man
// pages, shell completions, README.md and UNLICENSE, into
// ogive-VERSION-OS-ARCH.tar.gz (.zip for Windows); SHA256SUMS lists the
// archives. The bytes depend only on the commit, the version and the Go
// release named in go.mod: the build is -trimpath, CGO_ENABLED=0, with an
// empty build ID and no VCS stamp, every GOxxx setting that changes code
// generation is pinned, and the archives carry the commit's time and no
// owner. Building twice, anywhere, gives the same SHA256SUMS
// (scripts/release-check.sh checks it).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ogive-project/ogive/cmd"
)

// Targets is every platform a release is built for.
var allTargets = []string{
	"linux/amd64", "linux/arm64",
	"darwin/amd64", "darwin/arm64",
	"freebsd/amd64",
	"windows/amd64",
}

// versionRE is a release version: a semantic version with its v.
var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

func main() {
	var o options
	flag.StringVar(&o.version, "version", "", "release version, vMAJOR.MINOR.PATCH[-PRE]")
	flag.StringVar(&o.out, "out", "dist", "directory the archives and SHA256SUMS are written to")
	targets := flag.String("targets", strings.Join(allTargets, ","), "comma-separated GOOS/GOARCH list")
	flag.BoolVar(&o.allowDirty, "allow-dirty", false, "build from a tree with uncommitted changes (not reproducible from the commit)")
	flag.Parse()
	o.targets = strings.Split(*targets, ",")
	if err := run(o, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

type options struct {
	version    string
	out        string
	targets    []string
	allowDirty bool
}

// source is what a release is built from.
type source struct {
	commit    string    // full hash
	time      time.Time // the commit's time, or SOURCE_DATE_EPOCH
	toolchain string    // go1.X.Y, from go.mod
	kept      []string  // keptSettings
}

func run(o options, log io.Writer) error {
	if !versionRE.MatchString(o.version) {
		return fmt.Errorf("version %q: want vMAJOR.MINOR.PATCH (set VERSION=, or tag the commit)", o.version)
	}
	for _, t := range o.targets {
		if !known(t) {
			return fmt.Errorf("target %q: not one of %s", t, strings.Join(allTargets, ", "))
		}
	}
	src, err := describe(o.allowDirty)
	if err != nil {
		return err
	}
	stage, err := os.MkdirTemp("", "ogive-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)

	common, err := commonMembers(stage, src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	sums := map[string]string{}
	for _, t := range o.targets {
		goos, goarch, _ := strings.Cut(t, "/")
		fmt.Fprintf(log, "release: building %s %s with %s\n", o.version, t, src.toolchain)
		bin, err := build(stage, goos, goarch, o.version, src)
		if err != nil {
			return err
		}
		name, sum, err := pack(o.out, o.version, goos, goarch, bin, common, src.time)
		if err != nil {
			return err
		}
		sums[name] = sum
	}
	if err := writeSums(o.out, sums); err != nil {
		return err
	}
	fmt.Fprintf(log, "release: %d archives and SHA256SUMS in %s\n", len(sums), o.out)
	return nil
}

func known(t string) bool {
	for _, k := range allTargets {
		if t == k {
			return true
		}
	}
	return false
}

// describe reads the commit, its time and the Go release go.mod names.
// A tree with changes git would see is refused unless allowDirty: its
// archives could not be built again from the commit.
func describe(allowDirty bool) (source, error) {
	var src source
	out, err := output("git", "rev-parse", "HEAD")
	if err != nil {
		return src, fmt.Errorf("a release is built from a git checkout: %w", err)
	}
	src.commit = out
	// Every untracked file, whatever git's configuration hides; and the
	// ignored ones the go command would still compile.
	status, err := output("git", "status", "--porcelain", "--untracked-files=all")
	if err != nil {
		return src, err
	}
	ignored, err := output("git", "ls-files", "--others", "--ignored", "--exclude-standard")
	if err != nil {
		return src, err
	}
	if (status != "" || len(goSources(ignored)) > 0) && !allowDirty {
		return src, errors.New("the tree has uncommitted changes or untracked Go files; commit them, or build with -allow-dirty (not reproducible)")
	}
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		if epoch, err = output("git", "log", "-1", "--format=%ct", "HEAD"); err != nil {
			return src, err
		}
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return src, fmt.Errorf("source date %q: %w", epoch, err)
	}
	src.time = time.Unix(secs, 0).UTC()
	mod, err := output("go", "mod", "edit", "-json")
	if err != nil {
		return src, err
	}
	if src.toolchain, err = toolchainOf(mod); err != nil {
		return src, err
	}
	// The completions are made by this program itself: a go.work above the
	// checkout could have built it with other versions of cobra.
	if work, err := output("go", "env", "GOWORK"); err != nil || (work != "" && work != "off") {
		return src, fmt.Errorf("a go.work applies (%s): run with GOWORK=off (make release does)", work)
	}
	src.kept, err = keptSettings()
	return src, err
}

// goSources picks, from a list of paths one per line, those the go command
// would read when building: Go, assembly and C sources, syso objects and
// module files.
func goSources(list string) []string {
	var out []string
	for _, p := range strings.Split(list, "\n") {
		base := filepath.Base(p)
		switch {
		case p == "":
		case base == "go.mod", base == "go.sum", base == "go.work", base == "go.work.sum":
			out = append(out, p)
		default:
			switch filepath.Ext(p) {
			case ".go", ".s", ".S", ".c", ".h", ".syso":
				out = append(out, p)
			}
		}
	}
	return out
}

// goLineRE and toolchainRE find the go and toolchain lines of go.mod's
// JSON form (go mod edit -json).
var (
	goLineRE    = regexp.MustCompile(`"Go":\s*"([0-9.]+)"`)
	toolchainRE = regexp.MustCompile(`"Toolchain":\s*"(go[0-9.]+)"`)
)

// toolchainOf is the exact Go release the binaries are built with: go.mod's
// toolchain line, else its go line. The go command fetches it when the
// local Go is another release, so two machines build with the same
// compiler; offline, a machine without it stops there.
func toolchainOf(modJSON string) (string, error) {
	if m := toolchainRE.FindStringSubmatch(modJSON); m != nil {
		return m[1], nil
	}
	m := goLineRE.FindStringSubmatch(modJSON)
	if m == nil || strings.Count(m[1], ".") != 2 {
		return "", errors.New("go.mod names no exact Go release (go 1.X.Y or a toolchain line)")
	}
	return "go" + m[1], nil
}

// buildEnv is the environment of go build for one target: the caller's,
// with everything that changes the code the compiler makes pinned. The go
// env file (go env -w) is not read (GOENV=off): it could set GOEXPERIMENT
// or GOFLAGS behind an empty variable. Where modules come from and where
// caches are, which change no byte, are passed on by keptSettings.
func buildEnv(base []string, goos, goarch, toolchain string) []string {
	pinned := map[string]string{
		"CGO_ENABLED":  "0",
		"GOOS":         goos,
		"GOARCH":       goarch,
		"GOAMD64":      "v1",
		"GOARM64":      "v8.0",
		"GOEXPERIMENT": "",
		"GOFIPS140":    "off",
		"GOFLAGS":      "-mod=readonly",
		"GOWORK":       "off",
		"GOENV":        "off",
		"GOTOOLCHAIN":  toolchain,
	}
	env := make([]string, 0, len(base)+len(pinned))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := pinned[k]; !ok {
			env = append(env, kv)
		}
	}
	keys := make([]string, 0, len(pinned))
	for k := range pinned {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+pinned[k])
	}
	return env
}

// ldflags strips the symbol table and DWARF, empties the build ID and sets
// the version and commit --version prints.
func ldflags(version, commit string) string {
	const pkg = "github.com/ogive-project/ogive/cmd"
	return fmt.Sprintf("-s -w -buildid= -X %s.Version=%s -X %s.Commit=%s", pkg, version, pkg, commit[:7])
}

// keptNames are the go settings a build keeps from the caller, its go env
// file included: where modules come from, and where they and the build
// cache are kept.
var keptNames = []string{"GOPROXY", "GOSUMDB", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOINSECURE", "GOVCS", "GOAUTH", "GOPATH", "GOMODCACHE", "GOCACHE"}

// keptSettings returns the caller's values of keptNames, as the go command
// sees them, as NAME=value lines to add to a build's environment.
func keptSettings() ([]string, error) {
	out, err := output("go", append([]string{"env"}, keptNames...)...)
	if err != nil {
		return nil, err
	}
	vals := strings.Split(out, "\n")
	if len(vals) != len(keptNames) {
		return nil, fmt.Errorf("go env printed %d values for %d settings", len(vals), len(keptNames))
	}
	kept := make([]string, len(vals))
	for i, v := range vals {
		kept[i] = keptNames[i] + "=" + v
	}
	return kept, nil
}

func build(stage, goos, goarch, version string, src source) ([]byte, error) {
	bin := filepath.Join(stage, "bin-"+goos+"-"+goarch, exeName(goos))
	c := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", ldflags(version, src.commit), "-o", bin, ".")
	c.Env = buildEnv(append(os.Environ(), src.kept...), goos, goarch, src.toolchain)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("build %s/%s: %w", goos, goarch, err)
	}
	return os.ReadFile(bin)
}

func exeName(goos string) string {
	if goos == "windows" {
		return "ogive.exe"
	}
	return "ogive"
}

// commonMembers is what every archive holds besides the binary: README,
// licence, the man pages generated afresh from the command tree, and the
// shell completions.
func commonMembers(stage string, src source) ([]member, error) {
	var ms []member
	for _, f := range []string{"README.md", "UNLICENSE"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, member{name: f, data: b})
	}
	man := filepath.Join(stage, "man")
	c := exec.Command("go", "run", "./doc", man)
	c.Env = buildEnv(append(os.Environ(), src.kept...), runtime.GOOS, runtime.GOARCH, src.toolchain)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("man pages: %w", err)
	}
	pages, err := filepath.Glob(filepath.Join(man, "*.1"))
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, errors.New("man pages: none generated")
	}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		ms = append(ms, member{name: "man/man1/" + filepath.Base(p), data: b})
	}
	comps, err := completions()
	if err != nil {
		return nil, err
	}
	return append(ms, comps...), nil
}

// completions are the scripts "ogive completion SHELL" prints, made from
// the command tree here, since a cross-built binary cannot run.
func completions() ([]member, error) {
	root := cmd.NewRootCmd(&cmd.Factory{
		In: strings.NewReader(""), Out: io.Discard, Err: io.Discard,
		Getenv: func(string) string { return "" },
	})
	gens := []struct {
		name string
		gen  func(io.Writer) error
	}{
		{"completions/ogive.bash", func(w io.Writer) error { return root.GenBashCompletionV2(w, true) }},
		{"completions/_ogive", root.GenZshCompletion},
		{"completions/ogive.fish", func(w io.Writer) error { return root.GenFishCompletion(w, true) }},
		{"completions/ogive.ps1", root.GenPowerShellCompletionWithDesc},
	}
	var ms []member
	for _, g := range gens {
		var b bytes.Buffer
		if err := g.gen(&b); err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		ms = append(ms, member{name: g.name, data: b.Bytes()})
	}
	return ms, nil
}

// pack writes one target's archive into out, under a temporary name renamed
// once complete, and returns its name and SHA-256.
func pack(out, version, goos, goarch string, bin []byte, common []member, mtime time.Time) (string, string, error) {
	top := "ogive-" + version + "-" + goos + "-" + goarch
	members := append([]member{{name: exeName(goos), data: bin, exec: true}}, common...)
	var b bytes.Buffer
	var err error
	name := top + ".tar.gz"
	if goos == "windows" {
		name = top + ".zip"
		err = writeZip(&b, top, members, mtime)
	} else {
		err = writeTarGz(&b, top, members, mtime)
	}
	if err != nil {
		return "", "", err
	}
	if err := writeFile(filepath.Join(out, name), b.Bytes()); err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(b.Bytes())
	return name, hex.EncodeToString(sum[:]), nil
}

// writeSums writes SHA256SUMS in the form sha256sum -c reads.
func writeSums(out string, sums map[string]string) error {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return writeFile(filepath.Join(out, "SHA256SUMS"), b.Bytes())
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func output(name string, args ...string) (string, error) {
	var stderr bytes.Buffer
	c := exec.Command(name, args...)
	c.Stderr = &stderr
	b, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(b)), nil
}
