//go:build unix

package cmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	fp "github.com/ogive-project/ogive/internal/faultproxy"
)

// TestSharedDirectory plays another local user who can write the directory
// a victim downloads into, and a symbolic link at the final name: get never
// writes through a link, never writes into or resumes from a file it did not
// create, never resumes ranges it cannot prove, and the victim's other files
// stay untouched. Tests run as root, as in CI; "another user's" files are
// given to uid 65534.
func TestSharedDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test plays another user with chown: run it as root, as CI does")
	}
	r := newRig(t, rigOptions{})
	plain := randomBytes(t, 5*crypt.PackageSize+321)
	ids := r.put(r.write("a.bin", plain))
	id := ids[0]
	r.restoreAll(id)
	info, err := r.directStore().Head(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	const victimText = "the victim's other file\n"
	victimDir := r.mkdir("victim")
	victim := filepath.Join(victimDir, "notes.txt")
	checkVictim := func(t *testing.T) {
		t.Helper()
		if b, err := os.ReadFile(victim); err != nil || string(b) != victimText {
			t.Errorf("the victim's other file now holds %d bytes (%v)", len(b), err)
		}
	}
	n := 0
	// setup makes a fresh destination and the victim's file, and plants.
	setup := func(t *testing.T, plant func(out string)) string {
		t.Helper()
		if err := os.WriteFile(victim, []byte(victimText), 0o600); err != nil {
			t.Fatal(err)
		}
		n++
		out := r.mkdir(fmt.Sprintf("out-%d", n))
		plant(out)
		return out
	}
	get := func(args ...string) result {
		return r.ogive("", append([]string{"get", "--password-file", r.pwFile}, args...)...)
	}
	// ok checks a get that must succeed: the file is exactly the plaintext,
	// a new private file of this user.
	ok := func(t *testing.T, res result, out string) {
		t.Helper()
		if res.code != 0 {
			t.Fatalf("get: %s", res)
		}
		final := filepath.Join(out, "a.bin")
		got, err := os.ReadFile(final)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("a.bin holds %d bytes (%v) that are not the archive's plaintext", len(got), err)
		}
		fi, _ := os.Lstat(final)
		st := fi.Sys().(*syscall.Stat_t)
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || int(st.Uid) != os.Geteuid() || st.Nlink != 1 {
			t.Errorf("a.bin: mode %v, uid %d, %d links; want a private file of this user", fi.Mode(), st.Uid, st.Nlink)
		}
		if strings.Contains(res.stderr, "Resuming") {
			t.Errorf("get resumed: %s", res.stderr)
		}
		checkVictim(t)
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// forged writes a partial file of bytes never in the archive and a
	// record claiming them as its one range, with tags the forger can compute.
	forged := bytes.Repeat([]byte("forged! "), len(plain)/8+1)[:len(plain)]
	forge := func(t *testing.T, out string, rec []byte, uid int, mode os.FileMode) {
		t.Helper()
		partial := archive.PartialPath(filepath.Join(out, "a.bin"))
		must(t, os.WriteFile(partial, forged, 0o600))
		must(t, os.Lchown(partial, uid, uid))
		must(t, os.Chmod(partial, mode))
		must(t, os.WriteFile(partial+".json", rec, 0o644))
		must(t, os.Lchown(partial+".json", uid, uid))
	}
	// A record as ogive wrote them before issue 13, one JSON object with a
	// CRC-32C per range, and one as now (docs/FORMAT.md §5.3), whose tag
	// for range 0 is given.
	crcs, err := json.Marshal(map[string]any{"id": info.Key, "size": info.Size, "modified": info.LastModified.UTC(),
		"chunk_packages": archive.DefaultChunkPackages, "done": map[string]uint32{"0": crc32.Checksum(forged, crc32.MakeTable(crc32.Castagnoli))}})
	must(t, err)
	header, err := json.Marshal(map[string]any{"format": "ogive partial download 1", "id": info.Key, "size": info.Size,
		"modified": info.LastModified.UTC(), "chunk_packages": archive.DefaultChunkPackages})
	must(t, err)
	record := func(tag []byte) []byte { return fmt.Appendf(header, "\n0 %x\n", tag) }

	t.Run("final-name/symlink-to-a-file", func(t *testing.T) {
		out := setup(t, func(out string) { must(t, os.Symlink(victim, filepath.Join(out, "a.bin"))) })
		res := get(id, out)
		if res.code != 1 || !strings.Contains(res.stderr, "a.bin: destination is a symbolic link; refusing to write through it") ||
			!strings.Contains(res.stderr, "hint: --force replaces the link itself") {
			t.Fatalf("get to a link: want a clear refusal: %s", res)
		}
		checkVictim(t)
		if got := entries(t, out); len(got) != 1 {
			t.Errorf("a refused get left %q", got)
		}
		// --force replaces the link itself, never what it points to.
		ok(t, get("--force", id, out), out)
		if got := entries(t, out); len(got) != 1 {
			t.Errorf("get --force left %q", got)
		}
	})

	t.Run("final-name/symlink-to-a-character-device", func(t *testing.T) {
		out := setup(t, func(out string) { must(t, os.Symlink("/dev/null", filepath.Join(out, "a.bin"))) })
		res := get(id, out)
		if res.code != 1 || !strings.Contains(res.stderr, "refusing to write through it") {
			t.Fatalf("get to a link to /dev/null: want a clear refusal: %s", res)
		}
		if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("/dev/null is no longer a character device: %v", err)
		}
	})

	t.Run("final-name/symlink-to-a-block-device", func(t *testing.T) {
		if !canLoop() {
			if os.Getenv("CI") != "" {
				t.Fatal("CI must test block devices: it needs root and losetup")
			}
			t.Skip("needs root and losetup to make a loop block device")
		}
		const fill = 0xAA
		img := r.write(fmt.Sprintf("disk-%d.img", n), bytes.Repeat([]byte{fill}, 1<<20))
		lo, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
		if err != nil {
			t.Fatalf("losetup: %v: %s", err, lo)
		}
		dev := strings.TrimSpace(string(lo))
		t.Cleanup(func() { exec.Command("losetup", "--detach", dev).Run() })
		out := setup(t, func(out string) { must(t, os.Symlink(dev, filepath.Join(out, "a.bin"))) })
		res := get(id, out)
		if res.code != 1 || !strings.Contains(res.stderr, "refusing to write through it") ||
			!strings.Contains(res.stderr, "name the device, not a link to it") {
			t.Fatalf("get to a link to %s: want a clear refusal: %s", dev, res)
		}
		if b, err := os.ReadFile(dev); err != nil || bytes.Count(b, []byte{fill}) != len(b) {
			t.Fatalf("%s was written through the link (%v)", dev, err)
		}
		// The device itself, named as the original's "get ID /dev --output sdf" does, is written.
		if res := get("--output", filepath.Base(dev), id, filepath.Dir(dev)); res.code != 0 {
			t.Fatalf("get into %s: %s", dev, res)
		}
		if b, err := os.ReadFile(dev); err != nil || !bytes.Equal(b[:len(plain)], plain) {
			t.Fatalf("%s does not hold the plaintext (%v)", dev, err)
		}
	})

	t.Run("partial/symlink-to-the-victim's-file", func(t *testing.T) {
		out := setup(t, func(out string) {
			must(t, os.Symlink(victim, archive.PartialPath(filepath.Join(out, "a.bin"))))
		})
		res := get(id, out)
		ok(t, res, out)
		if !strings.Contains(res.stderr, "warning: not resuming from "+archive.PartialPath(filepath.Join(out, "a.bin"))+", it is a symbolic link: set it aside as ") {
			t.Errorf("no warning about the link: %s", res.stderr)
		}
	})

	t.Run("record/symlink-to-the-victim's-file", func(t *testing.T) {
		out := setup(t, func(out string) {
			must(t, os.Symlink(victim, archive.PartialPath(filepath.Join(out, "a.bin"))+".json"))
		})
		ok(t, get(id, out), out)
		if got := entries(t, out); len(got) != 1 {
			t.Errorf("left %q", got)
		}
	})

	t.Run("record-temp/symlink-to-the-victim's-file", func(t *testing.T) {
		out := setup(t, func(out string) {
			must(t, os.Symlink(victim, archive.PartialPath(filepath.Join(out, "a.bin"))+".json.tmp"))
		})
		ok(t, get(id, out), out)
		if got := entries(t, out); len(got) != 1 {
			t.Errorf("left %q", got)
		}
	})

	t.Run("partial/empty-0666-of-another-user", func(t *testing.T) {
		var partial string
		out := setup(t, func(out string) {
			partial = archive.PartialPath(filepath.Join(out, "a.bin"))
			must(t, os.WriteFile(partial, nil, 0o666))
			must(t, os.Lchown(partial, 65534, 65534))
			must(t, os.Chmod(partial, 0o666))
		})
		res := get(id, out)
		ok(t, res, out)
		if !strings.Contains(res.stderr, "it belongs to uid 65534: set it aside as ") {
			t.Errorf("no warning about the planted file: %s", res.stderr)
		}
		// The other user's file never received a byte of the plaintext.
		var asides []string
		for _, name := range entries(t, out) {
			if name == "a.bin" {
				continue
			}
			asides = append(asides, name)
			fi, err := os.Lstat(filepath.Join(out, name))
			must(t, err)
			if !strings.HasPrefix(name, filepath.Base(partial)+".aside-") || fi.Size() != 0 ||
				fi.Mode().Perm() != 0o666 || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
				t.Errorf("%s: %v, %d bytes; want the planted file set aside, empty", name, fi.Mode(), fi.Size())
			}
		}
		if len(asides) != 1 {
			t.Errorf("left %q besides a.bin, want the planted file set aside", asides)
		}
	})

	otherKeys, err := crypt.DeriveKeys(randomBytes(t, crypt.MasterKeySize), crypt.Salt{1})
	if err != nil {
		t.Fatal(err)
	}
	defer otherKeys.Destroy()
	otherMAC, err := otherKeys.RangeMAC()
	if err != nil {
		t.Fatal(err)
	}
	defer otherMAC.Destroy()
	tag, err := otherMAC.Sum(archive.DefaultChunkPackages, 0, forged)
	must(t, err)
	for _, tc := range []struct {
		name string
		rec  []byte
		uid  int
		mode os.FileMode
	}{
		{"forged/another-user's-partial-and-record-with-crcs", crcs, 65534, 0o644},
		{"forged/own-private-partial-and-record-with-crcs", crcs, 0, 0o600},
		{"forged/own-private-partial-and-record-with-macs-under-another-key", record(tag[:]), 0, 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := setup(t, func(out string) { forge(t, out, tc.rec, tc.uid, tc.mode) })
			res := get("--concurrency", "1", id, out)
			ok(t, res, out)
		})
	}
}

// TestLongNameResumes: a file name of 232 or 255 bytes, too long for
// ".NAME.ogive-partial.json.tmp", downloads, and an interrupted download of
// it resumes; no temporary name exceeds 255 bytes. The name is given with
// --output: the local server cannot store the storage ID of so long a name
// (its keys are file names), while S3 can.
func TestLongNameResumes(t *testing.T) {
	r := newRig(t, rigOptions{})
	plain := randomBytes(t, 9<<20) // two 8 MiB ranges
	id := r.put(r.write("long.bin", plain))[0]
	r.restoreAll(id)
	for _, n := range []int{232, 255} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			name := strings.Repeat("n", n-4) + ".bin"
			out := r.mkdir(fmt.Sprintf("out-%d", n))
			// The first range arrives; every later one fails until get gives up.
			r.proxy.SetRules(
				fp.Rule{Fault: fp.None, Match: isGetObject, Limit: 1},
				fp.Rule{Fault: fp.InternalError, Match: isGetObject},
			)
			res := r.ogive("", "get", "--password-file", r.pwFile, "--concurrency", "1", "--output", name, id, out)
			r.proxy.SetRules()
			if res.code != 1 || !strings.Contains(res.stderr, "the same command resumes it") {
				t.Fatalf("interrupted get: %s", res)
			}
			for _, e := range entries(t, out) {
				if len(e) > 255 {
					t.Errorf("a temporary name of %d bytes", len(e))
				}
			}
			res = r.ogive("", "get", "--password-file", r.pwFile, "--concurrency", "1", "--output", name, id, out)
			if res.code != 0 || !strings.Contains(res.stderr, "Resuming the download of long.bin: 1 range of") {
				t.Fatalf("second get: want a resume: %s", res)
			}
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("the resumed download differs from the original (%v)", err)
			}
			if got := entries(t, out); len(got) != 1 {
				t.Errorf("left %q", got)
			}
		})
	}
}
