package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirindex"
	"github.com/ogive-project/ogive/flight"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/progress"
)

type getOptions struct {
	output      string
	force       bool
	concurrency int
	wait        bool
	timeout     time.Duration
	include     []string
}

func newGetCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &getOptions{}
	c := &cobra.Command{
		Use:   "get <storage-id> <directory>",
		Short: "Download and decrypt an archive under its original name",
		Long: `Download an archive, check its authenticity and decrypt it into <directory> under its
original file name, or under --output. The file appears under its final name only after
every byte has authenticated; until then it is a hidden temporary file in the same
directory. An existing file is never replaced without --force. A symbolic link there is
never written through: get refuses it, and --force replaces the link itself. If the
destination is a block device, the archive is written into it after checking that it is
large enough. A directory of "-" writes the plaintext to stdout, which must then not be a
terminal: redirect it to a file or a pipe.

A file gets the modification time recorded when it was put and its read, write and
execute bits less your umask, as tar restores them: a 0666 file comes back 0600 under
umask 077. Setuid, setgid and sticky are never applied. If the file system refuses the
mode or time, the file is kept and get prints a warning.

An interrupted download resumes: the same command fetches only the ranges not yet in the
temporary file (mode 0600), after checking each one against the MAC recorded when it was
written. A file under that temporary name that is not your own private file is never used:
get sets it aside with a warning and starts afresh.

The archive must have been restored first (see "ogive restore" and "ogive head"); if it is
not, get exits with status 2. With --wait, get first waits for a restore in progress to
complete, as "ogive head --wait" does, then downloads.

On a terminal, a bar on stderr shows the bytes authenticated so far, the rate, the time
taken and the time left, fitted to the terminal's width; it says "stalled" when nothing has
come for a while and "retrying" when a range is fetched again, and a resumed download
starts it past the ranges already here. Elsewhere get prints one summary line when it is
done. --quiet prints neither.

` + idHelp,
		Example: `  ogive get 5PqBqHILQoIckevFn5EbXX1yGrgXIgAY2UvWT5ruYD ~/restored
  ogive get ID /dev --output sdg
  ogive get ID - | tar x
  ogive get --wait --timeout 48h ID ~/restored`,
		Args: exactArgs(2, "a storage ID and a destination directory"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkIDs(args[0]); err != nil {
				return err
			}
			return runGet(c.Context(), f, g, o, args[0], args[1])
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "", "file name to write instead of the original one")
	c.Flags().BoolVar(&o.force, "force", false, "replace an existing file, or a symbolic link itself")
	c.Flags().IntVar(&o.concurrency, "concurrency", 0, fmt.Sprintf("ranges downloaded at once, %d at most (default: adapts to the link, %d to %d; %d to stdout)", maxConcurrency, flight.Min, flight.Max, archive.StreamConcurrency))
	c.Flags().StringArrayVar(&o.include, "include", nil, "of a directory archive, extract only the entries whose path after the top directory matches `PATTERN` (repeatable), fetching only the ranges that hold them")
	c.Flags().BoolVar(&o.wait, "wait", false, "wait until a restore in progress completes, then download")
	c.Flags().DurationVar(&o.timeout, "timeout", 0, "with --wait, give up after this long (e.g. 30m, 48h); 0 waits as long as it takes")
	return c
}

func runGet(ctx context.Context, f *Factory, g *globalOptions, o *getOptions, id, dir string) error {
	if err := checkConcurrency(o.concurrency); err != nil {
		return err
	}
	if err := checkWait(o.wait, o.timeout); err != nil {
		return err
	}
	if err := checkDestination(f, o, id, dir); err != nil {
		return err
	}
	if len(o.include) > 0 {
		if dir == "-" {
			return usagef("--include extracts files of a directory archive into a directory, not to stdout")
		}
		if err := dirindex.CheckPatterns(o.include); err != nil {
			return usagef("--include: %v", err)
		}
	}
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	a, err := s.identify(ctx, id)
	if err != nil {
		return err
	}
	if len(o.include) > 0 && !a.Meta.Tree {
		return usagef("--include selects files of a directory archive; %s is a single file", printable(a.Name))
	}
	if a.Meta.Tree && dir != "-" {
		if err := treeExtractable(a); err != nil {
			return err
		}
	}
	id = a.ID // in full, if a prefix was given
	name := a.Name
	keys, err := s.keys(a)
	if err != nil {
		return err
	}
	defer keys.Destroy()

	if o.wait {
		if _, err := waitReady(ctx, f, g, s, a, o.timeout); err != nil {
			return err
		}
	}
	info, err := archive.Locate(ctx, s.store, id)
	if err != nil {
		if dir != "-" && errors.Is(err, object.ErrNotRestored) {
			notePartial(f, filepath.Join(dir, destName(o, name)))
		}
		return err
	}
	dl := archive.DownloadOptions{Concurrency: o.concurrency}
	if a.Meta.Tree && dir != "-" {
		return getTree(ctx, f, g, o, s, a, keys, info.Size, dir)
	}
	if dir == "-" {
		tr := startDownload(f, g, name, keys, info.Size)
		dl.OnBytes, dl.OnRetry = tr.Add, tr.Retry
		n, err := archive.DownloadStream(ctx, s.store, keys, id, info.Size, f.Out, dl)
		if err != nil {
			tr.Stop()
			return err
		}
		tr.Done(fmt.Sprintf("Downloaded %s to stdout (%s)", printable(name), formatSize(n)))
		return nil
	}

	if o.output == "" {
		if err := archive.SafeName(name); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, destName(o, name))
	t, err := archive.NewTarget(path, o.force)
	if err != nil {
		return err
	}
	t.SetMeta(a.Meta)
	if t.Device() {
		size, err := keys.PlainSize(info.Size)
		if err == nil {
			err = t.CheckSize(size)
		}
		if err != nil {
			t.Abort()
			return err
		}
	}
	dl.ChunkPackages = archive.DefaultChunkPackages
	dl.Skip, dl.Done, err = t.Resume(keys, info, dl.ChunkPackages)
	if err != nil {
		t.Abort()
		return err
	}
	if s := t.Suspect(); s != nil {
		noteSuspect(f, s)
	}
	if n := t.Resumed(); n > 0 && !g.quiet {
		fmt.Fprintf(f.Err, "Resuming the download of %s: %s of %s already here.\n", printable(name), plural(n, "range"),
			formatSize(int64(dl.ChunkPackages)*crypt.PackageSize))
	}
	tr := startDownload(f, g, name, keys, info.Size)
	dl.OnBytes, dl.OnRetry = tr.Add, tr.Retry
	// Ranges an earlier run downloaded: the bar starts past them, and the
	// rate does not count them.
	dl.OnSkipped = tr.Resume
	n, err := archive.DownloadAt(ctx, s.store, keys, id, info.Size, t.File(), dl)
	if err != nil {
		tr.Stop()
		// What authenticated stays for the next run, unless the archive
		// itself is bad: then nothing of it is kept.
		if errors.Is(err, crypt.ErrAuthentication) {
			t.Abort()
		} else if kept := t.Keep(); kept != "" {
			err = &keptPartial{err: err, path: kept}
		}
		return err
	}
	err = t.Commit()
	var unset *archive.MetaError
	if err != nil && !errors.As(err, &unset) {
		tr.Stop()
		return err
	}
	tr.Done(fmt.Sprintf("Downloaded %s as %s (%s)", printable(name), printable(path), sizeNow(n, tr)))
	if unset != nil {
		noteMetaUnset(f, path, unset)
	}
	return nil
}

// noteMetaUnset warns, in one line, that the download is complete and kept but
// lacks the archive's mode or time: the bytes are what matter. --quiet keeps it.
func noteMetaUnset(f *Factory, path string, e *archive.MetaError) {
	why := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		why[i] = err.Error()
	}
	fmt.Fprintf(f.Err, "warning: %s is kept, but %s\n", printable(path), oneLine(strings.Join(why, "; ")))
}

// checkDestination checks where get is to write before the password is
// asked for: an existing directory, or stdout when it is not a terminal.
func checkDestination(f *Factory, o *getOptions, id, dir string) error {
	if dir == "-" {
		if f.OutIsTerminal {
			return errTerminalOut
		}
		return nil
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &destinationError{id: id, dir: dir, output: o.output, missing: true}
	case err != nil:
		return fmt.Errorf("destination: %w", err)
	case !st.IsDir():
		return &destinationError{id: id, dir: dir, output: o.output}
	}
	return nil
}

// errTerminalOut is get's refusal to write an archive to a terminal, as gpg
// and age refuse: binary data there garbles the screen and is lost.
var errTerminalOut = errors.New("refusing to write binary data to a terminal")

// destinationError is a destination that is not a directory: most likely
// the name the file was meant to get, which --output gives.
type destinationError struct {
	id, dir, output string
	missing         bool // else it is not a directory
}

func (e *destinationError) Error() string {
	if e.missing {
		return fmt.Sprintf("directory %s does not exist", printable(e.dir))
	}
	return fmt.Sprintf("destination %s is not a directory", printable(e.dir))
}

// hint says how to get what was probably meant.
func (e *destinationError) hint() string {
	parent, base := filepath.Split(filepath.Clean(e.dir))
	if parent == "" {
		parent = "."
	}
	if e.output != "" || base == "" || base == "." || base == ".." || base == "/" {
		return "give the directory to write into; --output names the file in it"
	}
	if !e.missing {
		return fmt.Sprintf("give the directory to write into; to replace %s with the archive, run: ogive get %s %s -o %s --force",
			printable(e.dir), e.id, shellWord(parent), shellWord(base))
	}
	return fmt.Sprintf("create it first (mkdir %s), or to save the file as %s, run: ogive get %s %s -o %s",
		shellWord(e.dir), printable(e.dir), e.id, shellWord(parent), shellWord(base))
}

// destName is the file name a download gets in its directory.
func destName(o *getOptions, archived string) string {
	if o.output != "" {
		return o.output
	}
	return archived
}

// notePartial tells the user that an interrupted download of path is kept,
// when its restored copy expired before it could finish.
func notePartial(f *Factory, path string) {
	if st, err := os.Lstat(archive.PartialPath(path)); err == nil && st.Mode().IsRegular() {
		fmt.Fprintf(f.Err, "The part of %s downloaded before is kept; restore the archive again and get resumes it.\n", printable(filepath.Base(path)))
	}
}

// noteSuspect warns that a file under the download's temporary name was
// not used: someone else may have put it there. A warning: --quiet keeps it.
func noteSuspect(f *Factory, s *archive.Suspect) {
	if s.MovedTo != "" {
		fmt.Fprintf(f.Err, "warning: not resuming from %s, %s: set it aside as %s; starting afresh\n",
			printable(s.Path), s.Problem, printable(filepath.Base(s.MovedTo)))
		return
	}
	err := s.Err
	if inner := errors.Unwrap(err); inner != nil {
		err = inner // the reason, without the paths
	}
	fmt.Fprintf(f.Err, "warning: not resuming from %s, %s (%s): downloading into %s, which a later get will not resume\n",
		printable(s.Path), s.Problem, oneLine(err.Error()), printable(filepath.Base(s.Using)))
}

// startDownload follows a download on stderr. It counts plaintext bytes as
// they authenticate: only those are ever released, so the bar never runs
// ahead of what is really done.
func startDownload(f *Factory, g *globalOptions, name string, keys crypt.Decrypter, cipherSize int64) *progress.Transfer {
	total, err := keys.PlainSize(cipherSize)
	if err != nil {
		total = -1 // the download itself reports the bad size
	}
	return startTransfer(f, g, "get "+printable(name), total)
}
