//go:build unix

package dirarchive_test

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/dirindex"
)

// TestRedteam16bIncludeMatchingNothingExtractsAll: GetOptions.Include says
// "if not empty, extracts only the entries whose path ... matches one of
// the patterns, and fetches only the ranges that hold them". With patterns
// that match no entry, Select returns a Selection whose Entries are nil,
// which Extract takes for "no pattern": it downloads the whole archive and
// extracts every file. (cmd's get refuses a pattern matching no file
// before it calls Extract; any other caller of the package gets the whole
// tree, and pays for the whole transfer.)
func TestRedteam16bIncludeMatchingNothingExtractsAll(t *testing.T) {
	hello := []byte("hello")
	stream := redTar(t, []redEntry{
		{0, tar.Header{Name: "top/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
		{512, tar.Header{Name: "top/a.txt", Typeflag: tar.TypeReg}, hello},
	})
	s, keys, id, size, ix := putCrafted(t, stream, []dirindex.Entry{
		redIndexEntry(dirindex.Dir, "top", 0, 512, nil),
		redIndexEntry(dirindex.File, "top/a.txt", 512, 512, hello),
	})
	sel, err := dirarchive.Select(ix, size, []string{"no-such-file"})
	if err != nil {
		t.Fatal(err)
	}
	if sel.Fetch != 0 {
		t.Errorf("a pattern matching nothing fetches %d of %d bytes", sel.Fetch, sel.Total)
	}
	dest := t.TempDir()
	_, err = dirarchive.Extract(context.Background(), s, keys, id, size, ix, dest, "top", dirarchive.GetOptions{Include: []string{"no-such-file"}})
	if _, lerr := os.Lstat(filepath.Join(dest, "top", "a.txt")); lerr == nil {
		t.Errorf("--include no-such-file extracted top/a.txt (err %v)", err)
	}
}
