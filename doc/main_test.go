package main

import (
	"io"
	"os"
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
