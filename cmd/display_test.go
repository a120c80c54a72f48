package cmd

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"photos 2019.tar", "photos 2019.tar"},
		{"café ☕ 日本語 Ελληνικά.txt", "café ☕ 日本語 Ελληνικά.txt"},
		{"", ""},
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"fake\rreal", `fake\x0dreal`},
		{"two\nlines\ttab", `two\x0alines\x09tab`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"csi\u009b31m", `csi\u009b31m`},   // C1 CSI, ESC [ on some terminals
		{"\u202egpj.exe", `\u202egpj.exe`}, // shows as "exe.jpg"
		{"a\u2066b\u2069c\u200ed\u200fe\u061cf", `a\u2066b\u2069c\u200ed\u200fe\u061cf`},
		{"\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{"cut\xc3", `cut\xc3`},
		{"surrogate\xed\xa0\x80", `surrogate\xed\xa0\x80`},
		{"overlong\xc0\xaf", `overlong\xc0\xaf`},
		{"real \ufffd stays", "real \ufffd stays"},
		{"family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"}, // joiners stay
		{`back\slash`, `back\\slash`},
		{`\x1b`, `\\x1b`}, // the four characters, not ESC
	} {
		if got := printable(tc.name); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.name, got, tc.want)
		}
		if back, err := unprintable(printable(tc.name)); err != nil || back != tc.name {
			t.Errorf("read back %q: %q, %v", tc.name, back, err)
		}
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"open x: no such file", "open x: no such file"},
		{"\"\\x1b\": unsafe name", "\"\\x1b\": unsafe name"}, // %q output is left alone
		{`C:\dir`, `C:\dir`},
		{"api error: \x1b]0;pwned\x07\nhint: forged", `api error: \x1b]0;pwned\x07\x0ahint: forged`},
		{"rtl \u202e bad \xff", `rtl \u202e bad \xff`},
	} {
		if got := oneLine(tc.msg); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

// FuzzPrintable checks that printable leaves nothing that acts on a
// terminal, and is injective: its output reads back as the very name, so
// two different names never print the same.
func FuzzPrintable(f *testing.F) {
	for _, seed := range [][2]string{
		{"\x1b[2J", `\x1b[2J`},
		{"\\", `\\`},
		{"a\rb", "a\\x0db"},
		{"\u202e", `\u202e`},
		{"\xff", `\xff`},
		{"\u0085", `\u0085`},
		{"\ufffd", "\xef\xbf\xbd"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		pa, pb := printable(a), printable(b)
		if err := displaySafe(pa); err != nil {
			t.Fatalf("printable(%q) = %q: %v", a, pa, err)
		}
		if back, err := unprintable(pa); err != nil || back != a {
			t.Fatalf("printable(%q) = %q reads back as %q, %v", a, pa, back, err)
		}
		if a != b && pa == pb {
			t.Fatalf("%q and %q both print as %q", a, b, pa)
		}
		if line := oneLine(a); displaySafe(line) != nil {
			t.Fatalf("oneLine(%q) = %q: %v", a, line, displaySafe(line))
		}
	})
}

// displaySafe reports anything in s that a terminal would act on.
func displaySafe(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Bidi_Control, unicode.Zl, unicode.Zp) {
			return errors.New("holds " + strconv.QuoteRune(r))
		}
	}
	return nil
}

// unprintable reads printable's output back, following its documented
// escapes only.
func unprintable(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			i++
			continue
		}
		rest := s[i+1:]
		switch {
		case strings.HasPrefix(rest, `\`):
			b.WriteByte('\\')
			i += 2
		case strings.HasPrefix(rest, "x") && len(rest) >= 3:
			v, err := strconv.ParseUint(rest[1:3], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(v))
			i += 4
		case strings.HasPrefix(rest, "u") && len(rest) >= 5:
			v, err := strconv.ParseUint(rest[1:5], 16, 16)
			if err != nil {
				return "", err
			}
			b.WriteRune(rune(v))
			i += 6
		default:
			return "", errors.New("bad escape at " + strconv.Itoa(i))
		}
	}
	return b.String(), nil
}

// TestShellWord checks that a shell reads each hint's word back as the path.
func TestShellWord(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/home/ann/.ogive-pw", "/home/ann/.ogive-pw"},
		{"pw", "pw"},
		{"My Passwords/ogive", "'My Passwords/ogive'"},
		{"it's", `'it'\''s'`},
		{"$HOME/pw", "'$HOME/pw'"},
		{"-pw", "./-pw"},
		{"", "''"},
	} {
		got := shellWord(tc.path)
		if got != tc.want {
			t.Errorf("shellWord(%q) = %q, want %q", tc.path, got, tc.want)
		}
		out, err := exec.Command("sh", "-c", "printf %s "+got).Output()
		want := tc.path
		if strings.HasPrefix(want, "-") {
			want = "./" + want
		}
		if err != nil || string(out) != want {
			t.Errorf("sh reads %s as %q (%v), want %q", got, out, err, want)
		}
	}
}

func TestMaxIDLenCountsTheSeparator(t *testing.T) {
	// The object key is the prefix, a "/" if it lacks one, and the ID: 1024 bytes at most.
	for prefix, want := range map[string]int{"": 1024, "a": 1022, "a/": 1022, "backups/2026": 1011} {
		if got := maxIDLen(prefix); got != want {
			t.Errorf("maxIDLen(%q) = %d, want %d", prefix, got, want)
		}
	}
}
