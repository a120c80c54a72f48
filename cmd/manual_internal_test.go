package cmd

import (
	"reflect"
	"strings"
	"testing"
)

// jsonTags lists the JSON names of t's fields, embedded structs' included,
// straight from the struct tags.
func jsonTags(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			names = append(names, jsonTags(f.Type)...)
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// Every field of every JSON record ogive prints is described on the man
// pages, with its type, and no description is left over from a field that
// went away. A field added to these structs without a word in jsonMeanings
// fails here.
func TestManualDescribesEveryJSONField(t *testing.T) {
	used := map[string]bool{}
	for _, v := range []any{archiveJSON{}, restoreJSON{}, putJSON{}, lsJSON{}} {
		typ := reflect.TypeOf(v)
		items := JSONFields(v)
		tags := jsonTags(typ)
		if len(items) != len(tags) {
			t.Errorf("%s: %d fields described, %d in the struct", typ.Name(), len(items), len(tags))
			continue
		}
		for i, name := range tags {
			field, kind, _ := strings.Cut(items[i].Tag, " ")
			if field != name {
				t.Errorf("%s: field %d described as %q, the struct calls it %q", typ.Name(), i, field, name)
			}
			if kind == "" {
				t.Errorf("%s.%s: no type given", typ.Name(), name)
			}
			if items[i].Text == "undocumented" {
				t.Errorf("%s.%s is not described: add it to jsonMeanings", typ.Name(), name)
			}
			if _, ok := jsonMeanings[typ.Name()+"."+name]; ok {
				used[typ.Name()+"."+name] = true
			} else {
				used[name] = true
			}
		}
	}
	for key := range jsonMeanings {
		if !used[key] {
			t.Errorf("jsonMeanings describes %q, which no JSON record has", key)
		}
	}
}

// The types come from the Go types: a pointer may be null.
func TestJSONFieldTypes(t *testing.T) {
	want := map[string]string{
		"size (number or null)":           "archiveJSON",
		"restore_expiry (string or null)": "archiveJSON",
		"size (number)":                   "putJSON",
		"id (string)":                     "putJSON",
	}
	got := map[string]bool{}
	for _, v := range []any{archiveJSON{}, putJSON{}} {
		for _, it := range JSONFields(v) {
			got[reflect.TypeOf(v).Name()+" "+it.Tag] = true
		}
	}
	for tag, typ := range want {
		if !got[typ+" "+tag] {
			t.Errorf("%s lacks %q", typ, tag)
		}
	}
}

// Every command that prints JSON has its fields on its page.
func TestManualJSONPerCommand(t *testing.T) {
	root := NewRootCmd(&Factory{In: strings.NewReader(""), Getenv: func(string) string { return "" }})
	n := 0
	for _, c := range root.Commands() {
		if c.Flags().Lookup("json") == nil {
			continue
		}
		n++
		found := false
		for _, s := range ManualSections(c) {
			if s.Title == SectionJSON && len(s.Items) > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s has --json but its page describes no JSON field", c.CommandPath())
		}
	}
	if n < 4 {
		t.Fatalf("only %d commands with --json", n)
	}
}
