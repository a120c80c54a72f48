package cmd

import (
	"fmt"
	"time"

	"github.com/ogive-project/ogive/object"
)

// formatSize prints a size as the original ogive did: two tokens, the unit
// in IEC binary prefixes ("62 B", "123.4 MiB"), so awk's field numbers hold.
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatExpiry prints when a restored copy goes away, in UTC to the minute.
func formatExpiry(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

// statusCode is the five-letter status of the original ogive.
func statusCode(s object.State) string {
	switch s {
	case object.StateArchived:
		return "DEEPS"
	case object.StateRestoring:
		return "RECOV"
	case object.StateRestored, object.StateAvailable:
		return "READY"
	default:
		return "?????"
	}
}
