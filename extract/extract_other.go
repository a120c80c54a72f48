//go:build !unix

package extract

import (
	"archive/tar"
	"context"
	"io"
)

// Extractor cannot be made on this system: New refuses with
// ErrUnsupported. Reaching every path of the destination without ever
// going through a link or junction someone swaps in needs the
// descriptor-relative calls (openat and the rest) the Unix extraction is
// built on; a by-name extraction would race them, so there is none.
type Extractor struct{}

var available = ErrUnsupported

// New refuses with ErrUnsupported: see Extractor.
func New(parent, name, top string, o Options) (*Extractor, error) {
	return nil, ErrUnsupported
}

// Stats reports nothing made.
func (x *Extractor) Stats() Stats { return Stats{} }

// Stream refuses with ErrUnsupported.
func (x *Extractor) Stream(context.Context, io.Reader) error { return ErrUnsupported }

// Entry refuses with ErrUnsupported.
func (x *Extractor) Entry(*tar.Header, io.Reader) error { return ErrUnsupported }

// Finish refuses with ErrUnsupported.
func (x *Extractor) Finish() error { return ErrUnsupported }

// Abort does nothing: nothing was made.
func (x *Extractor) Abort() {}
