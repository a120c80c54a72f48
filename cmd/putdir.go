package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/resume"
)

// isDir reports whether a put argument names a directory (a symbolic link
// to one is not walked: the walk never follows links).
func isDir(arg string) bool {
	if arg == "-" {
		return false
	}
	st, err := os.Lstat(arg)
	return err == nil && st.IsDir()
}

func countDirs(args []string) int {
	n := 0
	for _, a := range args {
		if isDir(a) {
			n++
		}
	}
	return n
}

// putDir uploads a directory as a directory archive and returns the size
// of its tar stream.
func putDir(ctx context.Context, f *Factory, g *globalOptions, s *session, states *resume.Store, o *putOptions, dir string) (int64, error) {
	t, err := dirarchive.Walk(dir)
	if err != nil {
		return 0, err
	}
	defer t.Close()
	raiseMemoryLimit(len(t.Entries))
	if !g.quiet {
		for _, p := range t.Skipped {
			fmt.Fprintf(f.Err, "skipped %s: not a file, directory or symbolic link\n", printable(p))
		}
	}
	if err := archive.CheckSize(t.Size()); err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	name := o.name
	if name == "" || isStdinAmong(o) {
		if name, err = dirarchive.Name(dir); err != nil {
			return 0, err
		}
	}
	tr := startTransfer(f, g, "put "+printable(name), crypt.EncryptedSize(t.Size()))
	res, err := dirarchive.Put(ctx, s.store, s.withMasterKey, t, name, resumableOptions(g, s, states, o, tr, archive.PutOptions{
		StorageClass: o.storageClass,
		Concurrency:  o.concurrency,
		MaxIDLen:     maxIDLen(s.profile.Prefix),
		OnSent:       tr.Add,
	}))
	if err != nil {
		tr.Stop()
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(f.Err, "Upload of %s interrupted; run the same command again to resume it, or 'ogive uploads --abort' to drop it.\n", printable(dir))
		}
		return 0, err
	}
	shown := res.ID
	if f.OutIsTerminal && f.ErrIsTerminal && !o.json && len(shown) > archive.ShortIDLen {
		shown = shown[:archive.ShortIDLen] + "…"
	}
	tr.Done(fmt.Sprintf("Uploaded %s (%s, %s) as %s", printable(name), entryCount(len(t.Entries)), sizeNow(res.Size, tr), shown))
	if o.json {
		rec := putJSON{ID: res.ID, Name: name, Size: res.Size, StorageClass: storageClassName(o.storageClass), Entries: len(t.Entries)}
		if err := writeJSONLine(f.Out, rec); err != nil {
			return 0, err
		}
	} else {
		fmt.Fprintln(f.Out, res.ID)
	}
	return res.Size, nil
}

// isStdinAmong is set by runPut when stdin is among the sources: --name is
// then stdin's.
func isStdinAmong(o *putOptions) bool { return o.stdin }

// entryCount is "1 entry" or "n entries".
func entryCount(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}
