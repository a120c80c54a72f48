package cmd

import "github.com/spf13/cobra"

// suggestCommands returns the commands of root that typed may be a typo
// of: those it starts, else the closest by edit distance (a swap of two
// neighbouring letters counting as one edit), at most two edits away.
func suggestCommands(root *cobra.Command, typed string) []string {
	best, out := 3, []string(nil)
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		for _, name := range append([]string{c.Name()}, c.SuggestFor...) {
			d := editDistance(typed, name)
			if len(typed) > 0 && len(typed) < len(name) && name[:len(typed)] == typed {
				d = 0
			}
			switch {
			case d < best:
				best, out = d, []string{c.Name()}
			case d == best && (len(out) == 0 || out[len(out)-1] != c.Name()):
				out = append(out, c.Name())
			}
		}
	}
	return out
}

// editDistance is the optimal string alignment distance between a and b,
// compared byte by byte: command names are ASCII.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
