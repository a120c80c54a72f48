package cmd

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/progress"
)

type headOptions struct {
	wait    bool
	timeout time.Duration
	json    bool
}

func newHeadCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &headOptions{}
	c := &cobra.Command{
		Use:   "head <storage-id>",
		Short: "Print an archive's status; exit 0 when it can be downloaded",
		Long: `Print the status of one archive: DEEPS (archived), RECOV (restore in progress), READY
(downloadable) or ????? (unknown). The exit status is 0 when the archive is READY, 2 when
it is not downloadable yet, and 1 on error.

With --wait, head waits until a restore in progress completes, checking with a growing
interval (from 1 second up to 15 minutes), and then prints READY; --timeout gives up after
a while with exit status 2. While it waits, stderr shows a status line that is redrawn in
place on a terminal, and elsewhere one line when the wait begins: not a line per check. An archive that is archived with no restore requested fails at
once, as waiting would never end. So a script can run, unattended:

  ogive restore ID && ogive head --wait ID && ogive get ID ~/restored

` + idHelp,
		Example: `  ogive head ID
  ogive head --wait --timeout 50h ID
  ogive head --json ID | jq -r .restore_expiry`,
		Args: exactArgs(1, "one storage ID"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkIDs(args[0]); err != nil {
				return err
			}
			return runHead(c.Context(), f, g, o, args[0])
		},
	}
	fl := c.Flags()
	fl.BoolVar(&o.wait, "wait", false, "wait until a restore in progress completes")
	fl.DurationVar(&o.timeout, "timeout", 0, "with --wait, give up after this long (e.g. 30m, 48h); 0 waits as long as it takes")
	fl.BoolVar(&o.json, "json", false, "print the archive as one JSON object (fields: man ogive-head, JSON OUTPUT)")
	return c
}

// checkWait validates --wait and --timeout, which head and get share.
func checkWait(wait bool, timeout time.Duration) error {
	if timeout < 0 {
		return usagef("--timeout must not be negative")
	}
	if timeout > 0 && !wait {
		return usagef("--timeout applies only with --wait")
	}
	return nil
}

func runHead(ctx context.Context, f *Factory, g *globalOptions, o *headOptions, id string) error {
	if err := checkWait(o.wait, o.timeout); err != nil {
		return err
	}
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	a, err := s.identify(ctx, id)
	if err != nil {
		return err
	}
	id = a.ID // in full, if a prefix was given
	var info object.Info
	var waitErr error
	if o.wait {
		info, waitErr = waitReady(ctx, f, g, s, a, o.timeout)
		// A wait that ends not ready still shows the status it ended on.
		if waitErr != nil && !errors.Is(waitErr, errWaitTimeout) && !errors.Is(waitErr, object.ErrNotRestored) {
			return waitErr
		}
	} else if info, err = s.store.Head(ctx, id); err != nil {
		return err // the store names the operation and the ID
	}
	if o.json {
		plain, err := s.plainSize(a, info.Size)
		if err != nil {
			return err
		}
		if err := writeJSONLine(f.Out, newArchiveJSON(id, a.Name, plain, info.LastModified, info.StorageClass, info.Status).withMeta(a.Meta)); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(f.Out, statusCode(info.Status.State))
	}
	if info.Status.State == object.StateRestored && !info.Status.Expiry.IsZero() && !g.quiet {
		fmt.Fprintf(f.Err, "%s is downloadable until %s\n", printable(a.Name), formatExpiry(info.Status.Expiry))
	}
	if waitErr != nil {
		return waitErr
	}
	switch info.Status.State {
	case object.StateRestored, object.StateAvailable:
		return nil
	}
	return errNotReady
}

// How --wait polls: S3 answers a restore in hours, so checking more often
// than every 15 minutes late in a wait buys nothing, while the first checks
// come quickly for restores that are nearly done.
const (
	waitFirst  = time.Second
	waitFactor = 1.5
	waitMax    = 15 * time.Minute
)

// waitReady checks archive a with HEAD, at growing intervals, until it can
// be downloaded, and returns its last state. Unless --quiet, it says once
// that it waits, on a status line kept up to date at a terminal. It gives up when timeout (if
// not 0) has passed, with errWaitTimeout, and at once for an archive that is
// archived with no restore under way, with object.ErrNotRestored. An
// unknown state ends the wait too: the caller decides what it means.
func waitReady(ctx context.Context, f *Factory, g *globalOptions, s *session, a *archive.Archive, timeout time.Duration) (object.Info, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	interval := waitFirst
	began := time.Now()
	var next atomic.Int64 // when the next check is due, in Unix ns
	var status *progress.Status
	defer func() {
		if status != nil {
			status.Stop()
		}
	}()
	for {
		info, err := s.store.Head(ctx, a.ID)
		if err != nil {
			return info, err // the store names the operation and the ID
		}
		switch info.Status.State {
		case object.StateArchived:
			return info, fmt.Errorf("%s (%s) is archived and no restore was requested, so it will never be ready: %w",
				printable(a.Name), a.ID, object.ErrNotRestored)
		case object.StateRestoring:
		default:
			return info, nil
		}
		sleep := interval
		if timeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return info, fmt.Errorf("%s (%s) is still being restored after %s: %w", printable(a.Name), a.ID, timeout, errWaitTimeout)
			}
			sleep = min(sleep, left)
		}
		next.Store(time.Now().Add(sleep).UnixNano())
		switch {
		case g.quiet || status != nil:
		case f.ErrIsTerminal:
			name := printable(a.Name)
			status = progress.StartStatus(f.Err, f.errColumns(), func(time.Duration) string {
				due := max(time.Until(time.Unix(0, next.Load())), 0)
				return fmt.Sprintf("%s: restore in progress (RECOV), waited %s, next check in %s",
					name, time.Since(began).Round(time.Second), due.Round(time.Second))
			})
		case interval == waitFirst:
			// A line per state, not per check: a log of a 48-hour wait
			// would otherwise hold a hundred of them.
			fmt.Fprintf(f.Err, "%s: restore in progress (RECOV); waiting until it completes, checking at growing intervals up to every %s\n",
				printable(a.Name), formatInterval(waitMax))
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return info, ctx.Err()
		case <-t.C:
		}
		interval = min(time.Duration(float64(interval)*waitFactor), waitMax)
	}
}

// formatInterval prints a round interval for people: "15 min", "90 s".
func formatInterval(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}
