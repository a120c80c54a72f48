package object

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var errMalformedRestore = errors.New("malformed x-amz-restore header")

// parseRestoreHeader parses the x-amz-restore header S3 sends with HEAD and
// GET of an object that has been asked to restore, one of
//
//	ongoing-request="true"
//	ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"
//
// The value comes from the server, so anything unexpected is an error
// rather than a guess; unknown attributes are skipped so that S3 may add
// some.
func parseRestoreHeader(h string) (ongoing bool, expiry time.Time, err error) {
	var sawOngoing, sawExpiry bool
	rest := h
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return false, time.Time{}, fmt.Errorf("%w: attribute without value in %q", errMalformedRestore, h)
		}
		name := strings.ToLower(strings.TrimSpace(rest[:eq]))
		if name == "" {
			return false, time.Time{}, fmt.Errorf("%w: empty attribute name in %q", errMalformedRestore, h)
		}
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		value, after, ok := cutQuoted(rest)
		if !ok {
			return false, time.Time{}, fmt.Errorf("%w: unquoted value of %s in %q", errMalformedRestore, name, h)
		}
		rest = strings.TrimLeft(after, " \t")
		if rest != "" {
			if rest[0] != ',' {
				return false, time.Time{}, fmt.Errorf("%w: missing comma after %s in %q", errMalformedRestore, name, h)
			}
			rest = rest[1:]
		}

		switch name {
		case "ongoing-request":
			if sawOngoing {
				return false, time.Time{}, fmt.Errorf("%w: repeated ongoing-request in %q", errMalformedRestore, h)
			}
			sawOngoing = true
			switch value {
			case "true":
				ongoing = true
			case "false":
				ongoing = false
			default:
				return false, time.Time{}, fmt.Errorf("%w: ongoing-request is %q", errMalformedRestore, value)
			}
		case "expiry-date":
			if sawExpiry {
				return false, time.Time{}, fmt.Errorf("%w: repeated expiry-date in %q", errMalformedRestore, h)
			}
			sawExpiry = true
			expiry, err = http.ParseTime(value)
			if err != nil {
				return false, time.Time{}, fmt.Errorf("%w: expiry-date %q: %w", errMalformedRestore, value, err)
			}
		}
	}
	if !sawOngoing {
		return false, time.Time{}, fmt.Errorf("%w: no ongoing-request in %q", errMalformedRestore, h)
	}
	if ongoing {
		// An expiry means nothing while the copy is still being made.
		return true, time.Time{}, nil
	}
	if !sawExpiry {
		return false, time.Time{}, fmt.Errorf("%w: finished restore without expiry-date in %q", errMalformedRestore, h)
	}
	return false, expiry.UTC(), nil
}

// cutQuoted splits s, which must start with a double quote, into the text
// up to the closing quote and what follows it. S3 never escapes quotes
// inside these values.
func cutQuoted(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	return s[1 : 1+end], s[2+end:], true
}

// formatRestoreHeader is the inverse of parseRestoreHeader, used by the
// memory store so that both stores go through the same parser.
func formatRestoreHeader(ongoing bool, expiry time.Time) string {
	if ongoing {
		return `ongoing-request="true"`
	}
	return `ongoing-request="false", expiry-date="` + expiry.UTC().Format(http.TimeFormat) + `"`
}

// headStatus is the restore status of an object whose HEAD response carried
// the given storage class (empty means STANDARD) and x-amz-restore header.
func headStatus(class, restoreHeader string, now time.Time) (RestoreStatus, error) {
	if !isArchiveClass(class) {
		return RestoreStatus{State: StateAvailable}, nil
	}
	if restoreHeader == "" {
		return RestoreStatus{State: StateArchived}, nil
	}
	ongoing, expiry, err := parseRestoreHeader(restoreHeader)
	if err != nil {
		return RestoreStatus{}, err
	}
	return restoredStatus(ongoing, expiry, now), nil
}

// restoredStatus is the status of an archived object that has a restore
// record. S3 removes expired copies lazily, so the expiry is checked here
// rather than left to the server.
func restoredStatus(ongoing bool, expiry, now time.Time) RestoreStatus {
	switch {
	case ongoing:
		return RestoreStatus{State: StateRestoring}
	case !now.Before(expiry):
		return RestoreStatus{State: StateArchived}
	default:
		return RestoreStatus{State: StateRestored, Expiry: expiry}
	}
}
