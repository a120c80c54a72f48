package cmd

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Archive names are whatever bytes a file was called, so a name may hold
// terminal escape sequences, a carriage return that overwrites the line, a
// newline that forges a row of 'ogive list', or a right-to-left override
// that shows "gpj.exe" as "exe.jpg". Human output passes every name through
// printable; --json prints names exactly, as JSON escapes them itself.

// printable returns name as it may be shown on a terminal. These become
// visible escapes, and everything else is left as it is:
//
//	\xHH    a C0 control (U+0000–U+001F), DEL, or a byte that is not valid UTF-8
//	\u00HH  a C1 control (U+0080–U+009F)
//	\uHHHH  a bidirectional control (U+061C, U+200E, U+200F, U+202A–U+202E,
//	        U+2066–U+2069), or the line and paragraph separators U+2028, U+2029
//	\\      a backslash
//
// A backslash is doubled so that the output is unambiguous: every escape
// starts with a backslash and has a fixed length, so the name can be read
// back from it and two different names never print the same.
func printable(name string) string {
	return escape(name, true)
}

// oneLine returns a message for one line of stderr: the same escapes as
// printable, except that a backslash stays single. Messages are not read
// back, and names in them are often quoted already (by %q or printable), so
// doubling would only garble them; what matters is that nothing in an error
// from a package, a server or a proxy can move the cursor or start a line.
func oneLine(msg string) string {
	return escape(msg, false)
}

func escape(s string, backslash bool) string {
	if !needsEscape(s, backslash) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1: // not UTF-8; a real U+FFFD is 3 bytes
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < utf8.RuneSelf && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '\\' && backslash:
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// needsEscape is escape's fast path: most names are plain.
func needsEscape(s string, backslash bool) bool {
	for _, r := range s {
		// A byte that is not UTF-8 decodes as RuneError, checked again by
		// escape.
		if r == utf8.RuneError || r < utf8.RuneSelf && unicode.IsControl(r) || hidden(r) || r == '\\' && backslash {
			return true
		}
	}
	return false
}

// hidden reports a rune beyond ASCII that acts on the display instead of
// showing: a C1 control (some terminals take U+009B as ESC [), a bidi
// control that reorders the text around it, or a line or paragraph
// separator. Joiners and other invisible format characters stay, as emoji
// sequences need them and they move nothing.
func hidden(r rune) bool {
	return r >= utf8.RuneSelf && (unicode.IsControl(r) || unicode.In(r, unicode.Bidi_Control, unicode.Zl, unicode.Zp))
}

// shellWord returns path as one word a POSIX shell reads back as the same
// file, quoted only when it needs to be, for hints that show a command to
// run. A path starting with "-" is relative, and gets "./" so that the
// command does not take it for an option.
func shellWord(path string) string {
	s := path
	if strings.HasPrefix(s, "-") {
		s = "./" + s
	}
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
