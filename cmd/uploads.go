package cmd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/restoring"
	"github.com/ogive-project/ogive/resume"
)

type uploadsOptions struct {
	abort bool
	yes   bool
}

func newUploadsCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &uploadsOptions{}
	c := &cobra.Command{
		Use:   "uploads [--abort] [storage-id|upload-id]...",
		Short: "List or abort unfinished uploads, which S3 bills until they end",
		Long: `List the multipart uploads that were started and never completed, from the bucket
(ListMultipartUploads) and from this machine's resume state, for this profile's archives.
S3 bills their parts as stored data until they are completed or aborted. Running the same
"ogive put" again resumes an upload recorded here.

With --abort, abort the given uploads (by storage ID or upload ID), or all of them when none
is given, and forget their resume state. An upload that another ogive on this machine is
sending, of a file or of standard input, is not aborted: each put locks its upload in the
state directory, and --abort takes the same lock first. (A put of standard input run
without a state directory, which it warns about, cannot be told apart.) At a terminal
(standard input or standard error is one, and /dev/tty opens), --abort says there how many
uploads and how many parts and bytes already sent it would throw away, and asks for a "y"
typed after the question appears; --yes skips the question.

Each upload is one line on stdout: the time it started (UTC), its storage ID, name and
source file ("-" for standard input), then in parentheses where it is known (the bucket, or
this machine's resume state only), its upload ID and the parts and bytes the bucket holds
(ListParts). A header naming the columns goes to stderr, so stdout stays one line per upload.`,
		Example: `  ogive uploads
  ogive uploads --abort
  ogive uploads --abort Am2PwO56QfQt-4bZGxAtD2Amt9qL6CQuZlCauhR8HazZpwrbqQuby0fj`,
		RunE: func(c *cobra.Command, args []string) error {
			if !o.abort && len(args) > 0 {
				return usagef("IDs are only taken with --abort")
			}
			return runUploads(c.Context(), f, g, o, args)
		},
	}
	c.Flags().BoolVar(&o.abort, "abort", false, "abort the given unfinished uploads, or all of them")
	c.Flags().BoolVarP(&o.yes, "yes", "y", false, "with --abort, do not ask for confirmation at a terminal")
	return c
}

type unfinished struct {
	id, uploadID, name, source string
	started                    time.Time
	inBucket                   bool
	// tree is set for a directory archive, whose index an interrupted put
	// may have stored already (it goes just before the upload completes).
	tree bool
	// parts and sent are what the bucket holds of the upload (ListParts);
	// partsKnown is false when it could not be listed.
	parts      int
	sent       int64
	partsKnown bool
}

func runUploads(ctx context.Context, f *Factory, g *globalOptions, o *uploadsOptions, ids []string) error {
	// Without a state directory there are no records to show: the bucket's
	// listing still has every upload.
	states, err := f.openStates()
	if errors.Is(err, resume.ErrNoStateDir) {
		states = nil
	} else if err != nil {
		return err
	} else {
		defer states.Close()
	}
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	list, err := findUploads(ctx, s, states)
	if err != nil {
		return err
	}
	if !o.abort {
		if len(list) == 0 {
			fmt.Fprintln(f.Err, "No unfinished uploads.")
			return nil
		}
		if err := listParts(ctx, s, list); err != nil {
			return err
		}
		if !g.quiet {
			fmt.Fprintln(f.Err, "STARTED (UTC)     STORAGE ID  NAME  SOURCE  (WHERE, UPLOAD ID, PARTS AND BYTES SENT)")
		}
		for _, u := range list {
			where := "bucket"
			if !u.inBucket {
				where = "local state only"
			}
			src := u.source
			if src == "" {
				src = "-"
			}
			fmt.Fprintf(f.Out, "%s  %s  %s  %s  (%s, upload %s, %s)\n", u.started.UTC().Format("2006-01-02 15:04"),
				printable(u.id), printable(u.name), printable(src), where, printable(u.uploadID), u.progress())
		}
		return nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var chosen []unfinished
	for _, u := range list {
		if len(want) > 0 && !want[u.id] && !want[u.uploadID] {
			continue
		}
		chosen = append(chosen, u)
	}
	if !o.yes && f.canAsk() && len(chosen) > 0 {
		if err := listParts(ctx, s, chosen); err != nil {
			return err
		}
		if _, err := f.confirm(g, abortQuestion(chosen), "no upload was aborted"); err != nil {
			return err
		}
	}
	aborted := 0
	var busy error
	for _, u := range chosen {
		delete(want, u.id)
		delete(want, u.uploadID)
		ended, err := abortUpload(ctx, s, states, u)
		if errors.Is(err, resume.ErrBusy) {
			err = fmt.Errorf("not aborting the upload of %s (%s): %w", u.name, u.id, &sparedError{err})
			if busy != nil {
				fmt.Fprintf(f.Err, "ogive: %s\n", oneLine(busy.Error()))
			}
			busy = err
			continue
		}
		if err != nil {
			return err
		}
		aborted++
		if ended {
			fmt.Fprintf(f.Err, "The upload of %s (%s) had already ended.\n", printable(u.name), printable(u.id))
		} else {
			fmt.Fprintf(f.Err, "Aborted the upload of %s (%s).\n", printable(u.name), printable(u.id))
		}
	}
	if len(want) > 0 {
		missing := make([]string, 0, len(want))
		for id := range want {
			missing = append(missing, id)
		}
		sort.Strings(missing)
		return fmt.Errorf("no unfinished upload %s: %w", strings.Join(missing, ", "), object.ErrNotFound)
	}
	if busy != nil {
		return busy
	}
	if aborted == 0 {
		fmt.Fprintln(f.Err, "No unfinished uploads.")
	}
	return nil
}

// sparedError is the resume.ErrBusy of an upload that --abort leaves to the
// put sending it: its hint is not the one a second put gets.
type sparedError struct{ err error }

func (e *sparedError) Error() string { return e.err.Error() }
func (e *sparedError) Unwrap() error { return e.err }

// abortUpload aborts one unfinished upload and forgets its record; ended
// says the bucket no longer had it (its put completed or aborted it since it
// was listed). It takes the lock of the upload's source, if recorded here,
// and of its storage ID, which a put of stdin holds: so it never aborts an
// upload that another ogive with this state directory is sending
// (resume.ErrBusy). Without a state directory there is no lock to take.
func abortUpload(ctx context.Context, s *session, states *resume.Store, u unfinished) (ended bool, err error) {
	if states != nil {
		if u.source != "" {
			lock, err := states.Lock(s.profile.Bucket, s.profile.Prefix, u.source)
			if err != nil {
				return false, err
			}
			defer lock.Release()
		}
		lock, err := states.LockID(s.profile.Bucket, s.profile.Prefix, u.id, u.name)
		if err != nil {
			return false, err
		}
		defer lock.Release()
	}
	if u.inBucket {
		err := s.store.AbortUpload(ctx, u.id, u.uploadID)
		if errors.Is(err, object.ErrNotFound) {
			ended = true
		} else if err != nil {
			return false, fmt.Errorf("abort upload of %s: %w", u.name, err)
		}
	}
	if u.tree {
		// The index of an archive that will never be is dropped too; one
		// beside an archive that exists (its put completed meanwhile) stays.
		if _, err := s.store.Head(ctx, u.id); errors.Is(err, object.ErrNotFound) {
			if err := s.store.Delete(ctx, dirarchive.IndexKey(u.id)); err != nil {
				return ended, fmt.Errorf("delete the index of %s: %w", u.name, err)
			}
		}
	}
	if u.source != "" {
		return ended, states.Remove(s.profile.Bucket, s.profile.Prefix, u.source)
	}
	return ended, nil
}

// findUploads merges the bucket's unfinished uploads of this profile's
// archives with the uploads recorded on this machine (states may be nil).
// Only records that authenticate are read. A record is matched to the
// bucket's upload by upload ID, or by storage ID while it has none yet (its
// put is creating the upload): it must be listed before the records are read
// for that to hold.
func findUploads(ctx context.Context, s *session, states *resume.Store) ([]unfinished, error) {
	remote, err := s.store.ListUploads(ctx)
	if err != nil {
		return nil, fmt.Errorf("list unfinished uploads: %w", err)
	}
	var local []*resume.Upload
	if states != nil {
		var key *crypt.RecordKey
		err := s.withMasterKey(func(master []byte) error {
			var err error
			key, err = crypt.DeriveRecordKey(master)
			return err
		})
		if err != nil {
			return nil, err
		}
		local, err = states.All(s.profile.Bucket, s.profile.Prefix, key)
		key.Destroy()
		if err != nil {
			return nil, err
		}
	}
	byUpload := map[string]*resume.Upload{}
	creating := map[string]*resume.Upload{}
	for _, u := range local {
		if u.UploadID == "" {
			creating[u.ID] = u
		} else {
			byUpload[u.UploadID] = u
		}
	}
	var out []unfinished
	err = s.withMasterKey(func(master []byte) error {
		for _, r := range remote {
			name, meta, keys, err := crypt.OpenIDMeta(master, r.Key)
			if err != nil {
				continue // another tool's upload, or another master key's
			}
			keys.Destroy()
			u := unfinished{id: r.Key, uploadID: r.UploadID, name: name, started: r.Initiated, inBucket: true, tree: meta.Tree}
			if l := byUpload[r.UploadID]; l != nil {
				u.source = l.Source.Path
				delete(byUpload, r.UploadID)
			} else if l := creating[r.Key]; l != nil {
				u.source = l.Source.Path
			}
			out = append(out, u)
		}
		for _, l := range byUpload {
			name, meta, keys, err := crypt.OpenIDMeta(master, l.ID)
			if err != nil {
				continue
			}
			keys.Destroy()
			out = append(out, unfinished{id: l.ID, uploadID: l.UploadID, name: name, source: l.Source.Path, started: l.Started, tree: meta.Tree})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].started.Before(out[j].started) })
	return out, err
}

// listParts fills in what the bucket holds of each upload in list, many
// uploads at once (restoring.Pool): far from S3 each ListParts is a round
// trip. An upload that ended meanwhile, or whose parts cannot be listed,
// shows as unknown rather than failing the listing.
func listParts(ctx context.Context, s *session, list []unfinished) error {
	_, err := restoring.Pool{}.Run(ctx, len(list), func(ctx context.Context, i int) error {
		u := &list[i]
		if !u.inBucket {
			return nil
		}
		parts, err := s.store.ListParts(ctx, u.id, u.uploadID)
		if object.Throttled(err) {
			return err // the pool slows down and asks again
		}
		if err != nil {
			return nil // shown as "parts unknown"
		}
		u.parts, u.sent, u.partsKnown = len(parts), 0, true
		for _, p := range parts {
			u.sent += p.Size
		}
		return nil
	})
	return err
}

// progress is what the bucket holds of u, for a person.
func (u unfinished) progress() string {
	switch {
	case !u.inBucket:
		return "nothing in the bucket"
	case !u.partsKnown:
		return "parts unknown"
	}
	return countParts(u.parts) + ", " + formatSize(u.sent) + " sent"
}

func countParts(n int) string {
	if n == 1 {
		return "1 part"
	}
	return fmt.Sprintf("%d parts", n)
}

// abortQuestion asks whether to throw away the uploads in list, and says
// how much of them the bucket holds.
func abortQuestion(list []unfinished) string {
	var b strings.Builder
	parts, sent, unknown := 0, int64(0), false
	for _, u := range list {
		fmt.Fprintf(&b, "  %s  %s  (%s)\n", printable(u.name), printable(u.id), u.progress())
		parts += u.parts
		sent += u.sent
		unknown = unknown || u.inBucket && !u.partsKnown
	}
	what := "1 unfinished upload"
	if len(list) > 1 {
		what = fmt.Sprintf("%d unfinished uploads", len(list))
	}
	total := countParts(parts) + ", " + formatSize(sent)
	if unknown {
		total += " and parts not listed"
	}
	fmt.Fprintf(&b, "Abort %s and throw away what they sent (%s)?", what, total)
	return b.String()
}
