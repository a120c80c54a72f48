// Command doc writes ogive's man pages from the Cobra tree: go run ./doc [dir].
//
// The pages carry a fixed date and are generated from a factory that sees an
// empty environment, so regenerating them on any machine changes nothing.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

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
	return writePages(root, dir)
}

// writePages writes the page of c and of every command below it, as
// cobra's GenManTree names them (ogive-profile-show.1), each with the
// sections of cmd.ManualSections added.
func writePages(c *cobra.Command, dir string) error {
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := writePages(sub, dir); err != nil {
			return err
		}
	}
	page, err := manPage(c)
	if err != nil {
		return err
	}
	name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
	return os.WriteFile(filepath.Join(dir, name), page, 0o644)
}

// manPage is c's page: what cobra makes of it, with the sections of
// cmd.ManualSections before the examples (or, without examples, before
// SEE ALSO), where man-pages(7) puts them.
func manPage(c *cobra.Command) ([]byte, error) {
	header := &doc.GenManHeader{
		Title:   "OGIVE",
		Section: "1",
		Date:    &manDate,
		Source:  "ogive",
		Manual:  "ogive manual",
	}
	var b bytes.Buffer
	if err := doc.GenMan(c, header, &b); err != nil {
		return nil, err
	}
	page := b.String()
	extra := roffSections(cmd.ManualSections(c))
	at := len(page)
	for _, next := range []string{"\n.SH EXAMPLE\n", "\n.SH SEE ALSO\n"} {
		if i := strings.Index(page, next); i >= 0 {
			at = i + 1
			break
		}
	}
	return []byte(asciiRoff(page[:at] + extra + page[at:])), nil
}

// asciiRoff spells every non-ASCII character as a roff Unicode escape
// (\[u2026] for "…"), which groff and mandoc render in any locale, where
// raw UTF-8 makes troff warn and print garbage.
func asciiRoff(page string) string {
	var b strings.Builder
	for _, r := range page {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "\\[u%04X]", r)
	}
	return b.String()
}

// roffSections renders sections as man(7) markup: paragraphs, then a
// tagged paragraph (.TP) per item.
func roffSections(secs []cmd.Section) string {
	var b strings.Builder
	for _, s := range secs {
		fmt.Fprintf(&b, ".SH %s\n", roffText(s.Title))
		for i, p := range strings.Split(s.Text, "\n\n") {
			if p == "" {
				continue
			}
			if i > 0 {
				b.WriteString(".PP\n")
			}
			b.WriteString(roffText(p) + "\n")
		}
		for _, it := range s.Items {
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n%s\n", roffText(it.Tag), roffText(it.Text))
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

// roffText makes text safe as the text of a man page: one line, with
// backslashes and hyphens escaped (so that options print as the ASCII
// minus one types), and no control character at its start.
func roffText(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	text = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(text)
	if strings.HasPrefix(text, ".") || strings.HasPrefix(text, "'") {
		text = `\&` + text
	}
	return text
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
// Examples are left alone: they become literal blocks. A flag that points
// to the README for its JSON points to the page's own section instead.
func prepare(c *cobra.Command) {
	c.DisableAutoGenTag = true
	c.Use = placeholders(c.Use)
	c.Short = placeholders(c.Short)
	c.Long = placeholders(c.Long)
	for _, s := range cmd.ManualSections(c) {
		if s.Title == cmd.SectionJSON {
			c.Flags().VisitAll(func(fl *pflag.Flag) {
				// On its own page, the JSON fields are a section away.
				if i := strings.Index(fl.Usage, " (fields: man ogive-"); i >= 0 && strings.HasSuffix(fl.Usage, ", JSON OUTPUT)") {
					fl.Usage = fl.Usage[:i] + " (see JSON OUTPUT below)"
				}
			})
		}
	}
	for _, sub := range c.Commands() {
		prepare(sub)
	}
}
