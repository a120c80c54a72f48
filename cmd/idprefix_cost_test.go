package cmd_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/object"
)

// A shortened ID is looked up by listing only the keys that begin with
// it: one LIST request however many other objects the bucket holds, one
// per distinct prefix, and one small LIST for a whole ID of no archive.
func TestPrefixListsOnlyItsKeys(t *testing.T) {
	r := newRig(t, rigOptions{})
	ids := r.put(r.write("one.txt", []byte("one\n")), r.write("two.txt", []byte("two\n")))
	id := ids[0]
	s := r.directStore()
	for i := range 2500 {
		key := fmt.Sprintf("zz-foreign-%04d", i)
		if err := s.Put(context.Background(), key, nil, object.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lists := r.countLists()
	res := r.ogive("", "head", "--password-file", r.pwFile, id[:12])
	if res.code != 2 {
		t.Fatalf("head: %s", res)
	}
	if n := lists(); n != 1 {
		t.Errorf("resolving one prefix cost %d LIST requests among 2,502 objects, want 1\n%s", n, res.stderr)
	}
	if want := "Listed the keys beginning with " + id[:12] + ": 1 object, 1 LIST request.\n"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
	}

	// Two distinct prefixes: a LIST each, of their own keys only.
	lists = r.countLists()
	res = r.ogive("", "restore", "--password-file", r.pwFile, ids[0][:7], ids[1][:20])
	if res.code != 0 || lists() != 2 {
		t.Errorf("restore with two prefixes: %d LIST requests, want 2: %s", lists(), res)
	}

	// Something that is no archive's ID and begins none: one LIST, of nothing.
	lists = r.countLists()
	res = r.ogive("", "head", "--password-file", r.pwFile, "zz-foreign-00")
	if res.code != 1 || lists() != 1 ||
		!strings.Contains(res.stderr, "no archive of this profile has a storage ID beginning with zz-foreign-00 (100 objects in the bucket begin with it)") {
		t.Errorf("a prefix of foreign keys: %d LIST requests, %s", lists(), res)
	}
}

// headRule counts HEAD requests and answers 500 to those of the keys in
// fail, as S3 answers 400 to a HEAD of an object encrypted with SSE-C.
func (r *rig) headRule(fail ...string) func() int {
	var mu sync.Mutex
	n := 0
	failing := func(req *http.Request) bool {
		if req.Method != http.MethodHead {
			return false
		}
		for _, key := range fail {
			if strings.HasSuffix(req.URL.Path, "/"+key) {
				return true
			}
		}
		return false
	}
	r.proxy.SetRules(faultproxy.Rule{Match: func(req *http.Request) bool {
		if req.Method == http.MethodHead {
			mu.Lock()
			n++
			mu.Unlock()
		}
		return false
	}}, faultproxy.Rule{Fault: faultproxy.InternalError, Match: failing})
	return func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// Keys that someone who can write to the bucket planted to look like 2019
// IDs beginning with an archive's prefix neither stop its lookup when
// their HEAD fails nor cost a HEAD each: beyond 100 the lookup asks for the
// whole ID, which still works.
func TestPrefixPlantedLegacyKeys(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.putLegacy("old.txt", []byte("old\n"))
	// A v3 ID without '_' in its first 24 characters, so that keys
	// beginning with them can look like 2019 IDs.
	var id string
	for i := 0; id == ""; i++ {
		cand := r.put(r.write("victim.txt", randomBytes(t, 10)))[0]
		if !strings.Contains(cand[:24], "_") {
			id = cand
		}
		if i > 50 {
			t.Skip("no ID without '_'")
		}
	}
	s := r.directStore()
	plant := func(key string) string {
		t.Helper()
		if err := s.Put(context.Background(), key, []byte("junk"), object.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		return key
	}
	long := id[:24]
	exact := plant(long) // the prefix itself, whose HEAD fails
	failing := plant(id[:12] + strings.Repeat("x", 40) + "AbAA")
	plant(id[:12] + strings.Repeat("x", 40) + "AcAA")

	r.headRule(exact, failing)
	res := r.ogive("", "head", "--password-file", r.pwFile, long)
	if res.code != 2 || !strings.Contains(res.stderr, long+" is "+id+" (victim.txt)") {
		t.Errorf("a planted key equal to the prefix, whose HEAD fails, stopped its lookup: %s", res)
	}
	r.headRule(exact, failing)
	res = r.ogive("", "head", "--password-file", r.pwFile, id[:12])
	if res.code != 2 || !strings.Contains(res.stderr, id[:12]+" is "+id+" (victim.txt)") ||
		!strings.Contains(res.stderr, "Skipped 2 keys beginning with "+id[:12]+" that could be 2019 archives") {
		t.Errorf("planted keys whose HEAD fails stopped the lookup: %s", res)
	}

	for i := range 100 {
		plant(id[:12] + strings.Repeat("y", 40) + string(rune('A'+i%26)) + string(rune('a'+i/26)) + "AA")
	}
	heads := r.headRule()
	res = r.ogive("", "head", "--password-file", r.pwFile, id[:12])
	// At most the one HEAD with which a listing checks that the server
	// reports restores (object.S3.List), none per planted key.
	if res.code != 1 || heads() > 1 ||
		!strings.Contains(res.stderr, "ogive: storage ID "+id[:12]+": too many keys that could be 2019 archives begin with it: 103, more than the 100") ||
		!strings.Contains(res.stderr, "hint: give more of the ID, or all of it") {
		t.Errorf("103 planted keys: %d HEAD requests (want at most 1), %s", heads(), res)
	}
	lists := r.countLists()
	res = r.ogive("", "head", "--password-file", r.pwFile, id)
	if res.code != 2 || lists() != 0 {
		t.Errorf("the whole ID among planted keys: %d LIST requests, %s", lists(), res)
	}
}
