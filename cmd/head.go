package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/object"
)

type headOptions struct{}

func newHeadCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &headOptions{}
	return &cobra.Command{
		Use:   "head <storage-id>",
		Short: "Print an archive's status; exit 0 when it can be downloaded",
		Long: `Print the status of one archive: DEEPS (archived), RECOV (restore in progress), READY
(downloadable) or ????? (unknown). The exit status is 0 when the archive is READY, 2 when
it is not downloadable yet, and 1 on error, so scripts can wait for a restore:

  until ogive head --password-file pw ID; do sleep 3600; done`,
		Args: exactArgs(1, "one storage ID"),
		RunE: func(c *cobra.Command, args []string) error {
			return runHead(c.Context(), f, g, o, args[0])
		},
	}
}

func runHead(ctx context.Context, f *Factory, g *globalOptions, _ *headOptions, id string) error {
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	a, err := s.identify(ctx, id)
	if err != nil {
		return err
	}
	info, err := s.store.Head(ctx, id)
	if err != nil {
		return err // the store names the operation and the ID
	}
	fmt.Fprintln(f.Out, statusCode(info.Status.State))
	if info.Status.State == object.StateRestored && !info.Status.Expiry.IsZero() {
		fmt.Fprintf(f.Err, "%s is downloadable until %s\n", a.Name, info.Status.Expiry.UTC().Format("2006-01-02 15:04 MST"))
	}
	switch info.Status.State {
	case object.StateRestored, object.StateAvailable:
		return nil
	}
	return errNotReady
}
