package cmd_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/cmd"
)

// A mistyped command is named, with the command it is closest to, in the
// one-line error and hint of every usage error.
func TestUnknownCommandSuggests(t *testing.T) {
	for _, tc := range []struct{ typed, hint string }{
		{"lst", "hint: did you mean 'ogive list' or 'ogive ls'? run 'ogive --help' for usage\n"},
		{"gte", "hint: did you mean 'ogive get'? run 'ogive --help' for usage\n"},
		{"upload", "hint: did you mean 'ogive uploads'? run 'ogive --help' for usage\n"},
		{"xyzzy", "hint: run 'ogive --help' for usage\n"},
	} {
		var out, errb bytes.Buffer
		f := &cmd.Factory{In: strings.NewReader(""), Out: &out, Err: &errb,
			Getenv: func(string) string { return "" }, Terminal: noTerminal{}}
		code := cmd.Main(context.Background(), f, tc.typed)
		want := "ogive: unknown command \"" + tc.typed + "\"\n" + tc.hint
		if code != 1 || errb.String() != want || out.Len() != 0 {
			t.Errorf("ogive %s: exit %d, stdout %q, stderr %q; want exit 1 and stderr %q", tc.typed, code, out.String(), errb.String(), want)
		}
	}
}
