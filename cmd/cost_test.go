package cmd

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ogive-project/ogive/object"
)

const oneDay = 24 * time.Hour

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestRetrievalEstimate(t *testing.T) {
	p := defaultPrices
	// 10 GiB in 4 archives: Bulk 10 × 0.0025 + 4/1000 × 0.025.
	usd, perGB, perK := p.retrieval(object.TierBulk, 4, 10*gib)
	if !near(usd, 0.0251) || perGB != 0.0025 || perK != 0.025 {
		t.Errorf("Bulk: %v %v %v", usd, perGB, perK)
	}
	// Standard 10 × 0.02 + 4/1000 × 0.10.
	if usd, _, _ := p.retrieval(object.TierStandard, 4, 10*gib); !near(usd, 0.2004) {
		t.Errorf("Standard: %v", usd)
	}
	if usd, _, _ := p.retrieval(object.TierBulk, 0, 0); usd != 0 {
		t.Errorf("nothing costs %v", usd)
	}
}

func TestMinimumDays(t *testing.T) {
	for class, want := range map[string]int{
		"DEEP_ARCHIVE": 180, "GLACIER": 90, "GLACIER_IR": 90, "STANDARD_IA": 30, "ONEZONE_IA": 30,
		"STANDARD": 0, "INTELLIGENT_TIERING": 0, "": 0,
	} {
		if got := minimumDays(class); got != want {
			t.Errorf("minimumDays(%q) = %d, want %d", class, got, want)
		}
	}
}

func TestMinimumCharge(t *testing.T) {
	// 1 GiB for 180 days at $0.00099 per GB-month: 6 months.
	if got := defaultPrices.minimumCharge(gib); !near(got, 0.00594) {
		t.Errorf("minimum charge of 1 GiB = %v", got)
	}
}

func TestEarlyDeletion(t *testing.T) {
	p := prices{storageGBMonth: 3} // $0.10 per GB-day
	for _, c := range []struct {
		class     string
		age       time.Duration
		bytes     int64
		remaining int
		usd       float64
		known     bool
	}{
		{"DEEP_ARCHIVE", 0, gib, 180, 18, true},
		{"DEEP_ARCHIVE", 30 * oneDay, 2 * gib, 150, 30, true},
		{"DEEP_ARCHIVE", 179*oneDay + 12*time.Hour, gib, 1, 0.05, true}, // half a oneDay left rounds up to 1
		{"DEEP_ARCHIVE", 180 * oneDay, gib, 0, 0, true},
		{"DEEP_ARCHIVE", 400 * oneDay, gib, 0, 0, true},
		{"GLACIER", 10 * oneDay, gib, 80, 0, false},
		{"GLACIER", 90 * oneDay, gib, 0, 0, true},
		{"STANDARD_IA", 29 * oneDay, gib, 1, 0, false},
		{"STANDARD", 0, gib, 0, 0, true},
	} {
		remaining, usd, known := p.earlyDeletion(c.class, c.age, c.bytes)
		if remaining != c.remaining || !near(usd, c.usd) || known != c.known {
			t.Errorf("earlyDeletion(%s, %v, %d) = %d, %v, %v; want %d, %v, %v",
				c.class, c.age, c.bytes, remaining, usd, known, c.remaining, c.usd, c.known)
		}
	}
}

func TestFormatUSD(t *testing.T) {
	for x, want := range map[float64]string{
		0: "$0.00", 0.00001: "less than $0.0001", 0.0031: "$0.0031", 0.2004: "$0.2004",
		1: "$1.00", 180.094: "$180.09", 12345.678: "$12345.68",
	} {
		if got := formatUSD(x); got != want {
			t.Errorf("formatUSD(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestFormatPrice(t *testing.T) {
	for x, want := range map[float64]string{
		0.0025: "$0.0025", 0.1: "$0.10", 0.02: "$0.02", 0.00099: "$0.00099", 1024: "$1024.00", 0: "$0.00",
	} {
		if got := formatPrice(x); got != want {
			t.Errorf("formatPrice(%v) = %q, want %q", x, got, want)
		}
	}
}

// A flag beats the environment, the environment beats the dated table, and
// a malformed or negative price is a usage error rather than a silent default.
func TestResolvePrices(t *testing.T) {
	parse := func(env map[string]string, args ...string) (prices, error) {
		fl := pflag.NewFlagSet("test", pflag.ContinueOnError)
		var p prices
		bindPrices(fl, &p, retrievalPriceSettings)
		if err := fl.Parse(args); err != nil {
			return p, err
		}
		err := resolvePrices(fl, func(k string) string { return env[k] }, &p, retrievalPriceSettings)
		return p, err
	}

	p, err := parse(nil)
	if err != nil || p != defaultPrices || p.changed() {
		t.Fatalf("defaults: %+v, %v", p, err)
	}
	if got := p.source(); got != "us-east-1 prices of "+pricesAsOf+", docs/PRICING.md" {
		t.Errorf("source of the defaults: %q", got)
	}

	p, err = parse(map[string]string{"OGIVE_PRICE_BULK_GB": "0.0036", "OGIVE_PRICE_STANDARD_GB": "0.03"},
		"--price-standard-gb", "0.05")
	if err != nil {
		t.Fatal(err)
	}
	if p.bulkGB != 0.0036 || p.standardGB != 0.05 || p.bulkRequests != defaultPrices.bulkRequests {
		t.Errorf("precedence: %+v", p)
	}
	if !p.changed() || p.source() != "your prices" {
		t.Errorf("overridden prices described as %q", p.source())
	}

	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{map[string]string{"OGIVE_PRICE_BULK_REQUESTS": "cheap"}, nil},
		{map[string]string{"OGIVE_PRICE_BULK_GB": "-1"}, nil},
		{map[string]string{"OGIVE_PRICE_BULK_GB": "NaN"}, nil},
		{nil, []string{"--price-standard-requests", "-0.1"}},
		{nil, []string{"--price-standard-requests", "+Inf"}},
	} {
		_, err := parse(c.env, c.args...)
		var usage *usageError
		if !errors.As(err, &usage) {
			t.Errorf("env %v, args %v: err %v, want a usage error", c.env, c.args, err)
		}
	}
}
