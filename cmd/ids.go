package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// idHelp is what each command that takes storage IDs says about prefixes.
const idHelp = `A storage ID may be shortened to any unique beginning of at least 6 characters, as
"ogive list" shows it at a terminal. Resolving shortened IDs lists the bucket once for the
whole command line, one LIST request per 1,000 objects, and says so on stderr; an ID given
in full costs no listing.`

// takeIDs checks the syntax of the storage IDs on a command line before
// anything prompts for a password, and arranges for the prefixes among them
// to be noted on stderr when they are resolved (unless --quiet).
func takeIDs(c *cobra.Command, f *Factory, g *globalOptions, ids ...string) error {
	for _, id := range ids {
		if err := archive.CheckPrefix(id); err != nil {
			return &badIDError{id: id, err: err}
		}
	}
	if !g.quiet {
		c.SetContext(context.WithValue(c.Context(), idNotesKey{}, f.Err))
	}
	return nil
}

// badIDError is an argument that cannot be a storage ID or its beginning:
// no archive of this profile has it, which is what the hint says.
type badIDError struct {
	id  string
	err error
}

func (e *badIDError) Error() string   { return fmt.Sprintf("storage ID %q: %v", e.id, e.err) }
func (e *badIDError) Unwrap() []error { return []error{e.err, crypt.ErrNotOgive} }

type idNotesKey struct{}

func idNotes(ctx context.Context) io.Writer {
	w, _ := ctx.Value(idNotesKey{}).(io.Writer)
	return w
}

// mayBePrefix reports whether identifying id failed in a way that a longer
// ID beginning with it could explain.
func mayBePrefix(err error) bool {
	return errors.Is(err, crypt.ErrNotOgive) || errors.Is(err, object.ErrNotFound)
}

// resolvePrefix finds the one archive of this profile whose ID begins with
// prefix, listing the bucket the first time only. exactErr is why prefix is
// not an archive's ID itself; it stands when prefix is a whole ID that
// nothing begins with.
func (s *session) resolvePrefix(ctx context.Context, master []byte, prefix string, exactErr error) (*archive.Archive, error) {
	notes := idNotes(ctx)
	if s.listing == nil {
		l, err := archive.ListKeys(ctx, s.store)
		if err != nil {
			return nil, fmt.Errorf("list bucket %s to find the storage ID beginning with %s: %w", s.profile.Bucket, prefix, err)
		}
		s.listing = l
		if notes != nil {
			fmt.Fprintf(notes, "Listed the bucket to find shortened storage IDs: %s, %s.\n",
				plural(l.Objects(), "object"), plural(l.Requests(), "LIST request"))
		}
	}
	matches, err := s.listing.Match(ctx, s.store, master, s.profile.LegacyArchives, prefix)
	if err != nil {
		return nil, fmt.Errorf("storage ID %s: %w", prefix, err)
	}
	switch len(matches) {
	case 0:
		if _, err := crypt.ParseID(prefix); err == nil || errors.Is(exactErr, object.ErrNotFound) {
			return nil, exactErr // a whole ID, wrong as a whole
		}
		return nil, &unknownPrefixError{prefix: prefix, objects: s.listing.Objects()}
	case 1:
	default:
		return nil, &ambiguousIDError{prefix: prefix, matches: matches}
	}
	a, err := archive.Identify(ctx, s.store, master, matches[0].ID, s.profile.LegacyArchives)
	if err != nil {
		return nil, err
	}
	if notes != nil {
		fmt.Fprintf(notes, "%s is %s (%s)\n", prefix, a.ID, printable(a.Name))
	}
	return a, nil
}

// unknownPrefixError is a shortened ID that no archive of this profile has.
type unknownPrefixError struct {
	prefix  string
	objects int
}

func (e *unknownPrefixError) Error() string {
	return fmt.Sprintf("no archive of this profile has a storage ID beginning with %s (%s in the bucket)",
		e.prefix, plural(e.objects, "object"))
}

// Unwrap makes it what an ID of no archive of this profile is.
func (e *unknownPrefixError) Unwrap() error { return crypt.ErrNotOgive }

// ambiguousIDError is a shortened ID that several archives begin with.
type ambiguousIDError struct {
	prefix  string
	matches []archive.Entry // by date, then name
}

func (e *ambiguousIDError) Error() string {
	return fmt.Sprintf("storage ID %s is ambiguous: %d archives of this profile begin with it", e.prefix, len(e.matches))
}

// ambiguousShown is how many candidates an ambiguous prefix lists.
const ambiguousShown = 5

// reportAmbiguous prints the error and some of the archives it could mean,
// each on a line of its own: date, full ID and name.
func reportAmbiguous(w io.Writer, e *ambiguousIDError) {
	fmt.Fprintf(w, "ogive: %s\n", oneLine(e.Error()))
	for i, m := range e.matches {
		if i == ambiguousShown {
			fmt.Fprintf(w, "  and %d more\n", len(e.matches)-ambiguousShown)
			break
		}
		fmt.Fprintf(w, "  %s  %s  %s\n", formatListDate(m.Date, true), m.ID, printable(m.Name))
	}
	fmt.Fprintln(w, "hint: give more of the ID, or all of it")
}
