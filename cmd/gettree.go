package cmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/dirindex"
	"github.com/ogive-project/ogive/extract"
)

// getTree extracts a directory archive into dir/<name>, name being the
// archive's name without ".tar", or --output. get has checked that this
// system extracts (treeExtractable) before waiting for a restore.
func getTree(ctx context.Context, f *Factory, g *globalOptions, o *getOptions, s *session, a *archive.Archive, keys crypt.Decrypter, cipherSize int64, dir string) error {
	name := o.output
	if name == "" {
		name = strings.TrimSuffix(a.Name, ".tar")
		if name == "" {
			name = a.Name
		}
		if err := archive.SafeName(name); err != nil {
			return err
		}
	}
	ix, err := dirarchive.ReadIndex(ctx, s.store, s.withMasterKey, a.ID)
	if errors.Is(err, dirarchive.ErrNoIndex) && len(o.include) == 0 {
		// The data alone is authenticated: the tree can come back without it.
		fmt.Fprintf(f.Err, "warning: %v; extracting from the archive alone\n", err)
		ix, err = nil, nil
	}
	if err != nil {
		return err
	}
	if ix != nil {
		raiseMemoryLimit(len(ix.Entries))
	}
	total, err := keys.PlainSize(cipherSize)
	if err != nil {
		return err
	}
	if ix != nil && len(o.include) > 0 {
		sel, err := dirarchive.Select(ix, cipherSize, o.include)
		if err != nil {
			return err
		}
		files := 0
		for _, e := range sel.Entries {
			if e.Kind != dirindex.Dir {
				files++
			}
		}
		if files == 0 {
			return fmt.Errorf("no entry of %s matches %s", printable(a.Name), printable(strings.Join(o.include, " ")))
		}
		if !g.quiet {
			fmt.Fprintf(f.Err, "Fetching %s of %s for %s: S3 bills the transfer of those bytes only.\n", formatSize(sel.Fetch), formatSize(sel.Total), entryCount(files))
		}
		total = sel.Fetch
	}
	dest := filepath.Join(dir, name)
	tr := startTransfer(f, g, "get "+printable(a.Name), total)
	dl := archive.DownloadOptions{Concurrency: o.concurrency, OnBytes: tr.Add, OnRetry: tr.Retry}
	st, err := dirarchive.Extract(ctx, s.store, keys, a.ID, cipherSize, ix, dir, name, dirarchive.GetOptions{
		Force: o.force, Include: o.include, Download: dl,
		Notice: func(msg string) {
			if !g.quiet {
				tr.Println("warning: " + oneLine(msg))
			}
		},
	})
	if err != nil {
		tr.Stop()
		return err
	}
	tr.Done(fmt.Sprintf("Extracted %s into %s (%s, %s)", printable(a.Name), printable(dest), plural(st.Files, "file"), formatSize(st.Bytes)))
	return nil
}

// treeExtractable fails where this system cannot extract a directory
// archive (Windows), before anything is restored, waited for or fetched.
func treeExtractable(a *archive.Archive) error {
	if err := extract.Available(); err != nil {
		// The stream itself comes out whole: a tar program extracts it.
		return fmt.Errorf("%w; write the tar with 'ogive get %s - > %s.tar' and extract it with tar", err, a.ID, printable(strings.TrimSuffix(a.Name, ".tar")))
	}
	return nil
}
