package archive

import "testing"

func TestWin32DevicePath(t *testing.T) {
	for p, want := range map[string]bool{
		`\\.\PhysicalDrive0`:     true,
		`//./PhysicalDrive1`:     true,
		`\\.\C:`:                 true,
		`\\?\Volume{0b1c-2d3e}\`: true,
		`\\?\globalroot\Device\Harddisk0\Partition1`: true,
		`\\?\PhysicalDrive0`:                         true,
		`\\?\C:\backups\disk.img`:                    false,
		`C:\backups\disk.img`:                        false,
		`\\server\share\disk.img`:                    false,
		`disk.img`:                                   false,
		`/dev/sda`:                                   false,
	} {
		if got := win32DevicePath(p); got != want {
			t.Errorf("win32DevicePath(%q) = %v, want %v", p, got, want)
		}
	}
}
