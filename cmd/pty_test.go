//go:build unix

package cmd_test

import (
	"sort"
	"testing"

	"github.com/ogive-project/ogive/internal/ptytest"
)

// terminal runs the ogive binary on a pseudo-terminal of rows×cols with the
// rig's environment, in the rig's directory: a person typing at a terminal
// of that size. o.Bin, o.Env and o.Dir are filled in when empty.
func (r *rig) terminal(t *testing.T, rows, cols int, o ptytest.Options) *ptytest.Term {
	t.Helper()
	if o.Bin == "" {
		o.Bin = buildOgive(t)
	}
	if o.Env == nil {
		keys := make([]string, 0, len(r.env))
		for k := range r.env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			o.Env = append(o.Env, k+"="+r.env[k])
		}
	}
	if o.Dir == "" {
		o.Dir = r.dir
	}
	o.Rows, o.Cols = rows, cols
	return ptytest.Start(t, o)
}
