package cmd_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ogive-project/ogive/cmd"
)

// What --json prints is what the man pages describe: the same fields, of
// the documented types, for every command that has --json.
func TestManualJSONMatchesOutput(t *testing.T) {
	r := newRig(t, rigOptions{})
	root := cmd.NewRootCmd(&cmd.Factory{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getenv: func(string) string { return "" }})
	checked := map[string]bool{}
	check := func(res result, args ...string) map[string]any {
		t.Helper()
		// head exits 2 for an archive that is not READY, and prints it all the same.
		if res.code != 0 && !(args[0] == "head" && res.code == 2) {
			t.Fatalf("ogive %s: %s", strings.Join(args, " "), res)
		}
		c, _, err := root.Find(args)
		if err != nil {
			t.Fatal(err)
		}
		documented := map[string]string{} // field: its type as the page gives it
		optional := map[string]bool{}     // fields the page says may be absent
		for _, s := range cmd.ManualSections(c) {
			if s.Title != cmd.SectionJSON {
				continue
			}
			for _, it := range s.Items {
				name, typ, _ := strings.Cut(it.Tag, " ")
				documented[name] = strings.Trim(typ, "()")
				optional[name] = strings.Contains(it.Text, "absent")
			}
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(res.stdout)), &line); err != nil {
			t.Fatalf("%s --json printed %q: %v", c.CommandPath(), res.stdout, err)
		}
		for name, v := range line {
			typ, ok := documented[name]
			if !ok {
				t.Errorf("%s --json prints %q, which its page does not describe", c.CommandPath(), name)
				continue
			}
			var got string
			switch v.(type) {
			case nil:
				got = "null"
			case string:
				got = "string"
			case float64:
				got = "number"
			case bool:
				got = "boolean"
			default:
				got = "object or array"
			}
			if typ != got && !strings.HasSuffix(typ, " or "+got) && !strings.HasPrefix(typ, got+" or ") {
				t.Errorf("%s --json: %s is a %s, its page says %s", c.CommandPath(), name, got, typ)
			}
		}
		for name := range documented {
			if _, ok := line[name]; !ok && !optional[name] {
				t.Errorf("%s --json does not print %q, which its page describes", c.CommandPath(), name)
			}
		}
		checked[c.CommandPath()] = true
		return line
	}

	file := r.write("manual.txt", []byte("what the page says"))
	args := []string{"put", "--json", file}
	line := check(r.ogive("", append(args, "--password-file", r.pwFile)...), args...)
	id, _ := line["id"].(string)
	for _, args := range [][]string{
		{"list", "--json"},
		{"head", "--json", id},
		{"restore", "--json", id},
	} {
		check(r.ogive("", append(args, "--password-file", r.pwFile)...), args...)
	}
	// A directory: put prints its entries, and ls one line per entry.
	dir := r.mkdir("manual-dir")
	r.write("manual-dir/f.txt", []byte("a file"))
	os.Symlink("f.txt", filepath.Join(dir, "l"))
	args = []string{"put", "--json", dir}
	line = check(r.ogive("", append(args, "--password-file", r.pwFile)...), args...)
	if line["entries"] != float64(3) {
		t.Errorf("put --json of a directory: entries %v", line["entries"])
	}
	dirID, _ := line["id"].(string)
	for _, pattern := range []string{"f.txt", "l"} {
		args := []string{"ls", "--json", dirID, pattern}
		check(r.ogive("", append(args, "--password-file", r.pwFile)...), args...)
	}
	// Restored, head prints the expiry as a string rather than null.
	r.restoreAll(id)
	if got := check(r.ogive("", "head", "--json", id, "--password-file", r.pwFile), "head", "--json", id); got["restore_expiry"] == nil {
		t.Errorf("restored, head --json prints no restore_expiry: %v", got)
	}

	for _, c := range root.Commands() {
		if c.Flags().Lookup("json") != nil && !checked[c.CommandPath()] {
			t.Errorf("%s has --json, and this test does not check it", c.CommandPath())
		}
	}
}
