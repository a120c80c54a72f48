package cmd_test

import (
	"strings"
	"testing"
)

// Without a question (a script, cron, --yes), rm takes an ID in full or
// by at least 12 characters: 6 may pick another archive once the one
// meant is gone, and nobody would see its name. Nothing is deleted.
func TestRmWithoutQuestionNeedsLongPrefix(t *testing.T) {
	r := newRig(t, rigOptions{})
	ids := r.put(r.write("one.txt", []byte("one\n")), r.write("two.txt", []byte("two\n")))
	for _, short := range []string{ids[0][:6], ids[0][:11]} {
		res := r.ogive("", "rm", "--force", "--password-file", r.pwFile, ids[1], short)
		want := "ogive: storage ID \"" + short + "\" is "
		if res.code != 1 || !strings.HasPrefix(res.stderr, want) ||
			!strings.Contains(res.stderr, "give at least 12 characters of the storage ID, or the whole ID, to delete without a question\n") ||
			strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("rm with %d characters: %s", len(short), res)
		}
	}
	if !r.exists(t, ids[0]) || !r.exists(t, ids[1]) {
		t.Fatal("a refused rm deleted something")
	}
	res := r.ogive("", "rm", "--force", "--password-file", r.pwFile, ids[0][:12], ids[1])
	if res.code != 0 || r.exists(t, ids[0]) || r.exists(t, ids[1]) {
		t.Errorf("rm with 12 characters and a whole ID: %s", res)
	}
}

// One archive named twice, by two prefixes or a prefix and its whole ID,
// is looked up and deleted once.
func TestRmDuplicateIDsDeleteOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.put(r.write("one.txt", []byte("one\n")))[0]
	res := r.ogive("", "rm", "--force", "--password-file", r.pwFile, id[:12], id, id[:14])
	if res.code != 0 || strings.Count(res.stderr, "Deleted one.txt") != 1 || strings.Count(res.stderr, "is 0 days old") != 1 {
		t.Errorf("rm of one archive named three times: %s", res)
	}
	if r.exists(t, id) {
		t.Error("not deleted")
	}
}
