//go:build !linux && !darwin

package archive

import "os"

// DeviceSize fails with ErrNoDevices: ogive reads and writes no devices here. FreeBSD has no block
// devices (its disks are character devices, which put and get refuse, as a tape's
// would be), Windows none that ogive opens.
func DeviceSize(f *os.File) (int64, error) { return 0, ErrNoDevices }
