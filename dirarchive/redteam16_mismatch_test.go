//go:build unix

package dirarchive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/dirindex"
	"github.com/ogive-project/ogive/object"
)

// Red team, issue 16: a directory archive whose tar stream says other
// things than its index. Both are authentic (whoever holds the master key
// wrote them, e.g. a tool or an ogive with a bug, or someone who shares the
// profile); the index is what "ogive ls" shows and what get claims to check
// every file against (dirarchive.Extract: "ix is its index, which checks
// every file's content"). Only files whose tar path is in the index are
// checked, and only if the tar entry is a regular file: an entry the index
// does not list, or lists as another kind, is extracted unchecked.

var redMTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// redTar writes the entries in order and checks that each one starts at
// the offset given (the tar layout the crafted index relies on).
func redTar(t *testing.T, entries []redEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if int64(buf.Len()) != e.at {
			t.Fatalf("%s: at %d, want %d", e.h.Name, buf.Len(), e.at)
		}
		h := e.h
		h.ModTime, h.Format = redMTime, tar.FormatUSTAR
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		h.Size = int64(len(e.body))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.body)
		tw.Flush()
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type redEntry struct {
	at   int64
	h    tar.Header
	body []byte
}

func redIndexEntry(kind dirindex.Kind, path string, off, hdrLen int64, content []byte) dirindex.Entry {
	e := dirindex.Entry{Kind: kind, Mode: 0o755, MTime: redMTime, Offset: off, HeaderLen: hdrLen, Path: path}
	if kind == dirindex.File {
		e.Mode, e.Size, e.SHA256 = 0o644, int64(len(content)), sha256.Sum256(content)
	}
	return e
}

// putCrafted stores stream as a directory archive with an index listing
// entries, as ogive would (the index written under the archive's own index
// keys just before the object exists).
func putCrafted(t *testing.T, stream []byte, entries []dirindex.Entry) (object.Store, crypt.Decrypter, string, int64, *dirindex.Index) {
	t.Helper()
	ctx := context.Background()
	master := make([]byte, crypt.MasterKeySize)
	for i := range master {
		master[i] = byte(i)
	}
	s := object.NewMemory(time.Now, func(object.Tier) time.Duration { return 0 }, time.Hour)
	src := archive.Source{R: bytes.NewReader(stream), Name: "top.tar", Size: int64(len(stream)),
		Meta: crypt.Meta{HasMode: true, Mode: 0o755, HasMTime: true, MTime: redMTime, Tree: true}}
	id, _, err := archive.Put(ctx, s, lend(master), src, archive.PutOptions{
		StorageClass: "STANDARD",
		BeforeObject: func(ctx context.Context, id string) error {
			ix := &dirindex.Index{ID: id, StreamSize: int64(len(stream)), Entries: entries}
			plain, err := ix.Marshal()
			if err != nil {
				return err
			}
			salt, err := crypt.ParseID(id)
			if err != nil {
				return err
			}
			keys, err := crypt.DeriveIndexKeys(master, salt)
			if err != nil {
				return err
			}
			defer keys.Destroy()
			enc, err := keys.EncryptReader(bytes.NewReader(plain), 0)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(enc)
			if err != nil {
				return err
			}
			return s.Put(ctx, dirarchive.IndexKey(id), body, object.PutOptions{StorageClass: "STANDARD"})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Head(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := dirarchive.ReadIndex(ctx, s, lend(master), id)
	if err != nil {
		t.Fatalf("the crafted index is refused: %v", err)
	}
	_, _, keys, err := crypt.OpenIDMeta(master, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(keys.Destroy)
	return s, keys, id, info.Size, ix
}

// onlyListed fails unless every name extracted under dest/top is one the
// index lists, as the kind it lists.
func onlyListed(t *testing.T, dest string, ix *dirindex.Index) {
	t.Helper()
	filepath.WalkDir(filepath.Join(dest, "top"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dest, p)
		e, ok := ix.Lookup(filepath.ToSlash(rel))
		switch {
		case !ok:
			t.Errorf("%s was extracted but the index does not list it (ls never shows it, nothing checked it)", rel)
		case e.Kind == dirindex.File && !d.Type().IsRegular():
			t.Errorf("%s was extracted as %v, the index says a file with a SHA-256 (which was never checked)", rel, d.Type())
		}
		return nil
	})
}

// TestRedteam16StreamEntriesNotInIndex: the index lists top/, top/d/ and
// top/d/a.txt. The stream holds, between top/d/ and top/d/a.txt (in the
// header blocks the index gives top/d/), a symbolic link top/d/evil ->
// /etc and a file top/d/sneaky.txt. The offsets tile, the sizes match,
// every check of the index passes; "ogive get" extracts both unlisted
// entries, unchecked, and says nothing.
func TestRedteam16StreamEntriesNotInIndex(t *testing.T) {
	hello, pwned := []byte("hello"), []byte("pwned")
	stream := redTar(t, []redEntry{
		{0, tar.Header{Name: "top/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
		{512, tar.Header{Name: "top/d/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
		{1024, tar.Header{Name: "top/d/evil", Typeflag: tar.TypeSymlink, Linkname: "/etc", Mode: 0o777}, nil},
		{1536, tar.Header{Name: "top/d/sneaky.txt", Typeflag: tar.TypeReg}, pwned},
		{2560, tar.Header{Name: "top/d/a.txt", Typeflag: tar.TypeReg}, hello},
	})
	s, keys, id, size, ix := putCrafted(t, stream, []dirindex.Entry{
		redIndexEntry(dirindex.Dir, "top", 0, 512, nil),
		redIndexEntry(dirindex.Dir, "top/d", 512, 2048, nil),
		redIndexEntry(dirindex.File, "top/d/a.txt", 2560, 512, hello),
	})
	dest := t.TempDir()
	_, err := dirarchive.Extract(context.Background(), s, keys, id, size, ix, dest, "top", dirarchive.GetOptions{})
	onlyListed(t, dest, ix)
	if err == nil {
		t.Errorf("get of a stream holding entries its index does not list succeeded")
	}
}

// TestRedteam16StreamKindNotIndexKind: the index says top/a.txt is a file
// of 5 bytes with its SHA-256; the stream has a symbolic link there, to
// /etc/passwd (and, in the block the index counts as a.txt's content, a
// directory top/x/ it does not list). Whole or with --include a.txt, get
// makes the link; the SHA-256 is never looked at.
func TestRedteam16StreamKindNotIndexKind(t *testing.T) {
	hello := []byte("hello")
	stream := redTar(t, []redEntry{
		{0, tar.Header{Name: "top/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
		{512, tar.Header{Name: "top/a.txt", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd", Mode: 0o777}, nil},
		{1024, tar.Header{Name: "top/x/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
	})
	s, keys, id, size, ix := putCrafted(t, stream, []dirindex.Entry{
		redIndexEntry(dirindex.Dir, "top", 0, 512, nil),
		redIndexEntry(dirindex.File, "top/a.txt", 512, 512, hello),
	})
	for _, include := range [][]string{nil, {"a.txt"}} {
		t.Run("include="+filepath.Join(include...), func(t *testing.T) {
			dest := t.TempDir()
			_, err := dirarchive.Extract(context.Background(), s, keys, id, size, ix, dest, "top", dirarchive.GetOptions{Include: include})
			onlyListed(t, dest, ix)
			if fi, lerr := os.Lstat(filepath.Join(dest, "top", "a.txt")); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
				target, _ := os.Readlink(filepath.Join(dest, "top", "a.txt"))
				t.Errorf("top/a.txt, a file of 5 bytes in the index, was extracted as a symbolic link to %s", target)
			}
			if err == nil {
				t.Errorf("get of a stream whose entry is not of the index's kind succeeded")
			}
		})
	}
}
