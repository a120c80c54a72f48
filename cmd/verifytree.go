package cmd

import (
	"context"
	"fmt"

	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/progress"
)

// verifyTree checks a directory against a directory archive.
func verifyTree(ctx context.Context, f *Factory, g *globalOptions, id, dir string) error {
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	a, err := s.identify(ctx, id)
	if err != nil {
		return err
	}
	if !a.Meta.Tree {
		return fmt.Errorf("%s is a directory, and %s (%s) is a single file: give the file", printable(dir), a.ID, printable(a.Name))
	}
	checksums, ok := s.store.(object.PartChecksummer)
	if !ok {
		return fmt.Errorf("verify %s: %w", a.ID, errNoPartChecksums)
	}
	ix, err := dirarchive.ReadIndex(ctx, s.store, s.withMasterKey, a.ID)
	if err != nil {
		return err
	}
	keys, err := s.keys(a)
	if err != nil {
		return err
	}
	defer keys.Destroy()
	var files int64
	for i := range ix.Entries {
		files += ix.Entries[i].Size
	}
	tr := progress.Start(f.Err, progress.Options{
		Label: "verify " + printable(a.Name), Total: files, Bar: f.ErrIsTerminal, Width: f.errColumns(), Quiet: g.quiet,
	})
	v, err := dirarchive.Verify(ctx, checksums, a, keys, ix, dir, dirarchive.VerifyOptions{OnBytes: tr.Add})
	tr.Stop()
	if err != nil {
		return err
	}
	if v.Parts > 0 {
		fmt.Fprintf(f.Out, "verified: %s matches %s (%s, %s, %s, %s)\n", printable(dir), a.ID, printable(a.Name),
			entryCount(v.Entries), formatSize(v.Bytes), plural(v.Parts, "part"))
		if !v.ByETag {
			fmt.Fprintln(f.Err, "warning: the bucket's ETags are not MD5s (SSE-KMS or SSE-C), so only the parts' CRC-32Cs were compared")
		}
		return nil
	}
	fmt.Fprintf(f.Out, "verified: %s matches the index of %s (%s, %s, %s)\n", printable(dir), a.ID, printable(a.Name),
		entryCount(v.Entries), formatSize(v.Bytes))
	if !g.quiet {
		fmt.Fprintf(f.Err, "note: the archive's parts were not compared (%s), so the files were checked against the index's SHA-256 sums only\n", oneLine(v.PartsSkipped))
	}
	return nil
}
