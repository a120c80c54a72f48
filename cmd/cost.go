package cmd

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/pricing"
)

// prices are what S3 charges, in USD: pricing's table, with the user's
// flags and environment applied. The arithmetic is pricing's.
type prices struct {
	storageGBMonth   float64
	bulkGB           float64
	bulkRequests     float64 // per 1,000
	standardGB       float64
	standardRequests float64 // per 1,000
	putRequests      float64 // per 1,000
	standardGBMonth  float64 // S3 Standard storage
}

// pricesAsOf and pricesRegion say where defaultPrices come from.
const (
	pricesAsOf   = pricing.AsOf
	pricesRegion = pricing.Region
)

var defaultPrices = fromTable(pricing.Default)

func fromTable(t pricing.Prices) prices {
	return prices{
		storageGBMonth:   t.StorageGBMonth,
		bulkGB:           t.BulkGB,
		bulkRequests:     t.BulkRequests,
		standardGB:       t.StandardGB,
		standardRequests: t.StandardRequests,
		putRequests:      t.PutRequests,
		standardGBMonth:  t.StandardGBMonth,
	}
}

func (p prices) table() pricing.Prices {
	return pricing.Prices{
		StorageGBMonth:   p.storageGBMonth,
		BulkGB:           p.bulkGB,
		BulkRequests:     p.bulkRequests,
		StandardGB:       p.standardGB,
		StandardRequests: p.standardRequests,
		PutRequests:      p.putRequests,
		StandardGBMonth:  p.standardGBMonth,
	}
}

// gib is how AWS counts a GB on the bill.
const gib = pricing.GB

// priceSetting binds one price to its flag and environment variable.
type priceSetting struct {
	flag, env, usage string
	field            func(*prices) *float64
}

var storagePriceSettings = []priceSetting{
	{"price-storage-gb-month", "OGIVE_PRICE_STORAGE_GB_MONTH", "Deep Archive storage price in USD per GB-month",
		func(p *prices) *float64 { return &p.storageGBMonth }},
}

// putPriceSettings are the prices put's notes use: storage, and what each
// object costs beyond its bytes.
var putPriceSettings = append(append([]priceSetting{}, storagePriceSettings...),
	priceSetting{"price-put-requests", "OGIVE_PRICE_PUT_REQUESTS", "Deep Archive PUT request price in USD per 1,000 requests",
		func(p *prices) *float64 { return &p.putRequests }},
	priceSetting{"price-standard-storage-gb-month", "OGIVE_PRICE_STANDARD_STORAGE_GB_MONTH",
		"S3 Standard storage price in USD per GB-month (the 8 KB index of each object)",
		func(p *prices) *float64 { return &p.standardGBMonth }},
)

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

// maxPrice is the highest price ogive accepts, in USD per GB, per GB-month
// or per 1,000 requests: far above anything AWS has charged, yet it keeps
// every estimate a number a person can read.
const maxPrice = 1_000_000_000

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
		// A ceiling far above any real price catches a typo (1e308) that
		// would print a 309-digit charge; -0 would print "$-0.00".
		if math.IsNaN(*dst) || math.IsInf(*dst, 0) || *dst < 0 || math.Signbit(*dst) || *dst > maxPrice {
			return usagef("--%s (or %s) must be a price from 0 to %d USD", s.flag, s.env, maxPrice)
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
	return p.table().Retrieval(tier == object.TierStandard, objects, bytes)
}

// minimumDays is the storage duration S3 bills an object of class for at
// least, however early it is deleted; 0 for classes without one.
func minimumDays(class string) int { return pricing.MinimumDays(class) }

// pricedClass is the one storage class whose price ogive's table holds.
const pricedClass = pricing.PricedClass

// minimumCharge is the least storage charge for bytes stored in Deep Archive.
func (p prices) minimumCharge(bytes int64) float64 { return p.table().MinimumCharge(bytes) }

// earlyDeletion is pricing.Prices.EarlyDeletion at p.
func (p prices) earlyDeletion(class string, age time.Duration, bytes int64) (remaining int, usd float64, known bool) {
	return p.table().EarlyDeletion(class, age, bytes)
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
