package archive

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

func TestFileMeta(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(p, nil, 0o600))
	must(t, os.Chmod(p, 0o640|os.ModeSetuid|os.ModeSticky))
	mtime := time.Unix(981173106, 123456789)
	must(t, os.Chtimes(p, time.Now(), mtime))
	fi, err := os.Stat(p)
	must(t, err)
	m := FileMeta(fi)
	if want := (crypt.Meta{HasMode: true, Mode: 0o5640, HasMTime: true, MTime: mtime}); !m.Equal(want) {
		t.Errorf("FileMeta = %+v, want %+v", m, want)
	}
	for _, other := range []string{"/dev/null", t.TempDir()} {
		fi, err := os.Stat(other)
		must(t, err)
		if m := FileMeta(fi); !m.Empty() {
			t.Errorf("%s: FileMeta = %+v, want nothing", other, m)
		}
	}
}

// TestPutRecordsSourceMeta: a put of a regular file seals the mode and time of the
// fstat of the open file in a version 3 ID; a source without Meta gives version 2.
func TestPutRecordsSourceMeta(t *testing.T) {
	master := make([]byte, 32)
	rand.Read(master)
	s := object.NewMemory(nil, nil, 0)
	p := filepath.Join(t.TempDir(), "notes.txt")
	must(t, os.WriteFile(p, []byte("some notes\n"), 0o600))
	must(t, os.Chmod(p, 0o751|os.ModeSetgid))
	mtime := time.Date(2003, 4, 5, 6, 7, 8, 9, time.UTC)
	must(t, os.Chtimes(p, time.Now(), mtime))
	f, err := os.Open(p)
	must(t, err)
	defer f.Close()
	// The path now names another file: what is recorded is the open file's.
	must(t, os.Rename(p, p+".old"))
	must(t, os.WriteFile(p, []byte("another"), 0o644))
	fi, err := f.Stat()
	must(t, err)

	res, err := PutResumable(t.Context(), s, lend(master), SeekableSource{R: f, Name: "notes.txt", Size: 11, Meta: FileMeta(fi)}, ResumableOptions{})
	must(t, err)
	name, meta, k, err := crypt.OpenIDMeta(master, res.ID)
	must(t, err)
	k.Destroy()
	if want := (crypt.Meta{HasMode: true, Mode: 0o2751, HasMTime: true, MTime: mtime}); name != "notes.txt" || !meta.Equal(want) {
		t.Errorf("put of a file: %q, %+v; want %+v", name, meta, want)
	}

	res, err = PutResumable(t.Context(), s, lend(master), SeekableSource{R: bytes.NewReader([]byte("x")), Name: "x", Size: 1}, ResumableOptions{})
	must(t, err)
	if _, meta, k, err := crypt.OpenIDMeta(master, res.ID); err != nil || !meta.Empty() || res.ID[0] != 'A' {
		t.Errorf("put of a reader: %+v, %v; want a version 2 ID", meta, err)
	} else {
		k.Destroy()
	}
}

// TestCommitAppliesMeta: the file gets the archive's permission bits, never setuid,
// setgid or sticky, and its modification time, when it gets its final name.
func TestCommitAppliesMeta(t *testing.T) {
	d := newTestDownload(t)
	mtime := time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	for _, c := range []struct {
		mode uint16
		want os.FileMode
	}{{0o640, 0o640}, {0o7755, 0o755}, {0, 0}, {0o200, 0o200}} {
		final := filepath.Join(t.TempDir(), "out.bin")
		tg := d.downloaded(t, final, false)
		tg.SetMeta(crypt.Meta{HasMode: true, Mode: c.mode, HasMTime: true, MTime: mtime})
		if st, err := os.Stat(PartialPath(final)); err != nil || st.Mode() != 0o600 {
			t.Fatalf("the temporary file before Commit: %v, %v; want 0600", st.Mode(), err)
		}
		must(t, tg.Commit())
		st, err := os.Stat(final)
		must(t, err)
		if st.Mode() != c.want || !st.ModTime().Equal(mtime.Truncate(mtimeResolution)) {
			t.Errorf("mode %#o: the file has %v, %v; want %v, %v", c.mode, st.Mode(), st.ModTime(), c.want, mtime.Truncate(mtimeResolution))
		}
		if got, err := os.ReadFile(final); err != nil || !bytes.Equal(got, d.plain) {
			t.Errorf("mode %#o: content differs (%v)", c.mode, err)
		}
	}
}

// TestCommitMetaThroughTheDescriptor: the mode and time go to the file downloaded,
// through its descriptor, never to whatever the temporary name holds by then: a file
// put in its place by someone who can write the directory keeps its own.
func TestCommitMetaThroughTheDescriptor(t *testing.T) {
	d := newTestDownload(t)
	dir := t.TempDir()
	final := filepath.Join(dir, "out.bin")
	tg := d.downloaded(t, final, false)
	tg.SetMeta(crypt.Meta{HasMode: true, Mode: 0o644, HasMTime: true, MTime: time.Unix(1e9, 0)})
	decoy := filepath.Join(dir, "decoy")
	must(t, os.WriteFile(decoy, []byte("theirs"), 0o600))
	decoyTime := time.Unix(1.5e9, 0)
	must(t, os.Chtimes(decoy, decoyTime, decoyTime))
	must(t, os.Rename(PartialPath(final), filepath.Join(dir, "moved")))
	must(t, os.Rename(decoy, PartialPath(final)))
	if err := tg.Commit(); !errors.Is(err, ErrTempReplaced) {
		t.Fatalf("Commit = %v, want ErrTempReplaced", err)
	}
	st, err := os.Stat(PartialPath(final))
	must(t, err)
	if st.Mode() != 0o600 || !st.ModTime().Equal(decoyTime) {
		t.Errorf("the file under the temporary name got %v, %v", st.Mode(), st.ModTime())
	}
}

// TestChmodBeforeResumeGetsNewSalt: a file whose mode changed between an interrupted
// upload and the next run, its content and time unchanged, is uploaded afresh under a
// new salt, so that the ID records the mode the file has; the stale upload is aborted.
func TestChmodBeforeResumeGetsNewSalt(t *testing.T) {
	r := newResumeRig(t, 40<<20)
	mem := standardStore()
	put := func(s object.Store) (PutResult, error) {
		src := r.source()
		fi, err := src.R.(*os.File).Stat()
		must(t, err)
		src.Meta = FileMeta(fi)
		return PutResumable(t.Context(), s, lend(r.master), src, ResumableOptions{
			PutOptions: PutOptions{Concurrency: 1, StorageClass: "STANDARD"}, States: r.states, Bucket: "b"})
	}
	broken := &failingStore{Store: mem, failParts: map[int32]bool{2: true, 3: true}}
	if _, err := put(broken); err == nil {
		t.Fatal("interrupted put succeeded")
	}
	rec, err := r.record()
	must(t, err)
	if _, meta, k, err := crypt.OpenIDMeta(r.master, rec.ID); err != nil || meta.Mode != 0o600 {
		t.Fatalf("the interrupted upload's ID records %+v, %v; want mode 0600", meta, err)
	} else {
		k.Destroy()
	}
	must(t, os.Chmod(r.path, 0o644))
	res, err := put(mem)
	must(t, err)
	if res.ResumedFrom != 0 || res.ID == rec.ID {
		t.Fatalf("a source with another mode resumed (%d parts) or kept its ID", res.ResumedFrom)
	}
	_, meta, k, err := crypt.OpenIDMeta(r.master, res.ID)
	must(t, err)
	k.Destroy()
	if !meta.HasMode || meta.Mode != 0o644 {
		t.Errorf("the new ID records %+v, want mode 0644", meta)
	}
	if ups, _ := mem.ListUploads(t.Context()); len(ups) != 0 {
		t.Fatalf("the stale upload was not aborted: %v", ups)
	}
}
