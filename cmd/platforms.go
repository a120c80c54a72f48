package cmd

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
)

// What a command does differently on a system other than Linux, where
// every guarantee the README states holds. The notes are data, like the
// man-page sections: "--help" shows those of the system it runs on, after
// Cobra's help; each man page lists them all in a PLATFORMS section, so the
// pages are the same whichever system generated them. README "Platforms"
// says the same in prose.

// platformNote is one difference, for the commands it names ("" for
// every command's page and help) on the systems it names.
type platformNote struct {
	commands []string // command paths, "ogive put"; nil means the root's page only
	systems  []string // GOOS values
	text     string
}

// systemNames are the names people know the systems by.
var systemNames = map[string]string{
	"darwin":  "macOS",
	"freebsd": "FreeBSD",
	"windows": "Windows",
}

// platformNotes is filled in platform_notes.go.

// notesFor returns the notes for command path on system goos, in order.
func notesFor(path, goos string) []string {
	var out []string
	for _, n := range platformNotes {
		if !contains(n.systems, goos) {
			continue
		}
		if (n.commands == nil && path == "ogive") || contains(n.commands, path) {
			out = append(out, n.text)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// platformSection is the PLATFORMS section of path's man page: every
// system's notes, systems in a fixed order.
func platformSection(path string) *Section {
	var items []Item
	for _, goos := range []string{"darwin", "freebsd", "windows"} {
		notes := notesFor(path, goos)
		if len(notes) > 0 {
			items = append(items, Item{Tag: systemNames[goos], Text: strings.Join(notes, " ")})
		}
	}
	if len(items) == 0 {
		return nil
	}
	return &Section{Title: SectionPlatforms, Text: "What differs from Linux on other systems.", Items: items}
}

// withPlatformNotes makes root's help end, for each command, with what it
// does differently on this system.
func withPlatformNotes(root *cobra.Command) {
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		help(c, args)
		writePlatformNotes(c.OutOrStdout(), c.CommandPath(), runtime.GOOS)
	})
}

func writePlatformNotes(w io.Writer, path, goos string) {
	notes := notesFor(path, goos)
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(w, "\nOn %s:\n", systemNames[goos])
	for _, n := range notes {
		fmt.Fprintf(w, "%s\n", wrapText("  - ", "    ", n, 80))
	}
}

// wrapText wraps s at width, the first line after first, the others after
// rest.
func wrapText(first, rest, s string, width int) string {
	var b strings.Builder
	line, empty := first, true
	for _, w := range strings.Fields(s) {
		if !empty && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line, empty = line+w, false
	}
	b.WriteString(line)
	return b.String()
}
