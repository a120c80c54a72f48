package cmd

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
)

type listOptions struct {
	status []string
	json   bool
}

func newListCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &listOptions{}
	c := &cobra.Command{
		Use:   "list [name-pattern]",
		Short: "List archives with their decrypted names and status",
		Long: `List every archive of this profile in the bucket: plaintext size, upload date, status,
storage ID and decrypted file name. Objects that are not ogive archives of this profile's
master key are skipped. One request lists up to 1,000 objects; no object is fetched.

Status is one of:
  DEEPS  archived in Deep Archive, no restore requested
  RECOV  a restore is in progress
  READY  restored (or never archived): ready to download
  ?????  unknown

A name pattern keeps only the archives whose decrypted file name matches it, with shell
wildcards (*, ?, [a-z]; quote it so that the shell leaves it alone), and --status keeps only
those in the given statuses. --json prints one JSON object per archive instead of the table.`,
		Example: `  ogive list
  ogive list '*.tar'
  ogive list --status RECOV,READY
  ogive list --json --status DEEPS | jq -r .id
  echo "$PASSWORD" | ogive list | awk 'NR>2 && $4 == "DEEPS" {print $5}'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("expected at most one name pattern, got %d arguments (quote the pattern)", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			pattern := ""
			if len(args) == 1 {
				pattern = args[0]
			}
			return runList(c.Context(), f, g, o, pattern)
		},
	}
	c.Flags().StringSliceVar(&o.status, "status", nil, "keep only archives in these statuses: DEEPS, RECOV, READY or ?????, repeated or comma-separated")
	c.Flags().BoolVar(&o.json, "json", false, "print one JSON object per archive (see the README)")
	return c
}

// listFilter keeps the archives list was asked for.
type listFilter struct {
	pattern  string
	statuses map[string]bool // nil keeps every status
}

func newListFilter(pattern string, statuses []string) (listFilter, error) {
	// path.Match reports a malformed pattern only when it gets that far
	// into a name; matching the pattern itself checks all of it up front.
	if _, err := path.Match(pattern, ""); err != nil {
		return listFilter{}, usagef("name pattern %q: %v", pattern, err)
	}
	lf := listFilter{pattern: pattern}
	for _, st := range statuses {
		code := strings.ToUpper(strings.TrimSpace(st))
		switch code {
		case "DEEPS", "RECOV", "READY", "?????":
		default:
			return listFilter{}, usagef("unknown status %q: use DEEPS, RECOV, READY or ?????", st)
		}
		if lf.statuses == nil {
			lf.statuses = map[string]bool{}
		}
		lf.statuses[code] = true
	}
	return lf, nil
}

func (lf listFilter) keep(e archive.Entry) bool {
	if lf.statuses != nil && !lf.statuses[statusCode(e.Status.State)] {
		return false
	}
	if lf.pattern == "" {
		return true
	}
	ok, _ := path.Match(lf.pattern, e.Name) // the pattern was checked
	return ok
}

func runList(ctx context.Context, f *Factory, g *globalOptions, o *listOptions, pattern string) error {
	filter, err := newListFilter(pattern, o.status)
	if err != nil {
		return err
	}
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	var entries []archive.Entry
	err = s.withMasterKey(func(master []byte) error {
		return archive.List(ctx, s.store, master, s.profile.LegacyArchives, func(e archive.Entry) error {
			if filter.keep(e) {
				entries = append(entries, e)
			}
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
	if o.json {
		for _, e := range entries {
			if err := writeJSONLine(f.Out, newArchiveJSON(e.ID, e.Name, e.Size, e.Date, e.Class, e.Status).withMeta(e.Meta)); err != nil {
				return err
			}
		}
		return nil
	}
	printTable(f, entries)
	return nil
}

// printTable prints the original ogive's table. Every column before the file
// name is a fixed number of whitespace-separated fields, so
// awk 'NR>2 {print $4, $5}' reads status and storage ID, and a name is
// printable so it cannot start a row of its own.
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
		fmt.Fprintf(f.Out, row, size, e.Date.UTC().Format(dateLayout), statusCode(e.Status.State), idWidth, e.ID, printable(e.Name))
	}
}
