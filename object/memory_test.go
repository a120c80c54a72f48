package object_test

import (
	"sync"
	"testing"
	"time"

	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/object/storetest"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// memoryRestoreDelay differs by tier so that a store using the wrong tier
// shows up in the suite's timings.
func memoryRestoreDelay(t object.Tier) time.Duration {
	switch t {
	case object.TierBulk:
		return 48 * time.Hour
	case object.TierExpedited:
		return 5 * time.Hour
	default:
		return 12 * time.Hour
	}
}

func TestMemoryConformance(t *testing.T) {
	var clocks sync.Map // *testing.T → *fakeClock
	clockFor := func(t *testing.T) *fakeClock {
		c, _ := clocks.LoadOrStore(t, newFakeClock())
		return c.(*fakeClock)
	}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) object.Store {
			return object.NewMemory(clockFor(t).Now, memoryRestoreDelay, 24*time.Hour)
		},
		Wait:         func(t *testing.T, d time.Duration) { clockFor(t).Advance(d) },
		RestoreDelay: 12 * time.Hour,
		Day:          24 * time.Hour,
	})
}
