package archive

import "strings"

// win32DevicePath reports whether the Windows path p names a device or volume in the
// Win32 device namespace: \\.\PhysicalDrive0, \\.\C:, \\?\Volume{…},
// \\?\GLOBALROOT\…, in either slash. A long file name such as \\?\C:\dir\file is
// not one. It is plain string work, so that Linux tests it too.
func win32DevicePath(p string) bool {
	p = strings.ReplaceAll(p, "/", `\`)
	if strings.HasPrefix(p, `\\.\`) {
		return true
	}
	rest, ok := strings.CutPrefix(p, `\\?\`)
	if !ok {
		return false
	}
	rest = strings.ToUpper(rest)
	return strings.HasPrefix(rest, "VOLUME{") || strings.HasPrefix(rest, "GLOBALROOT") || strings.HasPrefix(rest, "PHYSICALDRIVE")
}
