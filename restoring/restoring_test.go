package restoring

import (
	"testing"

	"github.com/ogive-project/ogive/object"
)

// The values are restore --json's "restore" field, which scripts read.
func TestActionValues(t *testing.T) {
	for a, want := range map[Action]string{Requested: "requested", InProgress: "in_progress",
		AlreadyRestored: "already_restored", NotArchived: "not_archived", Extended: "extended", Unknown: "unknown"} {
		if string(a) != want {
			t.Errorf("%q, want %q", a, want)
		}
	}
}

func TestSkip(t *testing.T) {
	for _, c := range []struct {
		state       object.State
		all, extend bool
		want        Action
	}{
		{object.StateArchived, false, false, None},
		{object.StateArchived, true, false, None},
		{object.StateRestoring, true, true, InProgress},
		{object.StateRestored, true, false, AlreadyRestored},
		{object.StateRestored, false, true, None},
		{object.StateAvailable, false, false, NotArchived},
		{object.StateUnknown, false, false, None},
		{object.StateUnknown, true, false, Unknown},
	} {
		if got := Skip(c.state, c.all, c.extend); got != c.want {
			t.Errorf("Skip(%v, all %v, extend %v) = %q, want %q", c.state, c.all, c.extend, got, c.want)
		}
	}
}
