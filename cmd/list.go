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
	"github.com/ogive-project/ogive/object"
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

type listEntry struct {
	id, name string
	size     int64
	date     time.Time
	state    object.State
}

func runList(ctx context.Context, f *Factory, g *globalOptions, _ *listOptions) error {
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	var entries []listEntry
	err = s.withMasterKey(func(master []byte) error {
		return s.store.List(ctx, func(info object.Info) error {
			name, keys, err := crypt.OpenID(master, info.Key)
			if errors.Is(err, crypt.ErrNotOgive) {
				return nil // not ours: another tool's object or another master key
			}
			if err != nil {
				return err
			}
			keys.Destroy()
			size, err := crypt.DecryptedSize(info.Size)
			if err != nil {
				size = -1
			}
			entries = append(entries, listEntry{
				id: info.Key, name: name, size: size,
				date: info.LastModified, state: info.Status.State,
			})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("list bucket %s: %w", s.profile.Bucket, err)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if !entries[i].date.Equal(entries[j].date) {
			return entries[i].date.Before(entries[j].date)
		}
		return entries[i].name < entries[j].name
	})
	printTable(f, entries)
	return nil
}

// printTable prints the original ogive's table. Every column before the file
// name is a fixed number of whitespace-separated fields, so
// awk 'NR>2 {print $4, $5}' reads status and storage ID.
func printTable(f *Factory, entries []listEntry) {
	idWidth := len("STORAGE ID")
	for _, e := range entries {
		idWidth = max(idWidth, len(e.id))
	}
	row := "%-10s %-12s %-6s %-*s %s\n"
	fmt.Fprintf(f.Out, row, "SIZE", "DATE", "STATUS", idWidth, "STORAGE ID", "FILENAME")
	fmt.Fprintf(f.Out, row, strings.Repeat("-", 10), strings.Repeat("-", 12), strings.Repeat("-", 6),
		idWidth, strings.Repeat("-", idWidth), strings.Repeat("-", 8))
	for _, e := range entries {
		size := "? B"
		if e.size >= 0 {
			size = formatSize(e.size)
		}
		fmt.Fprintf(f.Out, row, size, e.date.UTC().Format(dateLayout), statusCode(e.state), idWidth, e.id, e.name)
	}
}
