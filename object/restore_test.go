package object

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRestoreHeader(t *testing.T) {
	dec21 := time.Date(2012, 12, 21, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		header  string
		ongoing bool
		expiry  time.Time
	}{
		{`ongoing-request="true"`, true, time.Time{}},
		{`ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`, false, dec21},
		{`ongoing-request="false",expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`, false, dec21},
		{`expiry-date="Fri, 21 Dec 2012 00:00:00 GMT", ongoing-request="false"`, false, dec21},
		{`Ongoing-Request="false", Expiry-Date="Fri, 21 Dec 2012 00:00:00 GMT"`, false, dec21},
		{`  ongoing-request = "false" ,  expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"  `, false, dec21},
		// Attributes S3 may add are skipped.
		{`ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT", restore-tier="Bulk"`, false, dec21},
		// An expiry while ongoing means nothing.
		{`ongoing-request="true", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`, true, time.Time{}},
		// The other date formats HTTP allows.
		{`ongoing-request="false", expiry-date="Friday, 21-Dec-12 00:00:00 GMT"`, false, dec21},
	} {
		ongoing, expiry, err := parseRestoreHeader(c.header)
		if err != nil {
			t.Errorf("parseRestoreHeader(%q): %v", c.header, err)
			continue
		}
		if ongoing != c.ongoing || !expiry.Equal(c.expiry) {
			t.Errorf("parseRestoreHeader(%q) = %v, %v; want %v, %v", c.header, ongoing, expiry, c.ongoing, c.expiry)
		}
	}
}

func TestParseRestoreHeaderRejects(t *testing.T) {
	for _, h := range []string{
		``,
		`ongoing-request`,
		`ongoing-request=true`,
		`ongoing-request="yes"`,
		`ongoing-request="true`,
		`ongoing-request="false"`,
		`ongoing-request="false", expiry-date=""`,
		`ongoing-request="false", expiry-date="tomorrow"`,
		`ongoing-request="true" expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`,
		`ongoing-request="true", ongoing-request="false"`,
		`ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`,
		`="true"`,
		`expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`,
	} {
		if _, _, err := parseRestoreHeader(h); !errors.Is(err, errMalformedRestore) {
			t.Errorf("parseRestoreHeader(%q): %v, want errMalformedRestore", h, err)
		}
	}
}

func TestHeadStatus(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	later := now.Add(36 * time.Hour).Truncate(time.Second)
	restored := formatRestoreHeader(false, later)
	for _, c := range []struct {
		class, header string
		at            time.Time
		want          RestoreStatus
	}{
		{"STANDARD", "", now, RestoreStatus{State: StateAvailable}},
		{"STANDARD_IA", restored, now, RestoreStatus{State: StateAvailable}},
		{"DEEP_ARCHIVE", "", now, RestoreStatus{State: StateArchived}},
		{"GLACIER", "", now, RestoreStatus{State: StateArchived}},
		{"DEEP_ARCHIVE", `ongoing-request="true"`, now, RestoreStatus{State: StateRestoring}},
		{"DEEP_ARCHIVE", restored, now, RestoreStatus{State: StateRestored, Expiry: later}},
		{"DEEP_ARCHIVE", restored, later.Add(-time.Second), RestoreStatus{State: StateRestored, Expiry: later}},
		{"DEEP_ARCHIVE", restored, later, RestoreStatus{State: StateArchived}},
		{"GLACIER", restored, later.Add(time.Hour), RestoreStatus{State: StateArchived}},
	} {
		got, err := headStatus(c.class, c.header, c.at)
		if err != nil {
			t.Errorf("headStatus(%s, %q): %v", c.class, c.header, err)
			continue
		}
		if got != c.want {
			t.Errorf("headStatus(%s, %q) at %v = %+v, want %+v", c.class, c.header, c.at, got, c.want)
		}
	}
	if _, err := headStatus("DEEP_ARCHIVE", "garbage", now); !errors.Is(err, errMalformedRestore) {
		t.Errorf("headStatus with a garbage header: %v, want errMalformedRestore", err)
	}
	// A malformed header on an object that needs no restore does not matter.
	if _, err := headStatus("STANDARD", "garbage", now); err != nil {
		t.Errorf("headStatus of STANDARD with a garbage header: %v", err)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{
		StateUnknown:   "unknown",
		StateAvailable: "available",
		StateArchived:  "archived",
		StateRestoring: "restoring",
		StateRestored:  "restored",
		State(99):      "unknown",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}

// FuzzParseRestore feeds the parser arbitrary header values: it must not
// panic, errors must be errMalformedRestore, and whatever it accepts must
// survive formatting and parsing again.
func FuzzParseRestore(f *testing.F) {
	// Seeds are in testdata/fuzz/FuzzParseRestore.
	f.Fuzz(func(t *testing.T, h string) {
		ongoing, expiry, err := parseRestoreHeader(h)
		if err != nil {
			if !errors.Is(err, errMalformedRestore) {
				t.Fatalf("parseRestoreHeader(%q): error %v is not errMalformedRestore", h, err)
			}
			return
		}
		if !strings.Contains(strings.ToLower(h), "ongoing-request") {
			t.Fatalf("parseRestoreHeader(%q) accepted a header without ongoing-request", h)
		}
		if ongoing && !expiry.IsZero() {
			t.Fatalf("parseRestoreHeader(%q) gave an expiry for an ongoing restore", h)
		}
		if expiry.Year() < 0 || expiry.Year() > 9999 {
			return // outside what an HTTP date can say again
		}
		again, expiry2, err := parseRestoreHeader(formatRestoreHeader(ongoing, expiry))
		if err != nil || again != ongoing || !expiry2.Equal(expiry) {
			t.Fatalf("round trip of %q: %v, %v, %v; want %v, %v", h, again, expiry2, err, ongoing, expiry)
		}
	})
}
