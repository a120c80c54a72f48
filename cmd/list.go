package cmd

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/rivo/uniseg"
	"github.com/spf13/cobra"
	"golang.org/x/term"

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
		Long: `List every archive of this profile in the bucket, oldest first: plaintext size, upload
date and time (UTC, as 2026-11-29T16:31Z), status, storage ID and decrypted file name.
Objects that are not ogive archives of this profile's master key are skipped. One request
lists up to 1,000 objects; no object is fetched.

At a terminal, the table fits its width: storage IDs are shortened to their first 12
characters, or more where two archives share them, which every command accepts in place of
the whole ID, and long names are cut with "…" (on a very narrow terminal the time of day is
left out too). Elsewhere, as in a pipe, IDs and names are printed in full.

Status is one of:
  DEEPS  archived in Deep Archive, no restore requested
  RECOV  a restore is in progress
  READY  restored (or never archived): ready to download
  ?????  unknown (--status unknown selects it without quoting)

A name pattern keeps only the archives whose decrypted file name matches it, with shell
wildcards (*, ?, [a-z]; quote it so that the shell leaves it alone), and --status keeps only
those in the given statuses. --json prints one JSON object per archive instead of the table.`,
		Example: `  ogive list
  ogive list '*.tar'
  ogive list --status RECOV,READY
  ogive list --status unknown
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
	c.Flags().StringSliceVar(&o.status, "status", nil, "keep only archives in these statuses: DEEPS, RECOV, READY or unknown (?????), repeated or comma-separated")
	c.Flags().BoolVar(&o.json, "json", false, "print one JSON object per archive (fields: man ogive-list, JSON OUTPUT)")
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
		case "UNKNOWN":
			code = "?????" // what the table shows, which a shell expands unquoted
		default:
			return listFilter{}, usagef("unknown status %q: use DEEPS, RECOV, READY or unknown", st)
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
	var ids []string // of every archive, which a shortened ID must tell apart
	var foreign archive.Foreign
	err = s.withMasterKey(func(master []byte) (err error) {
		foreign, err = archive.ListCounting(ctx, s.store, master, s.profile.LegacyArchives, func(e archive.Entry) error {
			ids = append(ids, e.ID)
			if filter.keep(e) {
				entries = append(entries, e)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("list bucket %s: %w", s.profile.Bucket, err)
	}
	if !g.quiet {
		noteForeign(f, s.profile, foreign)
	}
	archive.SortEntries(entries)
	if o.json {
		for _, e := range entries {
			if err := writeJSONLine(f.Out, newArchiveJSON(e.ID, e.Name, e.Size, e.Date, e.Class, e.Status).withMeta(e.Meta)); err != nil {
				return err
			}
		}
		return nil
	}
	printTable(f, entries, ids)
	return nil
}

// printTable prints the original ogive's table. Every column before the file
// name is a fixed number of whitespace-separated fields (the size is two), so
// awk 'NR>2 {print $4, $5}' reads status and storage ID, and a name is
// printable so it cannot start a row of its own. At a terminal, IDs are
// shortened to what tells them apart among ids and rows are cut to its width.
func printTable(f *Factory, entries []archive.Entry, ids []string) {
	width := 0 // no limit
	var short map[string]string
	if f.OutIsTerminal {
		width = outWidth(f)
		short = archive.ShortIDs(ids, archive.ShortIDLen)
	}
	type row struct{ size, date, status, id, name string }
	rows := make([]row, len(entries))
	sizeW, dateW, idW := len("SIZE"), len("DATE"), len("STORAGE ID")
	withTime := true
	for i, e := range entries {
		r := row{size: "? B", status: statusCode(e.Status.State), id: e.ID, name: printable(e.Name)}
		if e.Size >= 0 {
			r.size = formatSize(e.Size)
		}
		if s, ok := short[e.ID]; ok {
			r.id = s
		}
		sizeW, idW = max(sizeW, len(r.size)), max(idW, len(r.id))
		rows[i] = r
	}
	fixed := func(withTime bool) int {
		return sizeW + 1 + len(formatListDate(time.Time{}, withTime)) + 1 + 6 + 1 + idW + 1
	}
	// A name needs room to be recognised; the time of day gives way first.
	if width > 0 && width-fixed(true) < minNameWidth {
		withTime = false
	}
	dateW = max(dateW, len(formatListDate(time.Time{}, withTime)))
	nameW := 0
	if width > 0 {
		nameW = max(width-fixed(withTime), 1)
	}
	line := func(r row) {
		s := fmt.Sprintf("%-*s %-*s %-6s %-*s %s", sizeW, r.size, dateW, r.date, r.status, idW, r.id, r.name)
		if width > 0 {
			s = cutToWidth(s, width) // only on the narrowest terminals
		}
		fmt.Fprintln(f.Out, s)
	}
	line(row{"SIZE", "DATE", "STATUS", "STORAGE ID", "FILENAME"})
	line(row{strings.Repeat("-", sizeW), strings.Repeat("-", dateW), strings.Repeat("-", 6),
		strings.Repeat("-", idW), strings.Repeat("-", 8)})
	for i, r := range rows {
		r.date = formatListDate(entries[i].Date, withTime)
		if nameW > 0 {
			r.name = cutToWidth(r.name, nameW)
		}
		line(r)
	}
}

// minNameWidth is the room list keeps for names at a terminal, if need be
// by leaving out the time of day.
const minNameWidth = 12

// formatListDate prints when an archive was uploaded, in UTC, as one field
// without spaces: 2026-11-29T16:31Z, or 2026-11-29 without the time.
func formatListDate(t time.Time, withTime bool) string {
	if !withTime {
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}

// outWidth is the width of the terminal on stdout; 80 if it cannot be read.
func outWidth(f *Factory) int {
	if file, ok := f.Out.(*os.File); ok {
		if w, _, err := term.GetSize(int(file.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// cutToWidth cuts s to at most width terminal columns, ending with "…" when
// it had to cut. Wide characters count as two columns.
func cutToWidth(s string, width int) string {
	if uniseg.StringWidth(s) <= width {
		return s
	}
	var b strings.Builder
	used, state := 0, -1
	for s != "" {
		var cluster string
		var w int
		cluster, s, w, state = uniseg.FirstGraphemeClusterInString(s, state)
		if used+w > width-1 {
			break
		}
		b.WriteString(cluster)
		used += w
	}
	b.WriteString("…")
	return b.String()
}
