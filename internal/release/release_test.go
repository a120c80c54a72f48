package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testMembers = []member{
	{name: "README.md", data: []byte("# ogive\n")},
	{name: "man/man1/ogive.1", data: []byte(".TH OGIVE 1\n")},
	{name: "ogive", data: []byte("\x7fELF binary"), exec: true},
	{name: "completions/_ogive", data: []byte("#compdef ogive\n")},
}

// reversed is testMembers staged in another order.
func reversed() []member {
	r := make([]member, len(testMembers))
	for i, m := range testMembers {
		r[len(r)-1-i] = m
	}
	return r
}

var testTime = time.Date(2026, 11, 29, 12, 34, 56, 0, time.UTC)

// TestTarGzDeterministic: the same members give the same bytes, whatever
// order they were staged in, and the archive holds nothing of the machine:
// entries in byte order with their directories first, modes 0755/0644,
// the given time, owner 0 without names.
func TestTarGzDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeTarGz(&a, "ogive-v1.0.0-linux-amd64", testMembers, testTime); err != nil {
		t.Fatal(err)
	}
	if err := writeTarGz(&b, "ogive-v1.0.0-linux-amd64", reversed(), testTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes of the same members differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q, time %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(testTime) {
			t.Errorf("%s: owner %d:%d %q:%q, time %v", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		if len(h.PAXRecords) != 0 {
			t.Errorf("%s: PAX records %v", h.Name, h.PAXRecords)
		}
		body, _ := io.ReadAll(tr)
		got = append(got, h.Name+" "+modeString(h.Mode)+" "+string(body))
	}
	want := []string{
		"ogive-v1.0.0-linux-amd64/ 755 ",
		"ogive-v1.0.0-linux-amd64/README.md 644 # ogive\n",
		"ogive-v1.0.0-linux-amd64/completions/ 755 ",
		"ogive-v1.0.0-linux-amd64/completions/_ogive 644 #compdef ogive\n",
		"ogive-v1.0.0-linux-amd64/man/ 755 ",
		"ogive-v1.0.0-linux-amd64/man/man1/ 755 ",
		"ogive-v1.0.0-linux-amd64/man/man1/ogive.1 644 .TH OGIVE 1\n",
		"ogive-v1.0.0-linux-amd64/ogive 755 \x7fELF binary",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("entries:\n%q\nwant\n%q", got, want)
	}

	var c bytes.Buffer
	if err := writeTarGz(&c, "ogive-v1.0.0-linux-amd64", testMembers, testTime.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("another time gave the same bytes: the time is not written")
	}
}

func modeString(m int64) string { return strconv.FormatInt(m, 8) }

// TestZipDeterministic is TestTarGzDeterministic for the Windows archive,
// whose times must not depend on the build machine's time zone.
func TestZipDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeZip(&a, "ogive-v1.0.0-windows-amd64", testMembers, testTime); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&b, "ogive-v1.0.0-windows-amd64", reversed(), testTime.In(time.FixedZone("elsewhere", 5*3600))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes of the same members differ (order or zone)")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		if !f.Modified.Equal(testTime) {
			t.Errorf("%s: time %v", f.Name, f.Modified)
		}
		got = append(got, f.Name+" "+f.Mode().String()+" "+string(body))
	}
	want := []string{
		"ogive-v1.0.0-windows-amd64/ drwxr-xr-x ",
		"ogive-v1.0.0-windows-amd64/README.md -rw-r--r-- # ogive\n",
		"ogive-v1.0.0-windows-amd64/completions/ drwxr-xr-x ",
		"ogive-v1.0.0-windows-amd64/completions/_ogive -rw-r--r-- #compdef ogive\n",
		"ogive-v1.0.0-windows-amd64/man/ drwxr-xr-x ",
		"ogive-v1.0.0-windows-amd64/man/man1/ drwxr-xr-x ",
		"ogive-v1.0.0-windows-amd64/man/man1/ogive.1 -rw-r--r-- .TH OGIVE 1\n",
		"ogive-v1.0.0-windows-amd64/ogive -rwxr-xr-x \x7fELF binary",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("entries:\n%q\nwant\n%q", got, want)
	}
}

// TestBuildEnvPinned: settings of the caller that change the code the
// compiler makes are overridden, each once; the rest pass through.
func TestBuildEnvPinned(t *testing.T) {
	env := buildEnv([]string{"HOME=/home/u", "GOAMD64=v3", "CGO_ENABLED=1", "GOFLAGS=-race", "GOEXPERIMENT=arenas", "GOTOOLCHAIN=local"}, "darwin", "arm64", "go1.26.8")
	seen := map[string]int{}
	vals := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		seen[k]++
		vals[k] = v
	}
	want := map[string]string{
		"HOME": "/home/u", "GOAMD64": "v1", "GOARM64": "v8.0", "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly",
		"GOEXPERIMENT": "", "GOOS": "darwin", "GOARCH": "arm64", "GOTOOLCHAIN": "go1.26.8", "GOWORK": "off",
	}
	for k, v := range want {
		if vals[k] != v || seen[k] != 1 {
			t.Errorf("%s=%q (%d times), want %q once", k, vals[k], seen[k], v)
		}
	}
}

func TestToolchainOf(t *testing.T) {
	for _, c := range []struct{ mod, want string }{
		{`{"Go": "1.26.8"}`, "go1.26.8"},
		{`{"Go": "1.26.8", "Toolchain": "go1.26.9"}`, "go1.26.9"},
		{`{"Go": "1.26"}`, ""},
	} {
		got, err := toolchainOf(c.mod)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("%s: %q, %v; want %q", c.mod, got, err, c.want)
		}
	}
}

func TestVersionChecked(t *testing.T) {
	for _, v := range []string{"", "dev", "0.9.0", "v0.9", "v0.9.0 ", "v0.9.0/../x"} {
		if err := run(options{version: v, targets: allTargets}, io.Discard); err == nil || !strings.Contains(err.Error(), "version") {
			t.Errorf("version %q: %v", v, err)
		}
	}
	if err := run(options{version: "v0.9.0", targets: []string{"plan9/amd64"}}, io.Discard); err == nil || !strings.Contains(err.Error(), "plan9") {
		t.Errorf("unknown target: %v", err)
	}
}

// TestGoSources: of the ignored files git lists, those the go command
// would compile make a tree dirty; built binaries and archives do not.
func TestGoSources(t *testing.T) {
	got := goSources("ogive\ndist/SHA256SUMS\nextra_local.go\nsub/go.work\nx/asm_amd64.s\nres.syso\n.bench/out.txt\n")
	want := "extra_local.go sub/go.work x/asm_amd64.s res.syso"
	if strings.Join(got, " ") != want {
		t.Errorf("goSources: %q, want %q", got, want)
	}
}
