package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// idHelp is what each command that takes storage IDs says about prefixes.
const idHelp = `A storage ID may be shortened to any unique beginning of at least 6 characters, as
"ogive list" shows it at a terminal. Each distinct shortened ID on the command line costs
one LIST request that asks only for the keys beginning with it (one more per 1,000 such
keys), however many objects the bucket holds: cheaper than listing the whole bucket. A
note on stderr says what it cost. An ID given in full costs no listing. In a profile with
2019 archives, a key that could be a 2019 ID costs a HEAD request; more than 100 of them
beginning with one shortened ID (only someone who can write to the bucket arranges that)
is an error: give the whole ID.`

// checkIDs checks the syntax of the storage IDs on a command line, before
// anything prompts for a password.
func checkIDs(ids ...string) error {
	for _, id := range ids {
		if err := archive.CheckPrefix(id); err != nil {
			return &badIDError{id: id, err: err}
		}
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

// mayBePrefix reports whether identifying id failed in a way that a longer
// ID beginning with it could explain: it is no archive's ID, or id is not a
// whole current ID and its HEAD failed, as it may for a key that someone
// planted in the bucket to look like a 2019 ID.
func mayBePrefix(id string, err error) bool {
	if errors.Is(err, crypt.ErrNotOgive) || errors.Is(err, object.ErrNotFound) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	_, parseErr := crypt.ParseID(id)
	return parseErr != nil
}

// resolvePrefix finds the one archive of this profile whose ID begins with
// prefix, listing the keys that begin with it once per distinct prefix.
// exactErr is why prefix is not an archive's ID itself; it stands when
// prefix is a whole ID that nothing else begins with, or when its HEAD
// failed and no archive begins with it.
func (s *session) resolvePrefix(ctx context.Context, master []byte, prefix string, exactErr error) (*archive.Archive, error) {
	notes := s.notes
	m, ok := s.prefixes[prefix]
	if !ok {
		var err error
		m, err = archive.MatchPrefix(ctx, s.store, master, s.profile.LegacyArchives, prefix)
		if errors.Is(err, archive.ErrTooManyCandidates) {
			return nil, &checkError{msg: fmt.Sprintf("storage ID %s: %v", prefix, err),
				hint: "give more of the ID, or all of it: a whole ID is checked without a listing", err: err}
		}
		if err != nil && !errors.Is(exactErr, crypt.ErrNotOgive) && !errors.Is(exactErr, object.ErrNotFound) {
			return nil, exactErr // its HEAD failed first: the better reason
		}
		if err != nil {
			return nil, fmt.Errorf("list the keys of bucket %s that begin with %s: %w", s.profile.Bucket, prefix, err)
		}
		if s.prefixes == nil {
			s.prefixes = make(map[string]*archive.PrefixMatch)
		}
		s.prefixes[prefix] = m
		if notes != nil {
			fmt.Fprintf(notes, "Listed the keys beginning with %s: %s, %s.\n",
				prefix, plural(m.Objects, "object"), plural(m.Requests(), "LIST request"))
			if m.Unchecked > 0 {
				fmt.Fprintf(notes, "Skipped %s beginning with %s that could be 2019 archives: %s\n",
					plural(m.Unchecked, "key"), prefix, oneLine(m.UncheckedErr.Error()))
			}
		}
	}
	switch len(m.Entries) {
	case 0:
		if _, err := crypt.ParseID(prefix); err == nil || errors.Is(exactErr, object.ErrNotFound) ||
			!errors.Is(exactErr, crypt.ErrNotOgive) {
			return nil, exactErr // a whole ID, wrong as a whole
		}
		if m.Unchecked > 0 {
			return nil, fmt.Errorf("storage ID %s: %s that could be 2019 archives could not be checked: %w",
				prefix, plural(m.Unchecked, "key"), m.UncheckedErr)
		}
		return nil, &unknownPrefixError{prefix: prefix, objects: m.Objects}
	case 1:
	default:
		return nil, &ambiguousIDError{prefix: prefix, matches: m.Entries}
	}
	a, err := archive.Identify(ctx, s.store, master, m.Entries[0].ID, s.profile.LegacyArchives)
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
	return fmt.Sprintf("no archive of this profile has a storage ID beginning with %s (%s in the bucket begin with it)",
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
