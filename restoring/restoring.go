// Package restoring plans and sends the restore requests that bring
// archives back from Deep Archive: which archives need one, what a request
// did, and a bounded pool that sends many of them at once and slows down
// when S3 throttles. It prints nothing: cmd words the results.
package restoring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
)

// Action is what restore did, or will do, about one archive. The values
// are those of the "restore" field of restore's JSON lines.
type Action string

const (
	None            Action = ""                 // not decided yet: a request is needed
	Requested       Action = "requested"        // a restore started
	InProgress      Action = "in_progress"      // one was already running
	AlreadyRestored Action = "already_restored" // a restored copy exists
	NotArchived     Action = "not_archived"     // readable as it is
	Extended        Action = "extended"         // the restored copy's expiry moved
	Unknown         Action = "unknown"          // its state could not be read
)

// Item is one archive that restore looks at: what it is, and what restore
// did about it.
type Item struct {
	ID, Name string
	Plain    int64 // plaintext bytes, -1 if unknown
	Billed   int64 // bytes as stored, which retrieval is billed on; -1 if unknown
	Date     time.Time
	Class    string
	Status   object.RestoreStatus
	Meta     crypt.Meta // what the storage ID records of the file
	Action   Action     // once decided
	Sent     bool       // a request for it went through
	Err      error      // its look-up or its request failed
}

// Skip says why an archive in state needs no restore request, or None
// when it needs one. An unknown state is sent when asked for by ID (S3
// knows better) and skipped by --all; a restored copy is sent only to
// extend it.
func Skip(state object.State, all, extend bool) Action {
	switch state {
	case object.StateRestoring:
		return InProgress
	case object.StateRestored:
		if extend {
			return None
		}
		return AlreadyRestored
	case object.StateAvailable:
		return NotArchived
	case object.StateUnknown:
		if all {
			return Unknown
		}
	}
	return None
}

// Outcome is what a sent request did, and the state that follows.
func Outcome(res object.RestoreResult, before object.RestoreStatus) (Action, object.RestoreStatus) {
	switch res {
	case object.RestoreAccepted:
		return Requested, object.RestoreStatus{State: object.StateRestoring}
	case object.RestoreInProgress:
		return InProgress, object.RestoreStatus{State: object.StateRestoring}
	case object.RestoreExtended:
		// S3 does not say the new expiry; JSON prints it as unknown.
		return Extended, object.RestoreStatus{State: object.StateRestored}
	case object.RestoreNotArchived:
		return NotArchived, object.RestoreStatus{State: object.StateAvailable}
	}
	return Requested, before
}

// Candidates lists every archive under master, with its restore state, in
// one listing request per 1,000 objects.
func Candidates(ctx context.Context, s object.Store, master []byte, legacy bool) ([]*Item, error) {
	var items []*Item
	err := archive.List(ctx, s, master, legacy, func(e archive.Entry) error {
		// A listing gives the plaintext size of a current archive, from
		// which the stored size follows exactly; a 2019 entry carries the
		// stored size itself.
		billed := e.Size
		if !e.Legacy && e.Size >= 0 {
			billed = crypt.EncryptedSize(e.Size)
		}
		items = append(items, &Item{ID: e.ID, Name: e.Name, Plain: e.Size, Billed: billed,
			Date: e.Date, Class: e.Class, Status: e.Status, Meta: e.Meta})
		return nil
	})
	return items, err
}

// NewItem is the archive a of this profile, to be looked up by LookUp.
func NewItem(a *archive.Archive) *Item {
	return &Item{ID: a.ID, Name: a.Name, Plain: -1, Billed: -1, Meta: a.Meta}
}

// LookUp reads the size and restore state of each item without an Err,
// one HEAD request each, through p. A failed one gets its Err. When ctx
// ends, LookUp returns its error.
func LookUp(ctx context.Context, s object.Store, items []*Item, p Pool) error {
	errs, err := p.Run(ctx, len(items), func(ctx context.Context, i int) error {
		it := items[i]
		if it.Err != nil {
			return nil
		}
		info, err := s.Head(ctx, it.ID)
		if err != nil {
			return err // the store names the operation and the ID
		}
		it.Billed, it.Date, it.Class, it.Status = info.Size, info.LastModified, info.StorageClass, info.Status
		return nil
	})
	for i, e := range errs {
		if errors.Is(e, ErrNotSent) {
			e = fmt.Errorf("head %s: %w", items[i].ID, e)
		}
		if e != nil && items[i].Err == nil {
			items[i].Err = e
		}
	}
	return err
}

// Send asks for a restored copy of each item in todo, kept days days,
// through p, and records what each request did in its Action, Status and
// Sent, or its failure in Err. When ctx ends, the requests not yet begun
// are not sent and Send returns ctx's error.
func Send(ctx context.Context, s object.Store, todo []*Item, days int32, tier object.Tier, p Pool) error {
	errs, err := p.Run(ctx, len(todo), func(ctx context.Context, i int) error {
		it := todo[i]
		res, err := s.Restore(ctx, it.ID, days, tier)
		if err != nil {
			return err // the store names the operation and the ID
		}
		it.Action, it.Status = Outcome(res, it.Status)
		it.Sent = true
		return nil
	})
	for i, e := range errs {
		if e != nil {
			if errors.Is(e, ErrNotSent) {
				e = fmt.Errorf("restore %s: %w", todo[i].ID, e)
			}
			todo[i].Err = e
		}
	}
	return err
}
