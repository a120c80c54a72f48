package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/restoring"
)

type rmOptions struct {
	force  bool
	yes    bool
	prices prices
}

func newRmCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &rmOptions{}
	c := &cobra.Command{
		Use:   "rm <storage-id>...",
		Short: "Delete archives from the bucket",
		Long: `Delete archives for good: once deleted, an archive cannot be restored by anybody.

Deep Archive bills every object for at least 180 days of storage: deleting one sooner is
charged as if it had stayed the remaining days (GLACIER and GLACIER_IR: 90 days;
STANDARD_IA and ONEZONE_IA: 30). rm refuses to delete an archive younger than that unless
--force is given, and says what the early deletion costs, from the prices in
docs/PRICING.md or the --price flag.

Every ID is checked before anything is deleted: if one is not an archive of this profile,
or needs --force, nothing is deleted; an ID given twice is deleted once. At a terminal
(standard input or standard error is one, and /dev/tty opens), rm then names what it is
about to delete, with the early-deletion charges, and asks on the terminal for a "y" typed
after the question appears before deleting anything; --yes skips the question. Without a
terminal (cron, CI, or both standard input and standard error redirected) it does not ask.
When it does not ask, each ID must be given in full or by at least 12 characters: a short
prefix could pick another archive once the one meant is gone. rm needs the
s3:DeleteObject permission, which the other commands do not.

` + idHelp,
		Example: `  ogive rm 5PqBqHILQoIckevFn5EbXX1yGrgXIgAY2UvWT5ruYD
  ogive rm --force ID1 ID2
  ogive rm --yes ID`,
		Args: minArgs(1, "at least one storage ID"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkIDs(args...); err != nil {
				return err
			}
			if o.yes || !f.canAsk() {
				// Checked before the password: no question will show
				// the whole ID of what a short prefix picked.
				if err := checkUnaskedIDs(args); err != nil {
					return err
				}
			}
			if err := resolvePrices(c.Flags(), f.Getenv, &o.prices, storagePriceSettings); err != nil {
				return err
			}
			return runRm(c.Context(), f, g, o, args, time.Now())
		},
	}
	c.Flags().BoolVar(&o.force, "force", false, "delete archives younger than their minimum storage duration, and pay for the remaining days")
	c.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation at a terminal")
	bindPrices(c.Flags(), &o.prices, storagePriceSettings)
	return c
}

// rmTarget is an archive rm has looked up and may delete.
type rmTarget struct {
	archive   *archive.Archive
	info      object.Info
	remaining int     // days of the minimum storage duration left; 0 if none
	charge    float64 // estimated early-deletion charge in USD
	priced    bool    // whether charge could be estimated
}

func runRm(ctx context.Context, f *Factory, g *globalOptions, o *rmOptions, ids []string, now time.Time) error {
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	// Look every archive up first, so that a typo or a refusal deletes
	// nothing rather than part of what was asked.
	var found []*archive.Archive
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		a, err := s.identify(ctx, id)
		if err != nil {
			return err
		}
		if seen[a.ID] {
			continue // named twice, as two prefixes of one ID: deleted once
		}
		seen[a.ID] = true
		found = append(found, a)
	}
	// One HEAD an archive, many at once: rm of thousands of archives far
	// from S3 waits for round trips, not for S3.
	pool := restoring.Pool{}
	infos := make([]object.Info, len(found))
	errs, err := pool.Run(ctx, len(found), func(ctx context.Context, i int) error {
		var err error
		infos[i], err = s.store.Head(ctx, found[i].ID)
		return err
	})
	if err := firstErr(errs, err); err != nil {
		return err
	}
	targets := make([]rmTarget, 0, len(found))
	for i, a := range found {
		t := rmTarget{archive: a, info: infos[i]}
		t.remaining, t.charge, t.priced = o.prices.earlyDeletion(t.info.StorageClass, now.Sub(t.info.LastModified), t.info.Size)
		targets = append(targets, t)
	}

	young := 0
	for _, t := range targets {
		if t.remaining > 0 {
			young++
		}
	}
	if young > 0 && !o.force {
		for _, t := range targets {
			if t.remaining > 0 {
				printEarlyDeletion(f.Err, t, now, o.prices, "would be")
			}
		}
		return fmt.Errorf("%d of %d archives: %w", young, len(targets), errEarlyDeletion)
	}

	noted := false
	if !o.yes && f.canAsk() {
		// The charges are part of what the person is asked to agree to:
		// on stderr when it is the terminal, as before, else in the
		// question, which goes to the terminal.
		var charges strings.Builder
		w := io.Writer(&charges)
		if f.ErrIsTerminal {
			w = f.Err
		}
		for _, t := range targets {
			if t.remaining > 0 {
				printEarlyDeletion(w, t, now, o.prices, "is")
			}
		}
		asked, err := f.confirm(g, charges.String()+rmQuestion(targets), "nothing was deleted")
		if err != nil {
			return err
		}
		noted = f.ErrIsTerminal // else they go to stderr as well, as it is deleted
		if !asked {
			// No terminal opened after all: as with --yes.
			if err := checkUnaskedIDs(ids); err != nil {
				return err
			}
		}
	}
	for _, t := range targets {
		if t.remaining > 0 && !g.quiet && !noted {
			printEarlyDeletion(f.Err, t, now, o.prices, "is")
		}
	}
	deleted := make([]bool, len(targets))
	errs, err = pool.Run(ctx, len(targets), func(ctx context.Context, i int) error {
		a := targets[i].archive
		if a.Meta.Tree {
			// The index goes first: if the archive's deletion then fails,
			// the same rm finds the archive again and finishes; the other
			// way round, an index left behind could never be found.
			if err := s.store.Delete(ctx, dirarchive.IndexKey(a.ID)); err != nil {
				return err
			}
		}
		if err := s.store.Delete(ctx, a.ID); err != nil {
			return err // the store names the operation and the ID
		}
		deleted[i] = true
		return nil
	})
	// What was deleted is said, in the order asked, even when the rest
	// failed or was interrupted.
	for i, t := range targets {
		if deleted[i] && !g.quiet {
			fmt.Fprintf(f.Err, "Deleted %s (%s)\n", printable(t.archive.Name), t.archive.ID)
		}
	}
	return firstErr(errs, err)
}

// firstErr is the first error of a pool's calls, in their order, or the
// pool's own.
func firstErr(errs []error, err error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return err
}

// printEarlyDeletion says what deleting t before its minimum storage
// duration costs; verb is "would be" when rm refuses, "is" when it deletes.
func printEarlyDeletion(w io.Writer, t rmTarget, now time.Time, p prices, verb string) {
	age := int(now.Sub(t.info.LastModified) / (24 * time.Hour))
	fmt.Fprintf(w, "%s (%s) is %d days old in %s, which bills at least %d days: deleting it now %s charged for the remaining %d days.",
		printable(t.archive.Name), t.archive.ID, age, t.info.StorageClass, minimumDays(t.info.StorageClass), verb, t.remaining)
	if t.priced {
		fmt.Fprintf(w, " Estimated charge for %s: %s (%s per GB-month; %s)\n",
			formatSize(t.info.Size), formatUSD(t.charge), formatPrice(p.storageGBMonth), p.source())
	} else {
		fmt.Fprintf(w, " ogive has no %s price to estimate it: see the AWS S3 pricing page.\n", t.info.StorageClass)
	}
}

// rmQuestion asks whether to delete the targets: by name and size for one,
// in a list with their IDs and a total for several.
func rmQuestion(targets []rmTarget) string {
	if len(targets) == 1 {
		t := targets[0]
		return fmt.Sprintf("Delete %s (%s, %s) for good?", printable(t.archive.Name), formatSize(t.info.Size), t.archive.ID)
	}
	var b strings.Builder
	var total int64
	fmt.Fprintf(&b, "About to delete %d archives:\n", len(targets))
	for _, t := range targets {
		fmt.Fprintf(&b, "  %s  %s  %s\n", printable(t.archive.Name), formatSize(t.info.Size), t.archive.ID)
		total += t.info.Size
	}
	fmt.Fprintf(&b, "Delete these %d archives (%s in all) for good?", len(targets), formatSize(total))
	return b.String()
}

// checkUnaskedIDs refuses ID prefixes shorter than archive.ShortIDLen when
// rm deletes without a question (--yes, a script, cron): six characters
// pick the one archive that has them today, but once it is gone they may
// pick another, which a script would then delete without anybody seeing
// its name. Whole IDs are all longer.
func checkUnaskedIDs(ids []string) error {
	for _, id := range ids {
		if len(id) < archive.ShortIDLen {
			return fmt.Errorf("storage ID %q is %d characters: give at least %d characters of the storage ID, or the whole ID, to delete without a question",
				id, len(id), archive.ShortIDLen)
		}
	}
	return nil
}
