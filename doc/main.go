// Command doc writes ogive's man pages from the Cobra tree: go run ./doc [dir].
//
// The pages carry a fixed date and are generated from a factory that sees an
// empty environment, so regenerating them on any machine changes nothing.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/ogive-project/ogive/cmd"
)

func main() {
	dir := "doc/man"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := generate(dir); err != nil {
		fmt.Fprintln(os.Stderr, "doc:", err)
		os.Exit(1)
	}
}

// manDate is the date printed in every page; bump it with the release.
var manDate = time.Date(2026, time.November, 22, 0, 0, 0, 0, time.UTC)

func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f := &cmd.Factory{
		In: strings.NewReader(""), Out: io.Discard, Err: io.Discard,
		Getenv: func(string) string { return "" },
	}
	root := cmd.NewRootCmd(f)
	root.InitDefaultCompletionCmd()
	prepare(root)
	header := &doc.GenManHeader{
		Title:   "OGIVE",
		Section: "1",
		Date:    &manDate,
		Source:  "ogive",
		Manual:  "ogive manual",
	}
	return doc.GenManTree(root, header, dir)
}

// placeholders escapes what the Markdown-to-man step would take for HTML
// tags and drop: the <storage-id> placeholders of the synopsis and the text.
// Indented lines are code blocks, printed as they are, so they keep theirs.
func placeholders(text string) string {
	escape := strings.NewReplacer("<", `\<`, ">", `\>`)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "    ") {
			lines[i] = escape.Replace(l)
		}
	}
	return strings.Join(lines, "\n")
}

// prepare readies every page of the tree: it drops Cobra's "Auto generated
// by" line, which carries today's date, and escapes the placeholders.
// Examples are left alone: they become literal blocks.
func prepare(c *cobra.Command) {
	c.DisableAutoGenTag = true
	c.Use = placeholders(c.Use)
	c.Short = placeholders(c.Short)
	c.Long = placeholders(c.Long)
	for _, sub := range c.Commands() {
		prepare(sub)
	}
}
