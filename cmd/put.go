package cmd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/flight"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/progress"
	"github.com/ogive-project/ogive/resume"
)

type putOptions struct {
	name         string
	storageClass string
	concurrency  int
	expectedSize string
	json         bool
	noResume     bool
	noNotes      bool
	prices       prices
	stdin        bool // "-" is among the sources: --name is its
}

func newPutCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &putOptions{}
	c := &cobra.Command{
		Use:   "put <file|directory>...",
		Short: "Encrypt and upload files, directories, block devices or stdin",
		Long: `Encrypt each file and upload it to the bucket, by default in the DEEP_ARCHIVE storage
class. A file may be a regular file, a block device (its whole size is read) or "-" for
standard input, which then needs --name.

A directory becomes one archive, named after it with ".tar" (--name overrides when it is
the only directory and stdin is not put): a tar stream of the whole tree (files,
directories, symbolic links, stored and never followed, hard links, with their modes, times
and owners; sockets, FIFOs and devices are skipped, each named), with an index beside it in
the STANDARD class that "ogive ls" reads at any time without a restore. The same tree gives
the same stream, so its upload resumes like a file's; a tree that changed since starts
afresh, and a file that changes while it is read fails the put, naming it, and leaves
nothing behind. One archive for a whole tree costs one object's overhead instead of one per
file. Each new storage ID is printed on stdout, one per
line; progress and messages go to stderr. Putting the same file twice makes two archives.

Uploads of files and block devices resume: if one is interrupted (Ctrl-C, a lost network,
a crash, a reboot), running the same command again continues it, after checking that the
parts already sent match the file. A file that changed in between is uploaded afresh under
a new key. --no-resume starts afresh anyway; "ogive uploads" lists and aborts unfinished
uploads. Standard input cannot resume; while it is sent, its storage ID is locked in the
state directory (below), so that "ogive uploads --abort" leaves it alone.

Standard input is read once, so each of its parts is written, encrypted, to a file of its
own in the state directory before it is sent, and the file is deleted once S3 has the part:
the parts in flight take at most 1 GiB of disk there (or two parts, if larger), and memory
stays small. The files have no name and only you can read them. Without the state
directory the parts are held in memory, 3 at a time, up to 1 GiB each. Its parts grow from
16 MiB to 5 GiB, so a stream may reach 16.3 TiB (17,911,408,230,399 bytes); a longer one
needs --expected-size, which plans its parts as those of a file of that size, up to
48.8 TiB, and fails the put if the stream turns out longer.

Each upload of a file is recorded in $XDG_STATE_HOME/ogive/uploads (by default
~/.local/state/ogive/uploads), which must belong to you and be writable by nobody else.
Without it (neither HOME nor XDG_STATE_HOME is set, or the directory is refused) a file
cannot be put, and standard input is put with a warning that nothing keeps "ogive uploads
--abort" from aborting it. Records are authenticated with your master key: one that does
not authenticate is ignored. One put of a file runs at a time: a second one stops at once
with "another ogive (pid N) is uploading FILE".

Up to 32 parts of a file go at once, each streamed from the file (memory stays small),
fewer when the link is full; --concurrency fixes the number. Files of up to 48.8 TiB are
accepted.

On a terminal, a bar on stderr shows the encrypted bytes sent (each once, even when a part
is sent again), the rate (after 2 s), the time taken and the time left, fitted to the
terminal's width; it says "stalled" when nothing has moved for a while, and a resumed
upload starts it past the parts already sent. Elsewhere put prints one summary line per file when it is uploaded. Once per
run, put also notes the minimum storage duration S3 bills for the storage class (180 days
for DEEP_ARCHIVE) and what that costs at least, and, when several small files are put,
what S3 charges per object beyond its bytes. At a terminal the notes are wrapped to its
width; elsewhere each is one line. --no-notes (or OGIVE_NO_NOTES=1 in the environment)
silences the notes alone; --quiet prints none of these.`,
		Example: `  ogive put photos.tar
  ogive put ~/photos
  echo "$PASSWORD" | ogive put photos.tar
  tar c ~/photos | ogive put --password-file ~/.ogive-pw --name photos.tar -
  zfs send pool@snap | ogive put --name pool.zfs --expected-size 20T -
  sudo ogive put /dev/sdf
  ogive put --json *.tar | jq -r .id`,
		Args: minArgs(1, "at least one file to upload"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := resolvePrices(c.Flags(), f.Getenv, &o.prices, putPriceSettings); err != nil {
				return err
			}
			off, err := notesOff(o.noNotes, f.Getenv)
			if err != nil {
				return err
			}
			o.noNotes = off
			return runPut(c.Context(), f, g, o, args)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.name, "name", "", "name to store for stdin (\"-\"), or for the one directory put")
	fl.StringVar(&o.storageClass, "storage-class", "DEEP_ARCHIVE", "S3 storage class of the new objects")
	fl.IntVar(&o.concurrency, "concurrency", 0, fmt.Sprintf("parts uploaded at once, %d at most (default: adapts to the link, %d to %d; %d from stdin without a state directory)", maxConcurrency, flight.Min, flight.Max, archive.DefaultConcurrency))
	fl.StringVar(&o.expectedSize, "expected-size", "", "size of stdin (\"-\"), in bytes or with a unit of 1024 (500G, 2T): plans its parts up to 48.8 TiB, where an unknown size stops at 16.3 TiB")
	fl.BoolVar(&o.noResume, "no-resume", false, "start afresh even if an interrupted upload of the file is recorded")
	fl.BoolVar(&o.json, "json", false, "print one JSON object per uploaded file instead of its storage ID (fields: man ogive-put, JSON OUTPUT)")
	fl.BoolVar(&o.noNotes, "no-notes", false, "print no notes on what S3 bills (env "+noNotesEnv+"=1); the bar and summaries stay")
	bindPrices(fl, &o.prices, putPriceSettings)
	return c
}

func runPut(ctx context.Context, f *Factory, g *globalOptions, o *putOptions, args []string) error {
	if archive.BenchmarkPlaintext {
		fmt.Fprintln(f.Err, "ogive: WARNING: benchmark build (ogive_bench_plaintext): files are uploaded WITHOUT encryption")
	}
	stdin := false
	for _, a := range args {
		if a == "-" {
			if stdin {
				return usagef("stdin (\"-\") can be read only once")
			}
			stdin = true
		}
	}
	if stdin && o.name == "" {
		return usagef("uploading stdin needs --name")
	}
	o.stdin = stdin
	if o.name != "" && !stdin {
		if d := countDirs(args); d > 1 {
			return usagef("--name names stdin (\"-\") or one directory; there are %d directories to put", d)
		}
	}
	if err := checkConcurrency(o.concurrency); err != nil {
		return err
	}
	var expected *int64
	if o.expectedSize != "" {
		if !stdin {
			return usagef("--expected-size is the size of stdin (\"-\"), which is not among the files to put")
		}
		n, err := parseSize(o.expectedSize)
		if err != nil {
			return usagef("--expected-size %q: %v", o.expectedSize, err)
		}
		if err := archive.CheckSize(n); err != nil {
			return fmt.Errorf("--expected-size %s: %w", o.expectedSize, err)
		}
		expected = &n
	}
	// Check every source before asking for a password, so a typo fails fast.
	for _, a := range args {
		if isDir(a) {
			continue // walked when its turn comes
		}
		if a != "-" {
			file, size, err := openSource(a)
			if err != nil {
				return err
			}
			file.Close()
			if err := archive.CheckSize(size); err != nil {
				return fmt.Errorf("%s: %w", a, err)
			}
		}
	}

	if err := profilePathSet(g); err != nil {
		return err
	}
	// Files record their uploads in the state directory: a put without a
	// safe one fails here, before the password and before any request. Stdin
	// only locks its storage ID there, against "ogive uploads --abort": a put
	// of stdin alone goes without, unprotected, rather than fail.
	states, err := f.openStates()
	switch {
	case err != nil && (len(args) > 1 || !stdin):
		return err
	case err != nil:
		fmt.Fprintf(f.Err, "warning: %s; this put of stdin takes no lock, so an 'ogive uploads --abort' meanwhile would abort it\n", oneLine(err.Error()))
		states = nil
	default:
		defer states.Close()
	}

	s, err := f.openSession(ctx, g, stdin)
	if err != nil {
		return err
	}
	failed, uploaded, requests := 0, 0, 0
	var stored int64
	for _, a := range args {
		n, err := putOne(ctx, f, g, s, states, o, expected, a)
		if err != nil {
			// One file's error is the command's: no summary line after it.
			if errors.Is(err, context.Canceled) || len(args) == 1 {
				return err
			}
			failed++
			report(f.Err, err)
			continue
		}
		uploaded++
		stored += crypt.EncryptedSize(n)
		requests += putRequests(crypt.EncryptedSize(n))
	}
	if uploaded > 0 && !g.quiet && !o.noNotes {
		cols := 0
		if width := f.errColumns(); width != nil {
			cols = width()
		}
		for _, note := range []string{
			minimumStorageNote(o.prices, o.storageClass, uploaded, stored),
			smallFilesNote(o.prices, o.storageClass, uploaded, requests, stored),
		} {
			if note != "" {
				printNote(f.Err, cols, note)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d uploads failed", failed, len(args))
	}
	return nil
}

// openStates opens the directory of upload records.
func (f *Factory) openStates() (*resume.Store, error) {
	dir, err := f.stateDir()
	if err != nil {
		return nil, err
	}
	return resume.Open(dir)
}

// putOne uploads one file and returns its plaintext size.
func putOne(ctx context.Context, f *Factory, g *globalOptions, s *session, states *resume.Store, o *putOptions, expected *int64, arg string) (int64, error) {
	if isDir(arg) {
		return putDir(ctx, f, g, s, states, o, arg)
	}
	name, size := o.name, int64(-1)
	var file *os.File
	if arg != "-" {
		var err error
		file, size, err = openSource(arg)
		if err != nil {
			return 0, err
		}
		defer file.Close()
		name = filepath.Base(arg)
	}
	// The bar counts ciphertext as it leaves for S3, each byte once even
	// when a part is sent again: its total is the encrypted size, a little
	// more than the file's. Counting only what S3 acknowledged would hold
	// it still while 32 parts are in flight on a slow link.
	tr := startTransfer(f, g, "put "+printable(name), crypt.EncryptedSize(size)) // -1 for stdin: a spinner
	opts := archive.PutOptions{
		StorageClass: o.storageClass,
		Concurrency:  o.concurrency,
		MaxIDLen:     maxIDLen(s.profile.Prefix),
		OnSent:       tr.Add,
	}
	// The master key is lent to archive, which opens it only to derive keys.
	var id string
	var n int64
	var err error
	if file == nil {
		opts.ExpectedSize = expected
		if states != nil {
			// Parts of stdin are spooled in the state directory: private,
			// checked, and on disk rather than on a /tmp in memory.
			opts.SpoolDir = states.Dir()
			// Held from before the multipart upload exists until it is
			// completed or aborted: "ogive uploads --abort" takes the same
			// lock before it aborts anything.
			opts.Claim = func(id string) (func(), error) {
				lock, err := states.LockID(s.profile.Bucket, s.profile.Prefix, id, name)
				if err != nil {
					return nil, err
				}
				return func() {
					if err := lock.Release(); err != nil && !g.quiet {
						tr.Println(err.Error())
					}
				}, nil
			}
		}
		id, n, err = archive.Put(ctx, s.store, s.withMasterKey, archive.Source{R: f.In, Name: name, Size: -1}, opts)
	} else {
		var src archive.SeekableSource
		if src, err = seekableSource(arg, file, size); err == nil {
			var res archive.PutResult
			res, err = archive.PutResumable(ctx, s.store, s.withMasterKey, src, resumableOptions(g, s, states, o, tr, opts))
			id, n = res.ID, res.Size
		}
	}
	if err != nil {
		tr.Stop()
		if file != nil && errors.Is(err, context.Canceled) {
			fmt.Fprintf(f.Err, "Upload of %s interrupted; run the same command again to resume it, or 'ogive uploads --abort' to drop it.\n", printable(name))
		}
		return 0, err
	}
	// The summary first: it erases the bar, and the ID goes to stdout,
	// which may share the terminal with it.
	// When stdout shares the terminal, the whole ID follows on a line of
	// its own: the summary names it short, so that it fits the width.
	shown := id
	if f.OutIsTerminal && f.ErrIsTerminal && !o.json && len(id) > archive.ShortIDLen {
		shown = id[:archive.ShortIDLen] + "…"
	}
	tr.Done(fmt.Sprintf("Uploaded %s (%s) as %s", printable(name), sizeNow(n, tr), shown))
	if o.json {
		rec := putJSON{ID: id, Name: name, Size: n, StorageClass: storageClassName(o.storageClass)}
		if err := writeJSONLine(f.Out, rec); err != nil {
			return 0, err
		}
	} else {
		fmt.Fprintln(f.Out, id)
	}
	return n, nil
}

// resumableOptions are the options of a resumable put of a file, block
// device or directory, followed by the bar tr.
func resumableOptions(g *globalOptions, s *session, states *resume.Store, o *putOptions, tr *progress.Transfer, opts archive.PutOptions) archive.ResumableOptions {
	return archive.ResumableOptions{
		PutOptions: opts,
		States:     states,
		Bucket:     s.profile.Bucket,
		Prefix:     s.profile.Prefix,
		NoResume:   o.noResume,
		// Parts sent by an interrupted run: the bar starts past them, and
		// the rate does not count them.
		OnKept: func(p object.Part) { tr.Resume(p.Size) },
		Notice: func(msg string) {
			if !g.quiet {
				// A notice may quote a name or an error from the bucket.
				tr.Println(oneLine(msg))
			}
		},
	}
}

// maxIDLen is the longest storage ID whose object key, with the profile's prefix as
// keys carry it, fits S3's 1024 bytes.
func maxIDLen(prefix string) int {
	return crypt.MaxIDLen - len(object.KeyPrefix(prefix))
}

// seekableSource describes an opened file or block device for a resumable
// upload, with what identifies it across runs.
func seekableSource(path string, file *os.File, size int64) (archive.SeekableSource, error) {
	id, err := resume.Identify(path, file, size)
	if err != nil {
		return archive.SeekableSource{}, err
	}
	st, err := file.Stat() // the file read, whatever its path names by now
	if err != nil {
		return archive.SeekableSource{}, err
	}
	return archive.SeekableSource{
		R: file, Name: filepath.Base(path), Size: size, Identity: id, Meta: archive.FileMeta(st),
		Recheck: func() (resume.Source, error) { return resume.Identify(path, file, size) },
	}, nil
}

// storageClassName is the class S3 stores an object in for --storage-class.
func storageClassName(class string) string {
	if class == "" {
		return "DEEP_ARCHIVE"
	}
	return class
}

// openSource opens a regular file or block device for reading and returns
// its size.
func openSource(path string) (*os.File, int64, error) {
	// Windows names disks and volumes (\\.\PhysicalDrive0) in a namespace of
	// their own, and os.Stat takes them for empty files.
	if archive.DevicePath(path) {
		return nil, 0, fmt.Errorf("%s: %w", path, archive.ErrNoDevices)
	}
	// Look before opening: opening a FIFO blocks until something writes to
	// it, and opening some character devices (tapes) has side effects.
	if st, err := os.Stat(path); err == nil {
		m := st.Mode()
		if !m.IsRegular() && !m.IsDir() && (m&os.ModeDevice == 0 || m&os.ModeCharDevice != 0) {
			return nil, 0, notFileOrDevice(path)
		}
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	switch m := st.Mode(); {
	case m.IsRegular():
		return file, st.Size(), nil
	case m&os.ModeDevice != 0 && m&os.ModeCharDevice == 0:
		size, err := archive.DeviceSize(file)
		if err != nil {
			file.Close()
			return nil, 0, fmt.Errorf("size of block device %s: %w", path, err)
		}
		return file, size, nil
	case m.IsDir():
		file.Close()
		// A directory itself is walked (putDir); one named through a link is not.
		return nil, 0, fmt.Errorf("%s is a symbolic link to a directory, which put does not follow: give the directory itself", path)
	default:
		file.Close()
		return nil, 0, notFileOrDevice(path)
	}
}

func notFileOrDevice(path string) error {
	return fmt.Errorf("%s is not a regular file or block device; pipe it in with \"-\" and --name", path)
}

// sizeSyntax is a number, with a fraction if need be, and an optional
// unit: 500G, 2T, 1.5TiB, 48.8T, 123456 (bytes).
var sizeSyntax = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(?i:([KMGTP])(?:i?B)?|B)?$`)

// parseSize reads --expected-size. Units are powers of 1024: a size given
// in decimal units (GB) is taken a little larger than meant, which only
// makes the parts of a stream a little larger. A fraction of a byte counts
// as one.
func parseSize(s string) (int64, error) {
	m := sizeSyntax.FindStringSubmatch(s)
	if m == nil || (strings.Contains(m[1], ".") && m[2] == "") {
		return 0, errors.New("give a size in bytes, or with a unit of 1024 bytes: 500G, 2T, 1.5T")
	}
	mult := int64(1)
	if m[2] != "" {
		mult <<= 10 * (strings.Index("KMGTP", strings.ToUpper(m[2])) + 1)
	}
	if !strings.Contains(m[1], ".") {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, errors.New("too large a number")
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil || f*float64(mult) >= math.MaxInt64 {
		return 0, errors.New("too large a number")
	}
	return int64(math.Ceil(f * float64(mult))), nil
}
