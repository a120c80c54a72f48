// Package pricing holds what S3 Glacier Deep Archive charges and the
// arithmetic of ogive's estimates: retrieval, the minimum storage charge,
// early deletion, and the per-object charges that make many small archives
// cost more than one large one. docs/PRICING.md is the dated table these
// figures mirror; change both together.
package pricing

import "time"

// Prices are what S3 charges, in USD.
type Prices struct {
	StorageGBMonth   float64 // Deep Archive storage
	BulkGB           float64
	BulkRequests     float64 // per 1,000
	StandardGB       float64
	StandardRequests float64 // per 1,000
	// PutRequests is the price of 1,000 PUT, COPY, POST or LIST requests
	// into Deep Archive: one PUT per small archive.
	PutRequests float64
	// StandardGBMonth is S3 Standard storage, at which S3 bills the 8 KB
	// index it keeps of every Deep Archive object.
	StandardGBMonth float64
}

// AsOf and Region say where Default comes from, so that an estimate never
// hides how old its figures are.
const (
	AsOf   = "2026-11-22"
	Region = "us-east-1"
)

// Default is the table of docs/PRICING.md.
var Default = Prices{
	StorageGBMonth:   0.00099,
	BulkGB:           0.0025,
	BulkRequests:     0.025,
	StandardGB:       0.02,
	StandardRequests: 0.10,
	PutRequests:      0.05,
	StandardGBMonth:  0.023,
}

// GB is how AWS counts a GB on the bill.
const GB = 1 << 30

// DaysPerMonth turns a per-month storage price into a daily one, as AWS
// prorates early deletions.
const DaysPerMonth = 30

// PricedClass is the one storage class whose storage price the table holds.
const PricedClass = "DEEP_ARCHIVE"

// Retrieval is the estimated cost of restoring objects totalling bytes (as
// stored, i.e. encrypted), standard or Bulk.
func (p Prices) Retrieval(standard bool, objects int, bytes int64) (usd, perGB, perThousand float64) {
	perGB, perThousand = p.BulkGB, p.BulkRequests
	if standard {
		perGB, perThousand = p.StandardGB, p.StandardRequests
	}
	return float64(bytes)/GB*perGB + float64(objects)/1000*perThousand, perGB, perThousand
}

// MinimumDays is the storage duration S3 bills an object of class for at
// least, however early it is deleted; 0 for classes without one.
func MinimumDays(class string) int {
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

// MinimumCharge is the least storage charge for bytes stored in Deep
// Archive: the 180 days it bills for even if the object is deleted sooner.
func (p Prices) MinimumCharge(bytes int64) float64 {
	return float64(bytes) / GB * p.StorageGBMonth * float64(MinimumDays(PricedClass)) / DaysPerMonth
}

// EarlyDeletion says what deleting an object of class stored for age costs
// beyond the storage already used: remaining is how many days of the
// minimum are left (0 if none), and known is false when there is no price
// for the class.
func (p Prices) EarlyDeletion(class string, age time.Duration, bytes int64) (remaining int, usd float64, known bool) {
	minimum := MinimumDays(class)
	if minimum == 0 {
		return 0, 0, true
	}
	left := time.Duration(minimum)*24*time.Hour - age
	if left <= 0 {
		return 0, 0, true
	}
	remaining = int((left + 24*time.Hour - 1) / (24 * time.Hour))
	if class != PricedClass {
		return remaining, 0, false
	}
	return remaining, float64(bytes) / GB * p.StorageGBMonth / DaysPerMonth * left.Hours() / 24, true
}

// What S3 bills for every Deep Archive object beyond its own bytes: 32 KB
// of metadata at the Deep Archive rate, and an 8 KB index at S3 Standard's.
const (
	OverheadArchive = 32 << 10
	OverheadIndex   = 8 << 10
)

// PerObject is what a number of objects cost for being separate objects,
// whatever their size.
type PerObject struct {
	Objects, Requests int
	RequestsUSD       float64 // once, to upload them
	OverheadUSDMonth  float64 // every month they are stored
}

// PerObject prices objects Deep Archive objects uploaded with requests PUT
// requests.
func (p Prices) PerObject(objects, requests int) PerObject {
	month := float64(objects) * (OverheadArchive*p.StorageGBMonth + OverheadIndex*p.StandardGBMonth) / GB
	return PerObject{
		Objects:          objects,
		Requests:         requests,
		RequestsUSD:      float64(requests) / 1000 * p.PutRequests,
		OverheadUSDMonth: month,
	}
}

// SmallShare is the share of the minimum storage charge above which the
// per-object charges of a put are worth a note: from it on, archiving the
// files together saves a noticeable part of the bill.
const SmallShare = 0.10

// ManySmall reports whether objects (two or more) totalling stored bytes,
// uploaded with requests requests, cost in per-object charges (requests,
// and the overhead over the minimum duration) at least SmallShare of their
// minimum storage charge.
func (p Prices) ManySmall(objects, requests int, stored int64) bool {
	if objects < 2 {
		return false
	}
	po := p.PerObject(objects, requests)
	months := float64(MinimumDays(PricedClass)) / DaysPerMonth
	perObject := po.RequestsUSD + po.OverheadUSDMonth*months
	return perObject > 0 && perObject >= SmallShare*p.MinimumCharge(stored)
}
