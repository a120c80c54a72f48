package cmd

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
)

type listOptions struct{}

func newListCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &listOptions{}
	return &cobra.Command{
		Use:   "list",
		Short: "List archives with their decrypted names and status",
		Long: `List every archive of this profile in the bucket: plaintext size, upload date, status,
storage ID and decrypted file name. Objects that are not ogive archives of this profile's
master key are skipped. One request lists up to 1,000 objects; no object is fetched.

Status is one of:
  DEEPS  archived in Deep Archive, no restore requested
  RECOV  a restore is in progress
  READY  restored (or never archived): ready to download
  ?????  unknown`,
		Example: `  ogive list
  echo "$PASSWORD" | ogive list | awk 'NR>2 && $4 == "DEEPS" {print $5}'`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runList(c.Context(), f, g, o)
		},
	}
}

func runList(ctx context.Context, f *Factory, g *globalOptions, _ *listOptions) error {
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	var entries []archive.Entry
	err = s.withMasterKey(func(master []byte) error {
		return archive.List(ctx, s.store, master, s.profile.LegacyArchives, func(e archive.Entry) error {
			entries = append(entries, e)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("list bucket %s: %w", s.profile.Bucket, err)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if !entries[i].Date.Equal(entries[j].Date) {
			return entries[i].Date.Before(entries[j].Date)
		}
		return entries[i].Name < entries[j].Name
	})
	printTable(f, entries)
	return nil
}

// printTable prints the original ogive's table. Every column before the file
// name is a fixed number of whitespace-separated fields, so
// awk 'NR>2 {print $4, $5}' reads status and storage ID.
func printTable(f *Factory, entries []archive.Entry) {
	idWidth := len("STORAGE ID")
	for _, e := range entries {
		idWidth = max(idWidth, len(e.ID))
	}
	row := "%-10s %-12s %-6s %-*s %s\n"
	fmt.Fprintf(f.Out, row, "SIZE", "DATE", "STATUS", idWidth, "STORAGE ID", "FILENAME")
	fmt.Fprintf(f.Out, row, strings.Repeat("-", 10), strings.Repeat("-", 12), strings.Repeat("-", 6),
		idWidth, strings.Repeat("-", idWidth), strings.Repeat("-", 8))
	for _, e := range entries {
		size := "? B"
		if e.Size >= 0 {
			size = formatSize(e.Size)
		}
		fmt.Fprintf(f.Out, row, size, e.Date.UTC().Format(dateLayout), statusCode(e.Status.State), idWidth, e.ID, e.Name)
	}
}
