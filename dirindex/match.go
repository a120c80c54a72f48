package dirindex

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Match reports whether rel, an entry's path relative to the top directory
// (Entry.Rel), is selected by any of the patterns. A pattern matches as
// path.Match does, '*' not crossing '/'; a pattern that matches a directory
// selects everything under it, so rel is also selected when a pattern
// matches one of its parent directories: "a/b" and "a/*" select "a/b/x/y",
// "*.jpg" selects "x.jpg" but not "d/x.jpg". (In an index that Parse
// accepted, every parent of an entry is a directory.) The top directory
// itself, rel "", is selected by no pattern. A malformed pattern is an error,
// whatever rel is.
func Match(patterns []string, rel string) (bool, error) {
	if err := CheckPatterns(patterns); err != nil {
		return false, err
	}
	if rel == "" {
		return false, nil
	}
	for _, p := range patterns {
		// rel, then each of its parents, longest first.
		for s := rel; ; {
			if ok, _ := path.Match(p, s); ok {
				return true, nil
			}
			i := strings.LastIndexByte(s, '/')
			if i < 0 {
				break
			}
			s = s[:i]
		}
	}
	return false, nil
}

// CheckPatterns returns an error naming the first pattern that is malformed
// (path.Match's syntax) or empty.
func CheckPatterns(patterns []string) error {
	for _, p := range patterns {
		if p == "" {
			return errors.New("empty pattern")
		}
		// path.Match checks the whole pattern, even past a mismatch.
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	return nil
}
