package cmd_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/crypt"
)

// TestTampering changes stored objects in the server's data directory, as
// someone with access to the bucket could: one byte flipped anywhere, the
// object truncated or extended, two objects' bodies swapped, one copied
// over another. get must fail with an authentication error, exit 1 and
// leave nothing in the destination directory; to stdout it may only have
// written a prefix of the true plaintext.
func TestTampering(t *testing.T) {
	r := newRig(t, rigOptions{})
	plain := map[string][]byte{
		"a.bin": randomBytes(t, 5*crypt.PackageSize+1234), // six packages
		"b.bin": randomBytes(t, 5*crypt.PackageSize+1234), // same size as a
		"c.txt": []byte("a short one\n"),
	}
	names := []string{"a.bin", "b.bin", "c.txt"}
	var paths []string
	for _, n := range names {
		paths = append(paths, r.write(n, plain[n]))
	}
	ids := r.put(paths...)
	r.restoreAll(ids...)
	id := map[string]string{}
	stored := map[string][]byte{}
	for i, n := range names {
		id[n] = ids[i]
		b, err := os.ReadFile(r.objectPath(ids[i]))
		if err != nil {
			t.Fatal(err)
		}
		stored[n] = b
	}
	set := func(t *testing.T, name string, body []byte) {
		t.Helper()
		if err := os.WriteFile(r.objectPath(id[name]), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	flip := func(off int) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			b := bytes.Clone(stored["a.bin"])
			b[off] ^= 0x01
			set(t, "a.bin", b)
			return []string{"a.bin"}
		}
	}
	resize := func(n int) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			set(t, "a.bin", bytes.Clone(stored["a.bin"][:n]))
			return []string{"a.bin"}
		}
	}
	a := stored["a.bin"]
	pkg := crypt.MaxPackageLen
	cases := []struct {
		name   string
		tamper func(t *testing.T) []string // returns the archives that must now fail
	}{
		{"flip/first-byte", flip(0)},
		{"flip/header-of-third-package", flip(2*pkg + 3)},
		{"flip/middle", flip(len(a) / 2)},
		{"flip/tag-of-first-package", flip(pkg - 1)},
		{"flip/last-byte", flip(len(a) - 1)},
		{"truncate/one-byte", resize(len(a) - 1)},
		{"truncate/whole-packages", resize(3 * pkg)},
		{"truncate/empty", resize(0)},
		{"append/one-byte", func(t *testing.T) []string {
			set(t, "a.bin", append(bytes.Clone(a), 0))
			return []string{"a.bin"}
		}},
		{"append/a-valid-package", func(t *testing.T) []string {
			set(t, "a.bin", append(bytes.Clone(a), a[:pkg]...))
			return []string{"a.bin"}
		}},
		{"swap/a-and-b", func(t *testing.T) []string {
			set(t, "a.bin", stored["b.bin"])
			set(t, "b.bin", stored["a.bin"])
			return []string{"a.bin", "b.bin"}
		}},
		{"copy/a-over-c", func(t *testing.T) []string {
			set(t, "c.txt", stored["a.bin"])
			return []string{"c.txt"}
		}},
		{"copy/c-over-a", func(t *testing.T) []string {
			set(t, "a.bin", stored["c.txt"])
			return []string{"a.bin"}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				for _, n := range names {
					set(t, n, stored[n])
				}
			}()
			for _, name := range tc.tamper(t) {
				out := r.mkdir("out-" + strings.ReplaceAll(tc.name, "/", "-") + "-" + name + "-" + string(rune('a'+i)))
				res := r.ogive("", "get", "--password-file", r.pwFile, id[name], out)
				if res.code != 1 {
					t.Fatalf("get %s: want exit 1: %s", name, res)
				}
				if !strings.Contains(res.stderr, crypt.ErrAuthentication.Error()) || !strings.Contains(res.stderr, "hint: the archive was modified") {
					t.Errorf("get %s: not an authentication error: %q", name, res.stderr)
				}
				if got := entries(t, out); len(got) != 0 {
					t.Errorf("get %s left %q in the destination", name, got)
				}
				res = r.ogive("", "get", "--password-file", r.pwFile, id[name], "-")
				if res.code != 1 {
					t.Errorf("get %s to stdout: want exit 1: %s", name, res)
				}
				if !bytes.HasPrefix(plain[name], []byte(res.stdout)) {
					t.Errorf("get %s wrote %d bytes to stdout that are not a prefix of the plaintext", name, len(res.stdout))
				}
			}
		})
	}

	// With every object back as it was, every archive reads again: the
	// failures above were the tampering's doing.
	out := r.mkdir("untampered")
	for _, n := range names {
		if res := r.ogive("", "get", "--password-file", r.pwFile, id[n], out); res.code != 0 {
			t.Fatalf("get %s after restoring the object: %s", n, res)
		}
		if got, _ := os.ReadFile(filepath.Join(out, n)); !bytes.Equal(got, plain[n]) {
			t.Errorf("%s differs after restoring the object", n)
		}
	}

	t.Run("block-device", func(t *testing.T) { tamperedBlockDevice(t, r, id["a.bin"], plain["a.bin"], a) })
}

// tamperedBlockDevice downloads a tampered archive into a loop block device,
// which cannot be written under a temporary name: only packages that
// authenticated may reach it, each at its own offset.
func tamperedBlockDevice(t *testing.T, r *rig, id string, plain, stored []byte) {
	if !canLoop() {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must test block devices: it needs root and losetup")
		}
		t.Skip("needs root and losetup to make a loop block device")
	}
	const fill = 0xAA
	img := r.write("disk.img", bytes.Repeat([]byte{fill}, 1<<20))
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "--detach", dev).Run() })

	bad := 3 // the package whose tag is flipped
	body := bytes.Clone(stored)
	body[(bad+1)*crypt.MaxPackageLen-1] ^= 0x80
	if err := os.WriteFile(r.objectPath(id), body, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.WriteFile(r.objectPath(id), stored, 0o644)

	res := r.ogive("", "get", "--password-file", r.pwFile, "--output", filepath.Base(dev), id, filepath.Dir(dev))
	if res.code != 1 || !strings.Contains(res.stderr, crypt.ErrAuthentication.Error()) {
		t.Fatalf("get into %s: want an authentication error: %s", dev, res)
	}
	got, err := os.ReadFile(dev)
	if err != nil {
		t.Fatal(err)
	}
	untouched := func(b []byte) bool { return bytes.Count(b, []byte{fill}) == len(b) }
	for k := 0; k*crypt.PackageSize < len(got); k++ {
		lo := k * crypt.PackageSize
		hi := min(lo+crypt.PackageSize, len(got))
		region := got[lo:hi]
		switch {
		case k >= bad && !untouched(region):
			t.Errorf("package %d: written to the device although the stream failed to authenticate at package %d", k, bad)
		case k < bad && lo < len(plain) && !untouched(region) && !bytes.Equal(region[:min(len(region), len(plain)-lo)], plain[lo:min(hi, len(plain))]):
			t.Errorf("package %d: the device holds bytes that are neither untouched nor the plaintext", k)
		}
	}
}

func canLoop() bool {
	_, err := exec.LookPath("losetup")
	return err == nil && os.Geteuid() == 0
}
