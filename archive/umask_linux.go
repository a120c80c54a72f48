//go:build linux && !ogive_portable

package archive

import (
	"bytes"
	"os"
	"strconv"
)

// liveUmask says that processUmask follows changes of the umask after start.
const liveUmask = true

// processUmask is the process's umask now, read from /proc/self/status (Linux 4.7 and
// later) without changing it; startUmask where that cannot be read.
func processUmask() uint32 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return startUmask
	}
	for line := range bytes.Lines(b) {
		v, ok := bytes.CutPrefix(line, []byte("Umask:"))
		if !ok {
			continue
		}
		m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
		if err != nil || m > 0o777 {
			return startUmask
		}
		return uint32(m)
	}
	return startUmask
}
