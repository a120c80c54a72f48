//go:build !linux || ogive_portable

package archive

import "os"

// spoolTmpfile is Linux's choice of O_TMPFILE; elsewhere every spool file
// is named, for the time of one unlink.
var spoolTmpfile = false

func (d *spoolDir) create() (*os.File, error) { return d.createNamed() }
