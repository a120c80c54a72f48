package cmd

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ogive-project/ogive/object"
)

// prices are what Deep Archive charges, in USD. The defaults mirror the
// dated table in docs/PRICING.md; change both together.
type prices struct {
	storageGBMonth   float64
	bulkGB           float64
	bulkRequests     float64 // per 1,000
	standardGB       float64
	standardRequests float64 // per 1,000
}

// pricesAsOf and pricesRegion say where defaultPrices come from, so that an
// estimate never hides how old its figures are.
const (
	pricesAsOf   = "2026-11-22"
	pricesRegion = "us-east-1"
)

var defaultPrices = prices{
	storageGBMonth:   0.00099,
	bulkGB:           0.0025,
	bulkRequests:     0.025,
	standardGB:       0.02,
	standardRequests: 0.10,
}

// gib is how AWS counts a GB on the bill.
const gib = 1 << 30

// daysPerMonth turns a per-month storage price into a daily one, as AWS
// prorates early deletions.
const daysPerMonth = 30

// priceSetting binds one price to its flag and environment variable.
type priceSetting struct {
	flag, env, usage string
	field            func(*prices) *float64
}

var storagePriceSettings = []priceSetting{
	{"price-storage-gb-month", "OGIVE_PRICE_STORAGE_GB_MONTH", "Deep Archive storage price in USD per GB-month",
		func(p *prices) *float64 { return &p.storageGBMonth }},
}

var retrievalPriceSettings = []priceSetting{
	{"price-bulk-gb", "OGIVE_PRICE_BULK_GB", "Bulk retrieval price in USD per GB",
		func(p *prices) *float64 { return &p.bulkGB }},
	{"price-bulk-requests", "OGIVE_PRICE_BULK_REQUESTS", "Bulk retrieval price in USD per 1,000 requests",
		func(p *prices) *float64 { return &p.bulkRequests }},
	{"price-standard-gb", "OGIVE_PRICE_STANDARD_GB", "Standard retrieval price in USD per GB",
		func(p *prices) *float64 { return &p.standardGB }},
	{"price-standard-requests", "OGIVE_PRICE_STANDARD_REQUESTS", "Standard retrieval price in USD per 1,000 requests",
		func(p *prices) *float64 { return &p.standardRequests }},
}

// bindPrices adds a flag for each setting, defaulting to the dated table.
// The environment is read later, by resolvePrices, so that a malformed
// variable is an error rather than a silent default.
func bindPrices(fl *pflag.FlagSet, p *prices, settings []priceSetting) {
	*p = defaultPrices
	for _, s := range settings {
		dst := s.field(p)
		fl.Float64Var(dst, s.flag, *dst, fmt.Sprintf("%s (env %s; docs/PRICING.md)", s.usage, s.env))
	}
}

// resolvePrices applies the environment to every price whose flag was not
// given, and checks them all.
func resolvePrices(fl *pflag.FlagSet, getenv func(string) string, p *prices, settings []priceSetting) error {
	for _, s := range settings {
		dst := s.field(p)
		if !fl.Changed(s.flag) {
			if v := getenv(s.env); v != "" {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return usagef("%s=%q is not a price in USD", s.env, v)
				}
				*dst = x
			}
		}
		if math.IsNaN(*dst) || math.IsInf(*dst, 0) || *dst < 0 {
			return usagef("--%s must be a price of zero or more USD", s.flag)
		}
	}
	return nil
}

// changed reports whether any price differs from the dated table, so that
// an estimate says whose figures it uses.
func (p prices) changed() bool { return p != defaultPrices }

// source names the figures an estimate uses.
func (p prices) source() string {
	if p.changed() {
		return "your prices"
	}
	return pricesRegion + " prices of " + pricesAsOf + ", docs/PRICING.md"
}

// retrieval is the estimated cost of restoring objects archives totalling
// bytes (as stored, i.e. encrypted) at tier.
func (p prices) retrieval(tier object.Tier, objects int, bytes int64) (usd, perGB, perThousand float64) {
	perGB, perThousand = p.bulkGB, p.bulkRequests
	if tier == object.TierStandard {
		perGB, perThousand = p.standardGB, p.standardRequests
	}
	return float64(bytes)/gib*perGB + float64(objects)/1000*perThousand, perGB, perThousand
}

// minimumDays is the storage duration S3 bills an object of class for at
// least, however early it is deleted; 0 for classes without one.
func minimumDays(class string) int {
	switch class {
	case "DEEP_ARCHIVE":
		return 180
	case "GLACIER", "GLACIER_IR":
		return 90
	case "STANDARD_IA", "ONEZONE_IA":
		return 30
	}
	return 0
}

// pricedClass is the one storage class whose price ogive's table holds.
const pricedClass = "DEEP_ARCHIVE"

// minimumCharge is the least storage charge for bytes stored in Deep
// Archive: the 180 days it bills for even if the object is deleted sooner.
func (p prices) minimumCharge(bytes int64) float64 {
	return float64(bytes) / gib * p.storageGBMonth * float64(minimumDays(pricedClass)) / daysPerMonth
}

// earlyDeletion says what deleting an object of class stored for age costs
// beyond the storage already used: remaining is how many days of the
// minimum are left (0 if none), and known is false when ogive has no price
// for the class.
func (p prices) earlyDeletion(class string, age time.Duration, bytes int64) (remaining int, usd float64, known bool) {
	minimum := minimumDays(class)
	if minimum == 0 {
		return 0, 0, true
	}
	left := time.Duration(minimum)*24*time.Hour - age
	if left <= 0 {
		return 0, 0, true
	}
	remaining = int((left + 24*time.Hour - 1) / (24 * time.Hour))
	if class != pricedClass {
		return remaining, 0, false
	}
	return remaining, float64(bytes) / gib * p.storageGBMonth / daysPerMonth * left.Hours() / 24, true
}

// formatUSD prints an amount with the precision that small archive bills
// need, without pretending to a precision they do not have.
func formatUSD(x float64) string {
	switch {
	case x == 0:
		return "$0.00"
	case x < 0.0001:
		return "less than $0.0001"
	case x < 1:
		return fmt.Sprintf("$%.4f", x)
	default:
		return fmt.Sprintf("$%.2f", x)
	}
}

// formatPrice prints a unit price as price lists do: $0.0025, $0.10, $1.00.
func formatPrice(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	switch i := strings.IndexByte(s, '.'); {
	case i < 0:
		s += ".00"
	case len(s)-i == 2:
		s += "0"
	}
	return "$" + s
}
