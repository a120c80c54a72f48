package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/object"
)

type restoreOptions struct {
	lifetime int
	tier     string
}

func newRestoreCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &restoreOptions{}
	c := &cobra.Command{
		Use:   "restore <storage-id>...",
		Short: "Ask S3 to restore archives from Deep Archive for download",
		Long: `Ask S3 to bring archives back from Deep Archive so that they can be downloaded. The
Bulk tier is used by default (cheapest; usually within 48 hours); Standard usually takes
12 hours. The restored copy stays downloadable for --lifetime days. Use "ogive head" to see
when an archive is READY. Asking again while a restore runs, or once it is done, is fine.`,
		Example: `  ogive restore 5PqBqHILQoIckevFn5EbXX1yGrgXIgAY2UvWT5ruYD
  ogive restore --tier Standard --lifetime 3 ID1 ID2`,
		Args: minArgs(1, "at least one storage ID"),
		RunE: func(c *cobra.Command, args []string) error {
			return runRestore(c.Context(), f, g, o, args)
		},
	}
	c.Flags().IntVarP(&o.lifetime, "lifetime", "t", 1, "days the restored copy stays downloadable")
	c.Flags().StringVar(&o.tier, "tier", "Bulk", "retrieval tier: Bulk or Standard")
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
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	failed := 0
	for _, id := range ids {
		msg, err := restoreOne(ctx, s, id, int32(o.lifetime), tier)
		if err != nil {
			// One ID's error is the command's: no summary line after it.
			if errors.Is(err, context.Canceled) || len(ids) == 1 {
				return err
			}
			failed++
			report(f.Err, err)
			continue
		}
		if len(ids) > 1 {
			fmt.Fprintf(f.Out, "%s: %s\n", id, msg)
		} else {
			fmt.Fprintln(f.Out, msg)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d restore requests failed", failed, len(ids))
	}
	return nil
}

func restoreOne(ctx context.Context, s *session, id string, days int32, tier object.Tier) (string, error) {
	// Only IDs of this profile are sent: a typo should not cost a request.
	if _, err := s.identify(ctx, id); err != nil {
		return "", err
	}
	res, err := s.store.Restore(ctx, id, days, tier)
	if err != nil {
		return "", err // the store names the operation and the ID
	}
	switch res {
	case object.RestoreAccepted:
		return "Restoration request sent.", nil
	case object.RestoreInProgress:
		return "Restoration already in progress.", nil
	case object.RestoreExtended:
		return "Restoration already completed; its expiry was extended.", nil
	case object.RestoreNotArchived:
		return "Restoration not needed: the object is not archived.", nil
	}
	return fmt.Sprintf("Restoration answered %v.", res), nil
}
