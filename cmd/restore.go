package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

type restoreOptions struct {
	lifetime int
	tier     string
	all      bool
	extend   bool
	json     bool
	yes      bool
	prices   prices
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
			if err := takeIDs(c, f, g, args...); err != nil {
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

// restoreItem is one archive that restore looked at: what it is, and what
// restore did about it.
type restoreItem struct {
	id, name string
	plain    int64 // plaintext bytes, -1 if unknown
	billed   int64 // bytes as stored, which retrieval is billed on; -1 if unknown
	date     time.Time
	class    string
	status   object.RestoreStatus
	meta     crypt.Meta // what the storage ID records of the file
	action   string     // a restoreJSON.Restore value, once decided
}

func runRestore(ctx context.Context, f *Factory, g *globalOptions, o *restoreOptions, ids []string) error {
	tier, err := parseTier(o.tier)
	if err != nil {
		return err
	}
	if o.lifetime < 1 {
		return usagef("--lifetime must be at least 1 day")
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

	var items []*restoreItem
	failed := 0
	if o.all {
		if items, err = restoreCandidates(ctx, s); err != nil {
			return err
		}
	} else {
		for _, id := range ids {
			it, err := lookUpForRestore(ctx, s, id, o.json)
			if err != nil {
				// One ID's error is the command's: no summary line after it.
				if errors.Is(err, context.Canceled) || len(ids) == 1 {
					return err
				}
				failed++
				report(f.Err, err)
				continue
			}
			items = append(items, it)
		}
	}

	// Skip what needs no restore, so that no request is paid for needlessly.
	var todo []*restoreItem
	for _, it := range items {
		it.action = restoreSkip(it.status.State, o.all, o.extend)
		if it.action == "" {
			todo = append(todo, it)
		} else if o.all && !g.quiet {
			fmt.Fprintf(f.Err, "Skipping %s (%s): %s\n", printable(it.name), it.id, skipReason(it))
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

	sent := make(map[*restoreItem]bool, len(todo))
	for _, it := range todo {
		res, err := s.store.Restore(ctx, it.id, int32(o.lifetime), tier)
		if err != nil {
			if errors.Is(err, context.Canceled) || len(items) == 1 && failed == 0 {
				return err // the store names the operation and the ID
			}
			failed++
			report(f.Err, err)
			continue
		}
		sent[it] = true
		it.action, it.status = restoreOutcome(res, it.status)
	}

	for _, it := range items {
		if it.action == "" {
			continue // its request failed, and report said so
		}
		if o.json {
			rec := restoreJSON{
				archiveJSON: newArchiveJSON(it.id, it.name, it.plain, it.date, it.class, it.status).withMeta(it.meta),
				Restore:     it.action,
				Tier:        string(tier),
			}
			if err := writeJSONLine(f.Out, rec); err != nil {
				return err
			}
			continue
		}
		switch {
		case o.all && !sent[it]:
			// Skipped archives were noted on stderr as they were found.
		case len(ids) == 1:
			fmt.Fprintln(f.Out, restoreMessage(it))
		default:
			fmt.Fprintf(f.Out, "%s: %s\n", it.id, restoreMessage(it))
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

// lookUpForRestore checks that id is an archive of this profile (a typo
// should not cost a request) and reads its restore state. The plaintext
// size is worked out only for JSON, as a 2019 archive needs its slow key
// derivation for it.
func lookUpForRestore(ctx context.Context, s *session, id string, withPlain bool) (*restoreItem, error) {
	a, err := s.identify(ctx, id)
	if err != nil {
		return nil, err
	}
	id = a.ID // in full, if a prefix was given
	info, err := s.store.Head(ctx, id)
	if err != nil {
		return nil, err // the store names the operation and the ID
	}
	plain := int64(-1)
	if withPlain {
		if plain, err = s.plainSize(a, info.Size); err != nil {
			return nil, err
		}
	}
	return &restoreItem{id: id, name: a.Name, plain: plain, billed: info.Size, date: info.LastModified,
		class: info.StorageClass, status: info.Status, meta: a.Meta}, nil
}

// restoreCandidates lists every archive of this profile, with its restore
// state, in one listing request per 1,000 objects.
func restoreCandidates(ctx context.Context, s *session) ([]*restoreItem, error) {
	var items []*restoreItem
	err := s.withMasterKey(func(master []byte) error {
		return archive.List(ctx, s.store, master, s.profile.LegacyArchives, func(e archive.Entry) error {
			// A listing gives the plaintext size of a current archive, from
			// which the stored size follows exactly; a 2019 entry carries
			// the stored size itself.
			billed := e.Size
			if !e.Legacy && e.Size >= 0 {
				billed = crypt.EncryptedSize(e.Size)
			}
			items = append(items, &restoreItem{id: e.ID, name: e.Name, plain: e.Size, billed: billed,
				date: e.Date, class: e.Class, status: e.Status, meta: e.Meta})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list bucket %s: %w", s.profile.Bucket, err)
	}
	return items, nil
}

// restoreSkip says why an archive in state needs no restore request, as a
// restoreJSON.Restore value, or "" when it needs one. An unknown state is
// sent when asked for by ID (S3 knows better) and skipped by --all; a
// restored copy is sent only to extend it.
func restoreSkip(state object.State, all, extend bool) string {
	switch state {
	case object.StateRestoring:
		return restoreInProgress
	case object.StateRestored:
		if extend {
			return ""
		}
		return restoreAlreadyRestored
	case object.StateAvailable:
		return restoreNotArchived
	case object.StateUnknown:
		if all {
			return restoreUnknown
		}
	}
	return ""
}

func skipReason(it *restoreItem) string {
	switch it.action {
	case restoreInProgress:
		return "a restore is already in progress"
	case restoreAlreadyRestored:
		if !it.status.Expiry.IsZero() {
			return "already restored, downloadable until " + formatExpiry(it.status.Expiry)
		}
		return "already restored"
	case restoreNotArchived:
		return "not archived, downloadable now"
	}
	return "its status is unknown; restore it by its ID to try"
}

// restoreOutcome is what a sent request did, and the state that follows.
func restoreOutcome(res object.RestoreResult, before object.RestoreStatus) (string, object.RestoreStatus) {
	switch res {
	case object.RestoreAccepted:
		return restoreRequested, object.RestoreStatus{State: object.StateRestoring}
	case object.RestoreInProgress:
		return restoreInProgress, object.RestoreStatus{State: object.StateRestoring}
	case object.RestoreExtended:
		// S3 does not say the new expiry; JSON prints it as unknown.
		return restoreExtended, object.RestoreStatus{State: object.StateRestored}
	case object.RestoreNotArchived:
		return restoreNotArchived, object.RestoreStatus{State: object.StateAvailable}
	}
	return restoreRequested, before
}

// restoreMessage is the original ogive's line for an archive, which
// pipeline scripts grep.
func restoreMessage(it *restoreItem) string {
	switch it.action {
	case restoreRequested:
		return "Restoration request sent."
	case restoreInProgress:
		return "Restoration already in progress."
	case restoreAlreadyRestored:
		if !it.status.Expiry.IsZero() {
			return "Restoration already completed; downloadable until " + formatExpiry(it.status.Expiry) + "."
		}
		return "Restoration already completed."
	case restoreExtended:
		return "Restoration already completed; its expiry was extended."
	case restoreNotArchived:
		return "Restoration not needed: the object is not archived."
	}
	return "Restoration status unknown."
}

// printRetrievalEstimate says what the requests about to be sent cost.
// Extending a restored copy costs only its request: S3 retrieves nothing.
func printRetrievalEstimate(w io.Writer, p prices, tier object.Tier, todo []*restoreItem) {
	var bytes int64
	unknown, retrievals, extensions := 0, 0, 0
	for _, it := range todo {
		if it.status.State == object.StateRestored {
			extensions++
			continue
		}
		retrievals++
		if it.billed < 0 {
			unknown++
			continue
		}
		bytes += it.billed
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
