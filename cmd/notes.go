package cmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/pricing"
)

// noNotesEnv silences put's notes, as --no-notes does, for a user who has
// read them once.
const noNotesEnv = "OGIVE_NO_NOTES"

// notesOff reports whether put's notes are silenced by --no-notes or by
// OGIVE_NO_NOTES, which must be a boolean ("1", "true", "0", …) when set.
func notesOff(flag bool, getenv func(string) string) (bool, error) {
	if flag {
		return true, nil
	}
	v := getenv(noNotesEnv)
	if v == "" {
		return false, nil
	}
	off, err := strconv.ParseBool(v)
	if err != nil {
		return false, usagef("%s=%q is not a boolean: use 1 to silence put's notes, 0 to show them", noNotesEnv, v)
	}
	return off, nil
}

// printNote prints a note of one or more sentences. At a terminal of cols
// columns it is wrapped at word boundaries to fit; elsewhere (cols 0) it
// stays one line, as logs and grep want it.
func printNote(w io.Writer, cols int, text string) {
	if cols > 0 {
		text = wrapWords(text, cols-1)
	}
	fmt.Fprintln(w, text)
}

// wrapWords breaks s into lines of at most width characters, at spaces. A
// word longer than width (a path, a URL) gets a line of its own rather
// than being cut.
func wrapWords(s string, width int) string {
	if width < 1 {
		return s
	}
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		switch {
		case col == 0:
		case col+1+n <= width:
			b.WriteByte(' ')
			col++
		default:
			b.WriteByte('\n')
			col = 0
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}

// minimumStorageNote says that S3 bills objects of some storage classes for
// a minimum duration however soon they are deleted (180 days for Deep
// Archive), and what that comes to for the files just uploaded, stored
// bytes in all; "" for a class without a minimum.
func minimumStorageNote(p prices, class string, files int, stored int64) string {
	class = storageClassName(class)
	days := minimumDays(class)
	if days == 0 {
		return ""
	}
	note := fmt.Sprintf("Note: S3 bills %s objects for at least %d days of storage, even if they are deleted sooner.", class, days)
	if class != pricedClass {
		return note
	}
	what := fmt.Sprintf("these %d files", files)
	if files == 1 {
		what = "this file"
	}
	return note + fmt.Sprintf(" Minimum charge for %s, %s stored: %s (%s per GB-month; %s)",
		what, formatSize(stored), formatUSD(p.minimumCharge(stored)), formatPrice(p.storageGBMonth), p.source())
}

// smallFilesNote says, when several files of a put are small enough that
// what S3 charges per object weighs on the bill, what that is and how to
// avoid it; "" otherwise, and for storage classes other than Deep Archive.
func smallFilesNote(p prices, class string, files, requests int, stored int64) string {
	if storageClassName(class) != pricedClass || !p.table().ManySmall(files, requests, stored) {
		return ""
	}
	po := p.table().PerObject(files, requests)
	return fmt.Sprintf("Note: besides its bytes, each Deep Archive object costs its PUT request (%s per 1,000) "+
		"and %d KB more of storage every month (%d KB at the Deep Archive rate, %d KB of index at S3 Standard's %s per GB-month). "+
		"For these %d files: %s in requests and %s a month (%s). "+
		"Archiving small files together pays these once: ogive put DIR (one archive, its files listed by ogive ls)",
		formatPrice(p.putRequests), (pricing.OverheadArchive+pricing.OverheadIndex)>>10,
		pricing.OverheadArchive>>10, pricing.OverheadIndex>>10, formatPrice(p.standardGBMonth),
		files, formatUSD(po.RequestsUSD), formatUSD(po.OverheadUSDMonth), p.source())
}

// putRequests is how many requests uploading cipher bytes takes: one PUT
// for a single part, else a create, the parts and a complete.
func putRequests(cipher int64) int {
	size := archive.PartSize(cipher)
	if cipher <= size {
		return 1
	}
	return int((cipher+size-1)/size) + 2
}
