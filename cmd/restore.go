package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/restoring"
)

type restoreOptions struct {
	lifetime    int
	tier        string
	all         bool
	extend      bool
	json        bool
	yes         bool
	concurrency int
	prices      prices
}

func newRestoreCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &restoreOptions{}
	c := &cobra.Command{
		Use:   "restore <storage-id>... | --all",
		Short: "Ask S3 to restore archives from Deep Archive for download",
		Long: `Ask S3 to bring archives back from Deep Archive so that they can be downloaded. The
Bulk tier is used by default (cheapest; usually within 48 hours); Standard usually takes
12 hours. The restored copy stays downloadable for --lifetime days. Use "ogive head" to see
when an archive is READY, or "ogive head --wait" to wait for it.

Archives that need no restore (one is already running, the copy is already restored, or
the object is not archived) are skipped, so no request is paid for needlessly. --all
restores every archive of this profile that is archived and not restored or restoring.
--extend also sends the request for archives already restored: S3 then keeps their copy
for --lifetime days from now, and charges only the request.

Requests go out --concurrency at a time, and each archive's line comes in the order of the
archives all the same. When S3 answers SlowDown, restore sends fewer at once, waits, and
sends the throttled requests again: throttling slows a run down, and only a server that
refuses every request for a long while ends it.

Before sending anything, restore prints on stderr an estimate of the retrieval cost for the
tier and the bytes involved, from the dated prices in docs/PRICING.md, which the --price
flags or their environment variables replace. With --all at a terminal (standard input or
standard error is one, and /dev/tty opens), restore shows the estimate there and asks for a
"y" typed after the question appears before sending anything; --yes skips the question.

` + idHelp,
		Example: `  ogive restore 5PqBqHILQoIckevFn5EbXX1yGrgXIgAY2UvWT5ruYD
  ogive restore --tier Standard --lifetime 3 ID1 ID2
  ogive restore --all
  ogive restore --extend --lifetime 5 ID
  ogive restore --json ID | jq -r .restore`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkIDs(args...); err != nil {
				return err
			}
			if err := resolvePrices(c.Flags(), f.Getenv, &o.prices, retrievalPriceSettings); err != nil {
				return err
			}
			return runRestore(c.Context(), f, g, o, args)
		},
	}
	fl := c.Flags()
	fl.IntVarP(&o.lifetime, "lifetime", "t", 1, "days the restored copy stays downloadable")
	fl.StringVar(&o.tier, "tier", "Bulk", "retrieval tier: Bulk or Standard")
	fl.BoolVar(&o.all, "all", false, "restore every archived object not already restored or restoring")
	fl.BoolVar(&o.extend, "extend", false, "also ask again for restored copies, so they stay --lifetime days from now")
	fl.BoolVar(&o.json, "json", false, "print one JSON object per archive (fields: man ogive-restore, JSON OUTPUT)")
	fl.BoolVarP(&o.yes, "yes", "y", false, "with --all, do not ask for confirmation at a terminal")
	fl.IntVar(&o.concurrency, "concurrency", restoring.DefaultWorkers, "restore requests in flight at once; fewer when S3 throttles")
	bindPrices(fl, &o.prices, retrievalPriceSettings)
	return c
}

func parseTier(s string) (object.Tier, error) {
	switch strings.ToLower(s) {
	case "bulk":
		return object.TierBulk, nil
	case "standard":
		return object.TierStandard, nil
	case "expedited":
		return "", usagef("Deep Archive has no Expedited tier: use Bulk (within 48 hours) or Standard (within 12 hours)")
	}
	return "", usagef("unknown tier %q: use Bulk or Standard", s)
}

func runRestore(ctx context.Context, f *Factory, g *globalOptions, o *restoreOptions, ids []string) error {
	tier, err := parseTier(o.tier)
	if err != nil {
		return err
	}
	if o.lifetime < 1 {
		return usagef("--lifetime must be at least 1 day")
	}
	if o.concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	switch {
	case o.all && len(ids) > 0:
		return usagef("--all restores every archived object: give it no storage IDs")
	case !o.all && len(ids) == 0:
		return usagef("expected at least one storage ID, or --all")
	}
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	pool := restoring.Pool{Workers: o.concurrency}

	var items []*restoring.Item
	failed := 0
	if o.all {
		if items, err = restoreCandidates(ctx, s); err != nil {
			return err
		}
	} else {
		looked, err := lookUpForRestore(ctx, s, ids, o.json, pool)
		if err != nil {
			return err
		}
		for _, it := range looked {
			if it.Err != nil {
				// One ID's error is the command's: no summary line after it.
				if errors.Is(it.Err, context.Canceled) || len(ids) == 1 {
					return it.Err
				}
				failed++
				report(f.Err, it.Err)
				continue
			}
			items = append(items, it)
		}
	}

	// Skip what needs no restore, so that no request is paid for needlessly.
	var todo []*restoring.Item
	for _, it := range items {
		it.Action = restoring.Skip(it.Status.State, o.all, o.extend)
		if it.Action == restoring.None {
			todo = append(todo, it)
		} else if o.all && !g.quiet {
			fmt.Fprintf(f.Err, "Skipping %s (%s): %s\n", printable(it.Name), it.ID, skipReason(it))
		}
	}
	ask := o.all && len(todo) > 0 && !o.yes && f.canAsk()
	if ask {
		// The question carries the estimate, even with --quiet.
		var est strings.Builder
		printRetrievalEstimate(&est, o.prices, tier, todo)
		question := fmt.Sprintf("%sSend %s?", est.String(), countRequests(len(todo)))
		asked, err := f.confirm(g, question, "no restore was requested")
		if err != nil {
			return err
		}
		ask = asked
	}
	if !g.quiet && !ask {
		if len(todo) > 0 {
			printRetrievalEstimate(f.Err, o.prices, tier, todo)
		} else if o.all && o.extend {
			fmt.Fprintln(f.Err, "Nothing to restore or extend: every archive is restoring or not archived.")
		} else if o.all {
			fmt.Fprintln(f.Err, "Nothing to restore: no archive is archived without a restore.")
		}
	}

	// The requests go out in parallel; their results are reported in the
	// order of the archives, whatever order they came back in.
	if err := restoring.Send(ctx, s.store, todo, int32(o.lifetime), tier, pool); err != nil {
		return err // interrupted: the requests not yet begun were not sent
	}
	notSent := 0
	for _, it := range todo {
		if it.Err == nil {
			continue
		}
		it.Action = restoring.None
		if errors.Is(it.Err, context.Canceled) || len(items) == 1 && failed == 0 {
			return it.Err // the store names the operation and the ID
		}
		failed++
		if errors.Is(it.Err, restoring.ErrNotSent) {
			notSent++ // one line for them all, below
			continue
		}
		report(f.Err, it.Err)
	}
	if notSent > 0 {
		report(f.Err, fmt.Errorf("%d restore requests %w", notSent, restoring.ErrNotSent))
	}

	for _, it := range items {
		if it.Action == restoring.None {
			continue // its request failed, and report said so
		}
		if o.json {
			rec := restoreJSON{
				archiveJSON: newArchiveJSON(it.ID, it.Name, it.Plain, it.Date, it.Class, it.Status).withMeta(it.Meta),
				Restore:     string(it.Action),
				Tier:        string(tier),
			}
			if err := writeJSONLine(f.Out, rec); err != nil {
				return err
			}
			continue
		}
		switch {
		case o.all && !it.Sent:
			// Skipped archives were noted on stderr as they were found.
		case len(ids) == 1:
			fmt.Fprintln(f.Out, restoreMessage(it))
		default:
			fmt.Fprintf(f.Out, "%s: %s\n", it.ID, restoreMessage(it))
		}
	}
	if failed > 0 {
		total := len(ids)
		if o.all {
			total = len(todo)
		}
		return fmt.Errorf("%d of %d restore requests failed", failed, total)
	}
	return nil
}

// lookUpForRestore checks that each ID is an archive of this profile (a
// typo should not cost a request), then reads the restore states, many at
// once. An ID that fails gets its Err, in its place. The plaintext size is
// worked out only for JSON, as a 2019 archive needs its slow key
// derivation for it.
func lookUpForRestore(ctx context.Context, s *session, ids []string, withPlain bool, pool restoring.Pool) ([]*restoring.Item, error) {
	items := make([]*restoring.Item, len(ids))
	archives := make([]*archive.Archive, len(ids))
	for i, id := range ids {
		a, err := s.identify(ctx, id)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			items[i] = &restoring.Item{ID: id, Err: err}
			continue
		}
		archives[i], items[i] = a, restoring.NewItem(a) // the ID in full, if a prefix was given
	}
	if err := restoring.LookUp(ctx, s.store, items, pool); err != nil {
		return nil, err
	}
	if withPlain {
		for i, it := range items {
			if it.Err != nil {
				continue
			}
			if it.Plain, it.Err = s.plainSize(archives[i], it.Billed); it.Err != nil {
				it.Plain = -1
			}
		}
	}
	return items, nil
}

// restoreCandidates lists every archive of this profile, with its restore
// state, in one listing request per 1,000 objects.
func restoreCandidates(ctx context.Context, s *session) ([]*restoring.Item, error) {
	var items []*restoring.Item
	err := s.withMasterKey(func(master []byte) error {
		var err error
		items, err = restoring.Candidates(ctx, s.store, master, s.profile.LegacyArchives)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list bucket %s: %w", s.profile.Bucket, err)
	}
	return items, nil
}

func skipReason(it *restoring.Item) string {
	switch it.Action {
	case restoring.InProgress:
		return "a restore is already in progress"
	case restoring.AlreadyRestored:
		if !it.Status.Expiry.IsZero() {
			return "already restored, downloadable until " + formatExpiry(it.Status.Expiry)
		}
		return "already restored"
	case restoring.NotArchived:
		return "not archived, downloadable now"
	}
	return "its status is unknown; restore it by its ID to try"
}

// restoreMessage is the original ogive's line for an archive, which
// pipeline scripts grep.
func restoreMessage(it *restoring.Item) string {
	switch it.Action {
	case restoring.Requested:
		return "Restoration request sent."
	case restoring.InProgress:
		return "Restoration already in progress."
	case restoring.AlreadyRestored:
		if !it.Status.Expiry.IsZero() {
			return "Restoration already completed; downloadable until " + formatExpiry(it.Status.Expiry) + "."
		}
		return "Restoration already completed."
	case restoring.Extended:
		return "Restoration already completed; its expiry was extended."
	case restoring.NotArchived:
		return "Restoration not needed: the object is not archived."
	}
	return "Restoration status unknown."
}

// printRetrievalEstimate says what the requests about to be sent cost.
// Extending a restored copy costs only its request: S3 retrieves nothing.
func printRetrievalEstimate(w io.Writer, p prices, tier object.Tier, todo []*restoring.Item) {
	var bytes int64
	unknown, retrievals, extensions := 0, 0, 0
	for _, it := range todo {
		if it.Status.State == object.StateRestored {
			extensions++
			continue
		}
		retrievals++
		if it.Billed < 0 {
			unknown++
			continue
		}
		bytes += it.Billed
	}
	if retrievals > 0 {
		usd, perGB, perThousand := p.retrieval(tier, retrievals, bytes)
		fmt.Fprintf(w, "Estimated cost: %s retrieval of %s, %s: %s (%s per GB + %s per 1,000 requests; %s)",
			tier, countArchives(retrievals), formatSize(bytes), formatUSD(usd), formatPrice(perGB), formatPrice(perThousand), p.source())
		if unknown > 0 {
			fmt.Fprintf(w, "; %d of unknown size not counted", unknown)
		}
		fmt.Fprintln(w)
	}
	if extensions > 0 {
		usd, _, perThousand := p.retrieval(tier, extensions, 0)
		fmt.Fprintf(w, "Estimated cost: extending %s already restored: %s (requests only, %s per 1,000; %s)\n",
			countArchives(extensions), formatUSD(usd), formatPrice(perThousand), p.source())
	}
}

func countRequests(n int) string {
	if n == 1 {
		return "1 restore request"
	}
	return fmt.Sprintf("%d restore requests", n)
}

func countArchives(n int) string {
	if n == 1 {
		return "1 archive"
	}
	return fmt.Sprintf("%d archives", n)
}
