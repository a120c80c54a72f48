package pricing

import (
	"math"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// The overhead S3 bills per Deep Archive object: 32 KB at the Deep Archive
// rate and 8 KB at S3 Standard's, every month; the requests once.
func TestPerObject(t *testing.T) {
	p := Default
	po := p.PerObject(1000, 1000)
	// 1000 × (32 KiB × 0.00099 + 8 KiB × 0.023) / GiB a month.
	wantMonth := 1000 * (32.0/(1<<20)*0.00099 + 8.0/(1<<20)*0.023)
	if !near(po.OverheadUSDMonth, wantMonth) {
		t.Errorf("overhead %v a month, want %v", po.OverheadUSDMonth, wantMonth)
	}
	// 1000 PUTs at $0.05 per 1,000.
	if !near(po.RequestsUSD, 0.05) {
		t.Errorf("requests %v, want 0.05", po.RequestsUSD)
	}
	if po.Objects != 1000 || po.Requests != 1000 {
		t.Errorf("%+v", po)
	}
}

// Many small files are worth a note; one file, or a few large ones, are not.
func TestManySmall(t *testing.T) {
	p := Default
	for _, c := range []struct {
		objects, requests int
		stored            int64
		want              bool
	}{
		{1, 1, 10, false},                   // one file: nothing to archive together
		{120, 120, 120 * 3 << 20, true},     // 120 photos of 3 MiB: the PUTs cost more than the storage
		{2, 2, 2 * 50 << 20, true},          // 50 MiB each: requests ~17% of the minimum charge
		{2, 2, 2 * 1 << 30, false},          // 1 GiB each: under 1%
		{10, 1000, 10 * 10 << 30, false},    // large multipart uploads
		{1000, 1000, 1000 * 10 << 10, true}, // 10 KiB files: the overhead outweighs the bytes
	} {
		if got := p.ManySmall(c.objects, c.requests, c.stored); got != c.want {
			t.Errorf("ManySmall(%d, %d, %d) = %v, want %v", c.objects, c.requests, c.stored, got, c.want)
		}
	}
	// Free requests and storage: nothing is worth a note.
	if (Prices{}).ManySmall(100, 100, 100) {
		t.Error("a note for free objects")
	}
}

func TestMinimumCharge(t *testing.T) {
	// 1 GiB for 180 days at $0.00099 per GB-month: 6 months.
	if got := Default.MinimumCharge(1 << 30); !near(got, 0.00594) {
		t.Errorf("got %v", got)
	}
}

func TestRetrieval(t *testing.T) {
	usd, perGB, perK := Default.Retrieval(false, 4, 10<<30)
	if !near(usd, 10*0.0025+4.0/1000*0.025) || perGB != 0.0025 || perK != 0.025 {
		t.Errorf("bulk: %v %v %v", usd, perGB, perK)
	}
	usd, _, _ = Default.Retrieval(true, 1, 1<<30)
	if !near(usd, 0.02+0.10/1000) {
		t.Errorf("standard: %v", usd)
	}
}

func TestEarlyDeletion(t *testing.T) {
	day := 24 * time.Hour
	rem, usd, known := Default.EarlyDeletion("DEEP_ARCHIVE", 30*day, 1<<30)
	if rem != 150 || !known || !near(usd, 0.00099/30*150) {
		t.Errorf("%d %v %v", rem, usd, known)
	}
	if rem, _, known := Default.EarlyDeletion("GLACIER", 0, 1); rem != 90 || known {
		t.Errorf("GLACIER: %d %v", rem, known)
	}
	if rem, usd, known := Default.EarlyDeletion("STANDARD", 0, 1); rem != 0 || usd != 0 || !known {
		t.Errorf("STANDARD: %d %v %v", rem, usd, known)
	}
}
