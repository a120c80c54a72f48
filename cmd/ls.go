package cmd

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/dirindex"
)

type lsOptions struct {
	json bool
}

func newLsCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &lsOptions{}
	c := &cobra.Command{
		Use:   "ls <storage-id> [pattern]...",
		Short: "List the files in an archive, without restoring it",
		Long: `List the entries of a directory archive (one made by "ogive put DIR") from its index, an
encrypted object kept in the STANDARD class beside the archive: no restore, one small GET,
whatever the archive's status. Each line is like "tar tv": type and mode, owner, size,
modification time (UTC) and path; a symbolic link shows its target ("-> target") and a hard
link the name it links to ("link to name").

Patterns select entries by their path after the top directory, with Go's path.Match
syntax: "*" matches any run of characters but "/", "?" one character, "[a-z]" a class;
a pattern that matches a directory lists what is under it too. "2019/*.jpg" lists
photos/2019/a.jpg of an archive of photos.

The index is authenticated and bound to its archive: an index altered in any way, or one
taken from another archive, is refused. On a single-file archive, ls prints its one file
(one HEAD for its size).

` + idHelp,
		Example: `  ogive ls ID
  ogive ls ID '2019/*'
  ogive ls --json ID | jq -r 'select(.type == "file") | .path'`,
		Args: minArgs(1, "a storage ID"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkIDs(args[0]); err != nil {
				return err
			}
			if err := dirindex.CheckPatterns(args[1:]); err != nil {
				return usagef("%v", err)
			}
			return runLs(c.Context(), f, g, o, args[0], args[1:])
		},
	}
	c.Flags().BoolVar(&o.json, "json", false, "print one JSON object per entry (fields: man ogive-ls, JSON OUTPUT)")
	return c
}

// lsJSON is one entry of "ls --json".
type lsJSON struct {
	Path   string `json:"path"`
	Type   string `json:"type"` // file, dir, symlink, hardlink
	Mode   string `json:"mode"` // octal permission bits
	Size   int64  `json:"size"`
	MTime  string `json:"mtime"` // RFC 3339, UTC, with nanoseconds
	UID    uint32 `json:"uid"`
	GID    uint32 `json:"gid"`
	User   string `json:"user,omitempty"`
	Group  string `json:"group,omitempty"`
	Link   string `json:"link,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

func runLs(ctx context.Context, f *Factory, g *globalOptions, o *lsOptions, id string, patterns []string) error {
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	a, err := s.identify(ctx, id)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(f.Out, 256<<10)
	defer out.Flush()
	if !a.Meta.Tree {
		return lsFile(ctx, s, o, a, out)
	}
	ix, err := dirarchive.ReadIndex(ctx, s.store, s.withMasterKey, a.ID)
	if err != nil {
		return err
	}
	var show []*dirindex.Entry
	width := 1
	for i := range ix.Entries {
		e := &ix.Entries[i]
		if len(patterns) > 0 {
			if ok, _ := dirindex.Match(patterns, e.Rel()); !ok {
				continue
			}
		}
		show = append(show, e)
		width = max(width, len(strconv.FormatInt(e.Size, 10)))
	}
	for _, e := range show {
		if o.json {
			if err := writeJSONLine(out, entryJSON(e)); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(out, lsLine(e, width))
	}
	if len(show) == 0 && len(patterns) > 0 {
		return fmt.Errorf("no entry of %s matches %s", printable(a.Name), printable(fmt.Sprint(patterns)))
	}
	return out.Flush()
}

// lsFile prints the one file of a single-file archive.
func lsFile(ctx context.Context, s *session, o *lsOptions, a *archive.Archive, out *bufio.Writer) error {
	info, err := s.store.Head(ctx, a.ID)
	if err != nil {
		return err
	}
	size, err := crypt.DecryptedSize(info.Size)
	if err != nil {
		size = -1
	}
	e := &dirindex.Entry{Kind: dirindex.File, Size: size, Path: a.Name, Mode: a.Meta.Mode, MTime: a.Meta.MTime}
	if o.json {
		j := entryJSON(e)
		j.SHA256 = ""
		if !a.Meta.HasMTime {
			j.MTime = ""
		}
		return writeJSONLine(out, j)
	}
	fmt.Fprintln(out, lsLine(e, 1))
	return out.Flush()
}

func kindWord(k dirindex.Kind) string {
	switch k {
	case dirindex.Dir:
		return "dir"
	case dirindex.Symlink:
		return "symlink"
	case dirindex.Hardlink:
		return "hardlink"
	}
	return "file"
}

func entryJSON(e *dirindex.Entry) lsJSON {
	j := lsJSON{
		Path: e.Path, Type: kindWord(e.Kind), Mode: fmt.Sprintf("%04o", e.Mode), Size: e.Size,
		MTime: e.MTime.UTC().Format(time.RFC3339Nano), UID: e.Uid, GID: e.Gid, User: e.Uname, Group: e.Gname, Link: e.Link,
	}
	if e.Kind == dirindex.File {
		j.SHA256 = hex.EncodeToString(e.SHA256[:])
	}
	return j
}

// lsLine is a "tar tv" line: type and mode, owner, size, time, path.
func lsLine(e *dirindex.Entry, width int) string {
	mode := fs.FileMode(e.Mode & 0o777)
	if e.Mode&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if e.Mode&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if e.Mode&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch e.Kind {
	case dirindex.Dir:
		mode |= fs.ModeDir
	case dirindex.Symlink:
		mode |= fs.ModeSymlink
	}
	typ := fsModeString(mode, e.Kind == dirindex.Hardlink)
	owner := e.Uname
	if owner == "" {
		owner = strconv.FormatUint(uint64(e.Uid), 10)
	}
	group := e.Gname
	if group == "" {
		group = strconv.FormatUint(uint64(e.Gid), 10)
	}
	line := fmt.Sprintf("%s %s/%s %*d %s %s", typ, printable(owner), printable(group), width, e.Size, e.MTime.UTC().Format("2006-01-02 15:04"), printable(e.Path))
	switch e.Kind {
	case dirindex.Dir:
		line += "/"
	case dirindex.Symlink:
		line += " -> " + printable(e.Link)
	case dirindex.Hardlink:
		line += " link to " + printable(e.Link)
	}
	return line
}

// fsModeString is ls -l's ten characters: "h" for a hard link, as tar tv
// shows one.
func fsModeString(m fs.FileMode, hard bool) string {
	b := []byte("----------")
	switch {
	case m&fs.ModeDir != 0:
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case hard:
		b[0] = 'h'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if m&(1<<uint(8-i)) != 0 {
			b[1+i] = rwx[i]
		}
	}
	if m&fs.ModeSetuid != 0 {
		b[3] = map[bool]byte{true: 's', false: 'S'}[b[3] == 'x']
	}
	if m&fs.ModeSetgid != 0 {
		b[6] = map[bool]byte{true: 's', false: 'S'}[b[6] == 'x']
	}
	if m&fs.ModeSticky != 0 {
		b[9] = map[bool]byte{true: 't', false: 'T'}[b[9] == 'x']
	}
	return string(b)
}
