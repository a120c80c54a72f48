package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/cmd"
)

// Every <placeholder> of a command's usage and description reaches its man
// page: the Markdown step would otherwise drop them as HTML tags.
func TestPagesKeepPlaceholders(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	f := &cmd.Factory{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getenv: func(string) string { return "" }}
	placeholder := regexp.MustCompile(`<[a-z-]+>`)
	checked := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		page, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", c.CommandPath(), err)
			return
		}
		for _, text := range []string{c.Use, c.Long} {
			for _, p := range placeholder.FindAllString(text, -1) {
				checked++
				if !strings.Contains(string(page), p) {
					t.Errorf("%s lost %s", name, p)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cmd.NewRootCmd(f))
	if checked == 0 {
		t.Fatal("no placeholder found in the tree: the test checks nothing")
	}
}

// pageSections returns the titles of the .SH sections of a page, in order.
func pageSections(page string) []string {
	var titles []string
	for _, line := range strings.Split(page, "\n") {
		if t, ok := strings.CutPrefix(line, ".SH "); ok {
			titles = append(titles, strings.Trim(t, `"`))
		}
	}
	return titles
}

// Every page carries the sections a reader of a man page looks for, after
// OPTIONS and before EXAMPLE and SEE ALSO, with every entry of them.
func TestPagesHaveSections(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	root := cmd.NewRootCmd(&cmd.Factory{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getenv: func(string) string { return "" }})
	root.InitDefaultCompletionCmd()
	pages := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				walk(sub)
			}
		}
		pages++
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			return
		}
		page := string(raw)
		want := []string{cmd.SectionExitStatus}
		// Pages of commands that open a profile say which variables and files they read.
		helpOnly := c.CommandPath() == "ogive profile" || strings.HasPrefix(c.CommandPath(), "ogive completion")
		if !helpOnly {
			want = append(want, cmd.SectionEnvironment, cmd.SectionFiles)
		}
		if c.Flags().Lookup("json") != nil {
			want = append(want, cmd.SectionJSON)
		}
		got := pageSections(page)
		index := map[string]int{}
		for i, s := range got {
			index[s] = i
		}
		for _, s := range append(want, "SEE ALSO") {
			if _, ok := index[s]; !ok {
				t.Errorf("%s has no %s section; it has %q", name, s, got)
			}
		}
		// The added sections follow Cobra's OPTIONS and come before EXAMPLE and SEE ALSO.
		for _, s := range want {
			i, ok := index[s]
			if !ok {
				continue
			}
			if j, ok := index["OPTIONS"]; ok && i < j {
				t.Errorf("%s: %s before OPTIONS", name, s)
			}
			for _, after := range []string{"EXAMPLE", "SEE ALSO"} {
				if j, ok := index[after]; ok && i > j {
					t.Errorf("%s: %s after %s", name, s, after)
				}
			}
		}
		for _, s := range cmd.ManualSections(c) {
			for _, it := range s.Items {
				if !strings.Contains(page, `\fB`+roffText(it.Tag)+`\fR`) {
					t.Errorf("%s: %s lacks %q", name, s.Title, it.Tag)
				}
				if it.Text == "" {
					t.Errorf("%s: %s: %q is not described", name, s.Title, it.Tag)
				}
			}
		}
	}
	walk(root)
	if pages < 10 {
		t.Fatalf("only %d pages checked", pages)
	}
}

// A page stands on its own: it points to no README, and describes every
// JSON field it prints (cmd.JSONFields names a field it has no words for
// "undocumented").
func TestPagesSelfContained(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		page, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"README", "undocumented"} {
			if strings.Contains(string(page), bad) {
				t.Errorf("%s says %q", e.Name(), bad)
			}
		}
	}
}

// Text from the command tree cannot start a roff request, and keeps its
// backslashes and options as typed.
func TestRoffText(t *testing.T) {
	for in, want := range map[string]string{
		".ogive-partial":      `\&.ogive\-partial`,
		"'quoted'":            `\&'quoted'`,
		`a \x1b b`:            `a \ex1b b`,
		"two\nlines  spaced":  "two lines spaced",
		"see --json and -o X": `see \-\-json and \-o X`,
	} {
		if got := roffText(in); got != want {
			t.Errorf("roffText(%q) = %q, want %q", in, got, want)
		}
	}
}

// The pages read as a person reads them, through groff: no warning, every
// added section there, and no roff escape left showing. Without groff on
// the machine there is nothing to render with.
func TestPagesRenderWithGroff(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed")
	}
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"ogive.1", "ogive-get.1", "ogive-list.1", "ogive-put.1", "ogive-completion-bash.1"} {
		var out, errb bytes.Buffer
		c := exec.Command(groff, "-man", "-Tutf8", "-ww", "-P", "-cbou", filepath.Join(dir, page))
		c.Stdout, c.Stderr = &out, &errb
		c.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		if err := c.Run(); err != nil {
			t.Fatalf("groff %s: %v: %s", page, err, errb.String())
		}
		if errb.Len() > 0 {
			t.Errorf("groff warns about %s: %s", page, errb.String())
		}
		text := out.String()
		if !strings.Contains(text, "\nEXIT STATUS\n") {
			t.Errorf("%s renders without EXIT STATUS", page)
		}
		for _, leak := range []string{`\f`, `\-`, `\e`, `\&`, ".TP", ".PP", ".SH"} {
			if strings.Contains(text, leak) {
				t.Errorf("%s shows %q as it renders", page, leak)
			}
		}
		if page == "ogive.1" {
			for _, want := range []string{"\nENVIRONMENT\n", "\nFILES\n", "\nSECURITY\n", "OGIVE_PASSWORD_FILE", `(\x1b,`, `\u202e`, `\\)`} {
				if !strings.Contains(text, want) {
					t.Errorf("ogive.1 renders without %q", want)
				}
			}
		}
		if page == "ogive-list.1" && !strings.Contains(text, "restore_expiry (string or null)") {
			t.Errorf("ogive-list.1 renders without restore_expiry")
		}
	}
}
