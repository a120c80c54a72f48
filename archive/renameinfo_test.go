package archive

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"
	"unsafe"
)

// TestRenameInfoLayout checks the bytes renameOpen hands Windows against
// FILE_RENAME_INFO as windows/amd64 lays it out: ReplaceIfExists at 0 (a byte, the rest
// of the union and the padding up to 8 zero), RootDirectory at 8 (8 bytes, NULL),
// FileNameLength at 16 (the name's bytes, without its NUL), the name at 20 in UTF-16LE,
// then a NUL; never shorter than the struct's 24 bytes; aligned for the handle.
func TestRenameInfoLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the offsets checked are those of a 64-bit system")
	}
	for _, tc := range []struct {
		name    string
		replace bool
		size    int
	}{
		{`C:\Users\me\restore\photos.tar`, false, 20 + 2*30 + 2},
		{`C:\Users\me\restore\photos.tar`, true, 20 + 2*30 + 2},
		{`\\?\UNC\nas\backup\été 😀.bin`, true, 20 + 2*29 + 2}, // 😀 takes two UTF-16 units
		{`x`, false, 24}, // 20 + 2 + 2, the struct's size
		{``, true, 24},
	} {
		name := utf16.Encode([]rune(tc.name))
		b := renameInfo(name, tc.replace)
		if len(b) != tc.size {
			t.Errorf("%q: %d bytes, want %d", tc.name, len(b), tc.size)
			continue
		}
		if uintptr(unsafe.Pointer(&b[0]))%8 != 0 {
			t.Errorf("%q: the buffer is not 8-byte aligned", tc.name)
		}
		var replace byte
		if tc.replace {
			replace = 1
		}
		if b[0] != replace {
			t.Errorf("%q: ReplaceIfExists (byte 0) = %d, want %d", tc.name, b[0], replace)
		}
		for i := 1; i < 16; i++ {
			if b[i] != 0 {
				t.Errorf("%q: byte %d (padding or RootDirectory) = %d, want 0", tc.name, i, b[i])
			}
		}
		if n := binary.LittleEndian.Uint32(b[16:]); n != uint32(2*len(name)) {
			t.Errorf("%q: FileNameLength (bytes 16-19) = %d, want %d", tc.name, n, 2*len(name))
		}
		got := make([]uint16, (len(b)-20)/2)
		for i := range got {
			got[i] = binary.LittleEndian.Uint16(b[20+2*i:])
		}
		if s := string(utf16.Decode(got[:len(name)])); s != tc.name {
			t.Errorf("FileName (from byte 20) = %q, want %q", s, tc.name)
		}
		for i, c := range got[len(name):] {
			if c != 0 {
				t.Errorf("%q: UTF-16 unit %d after the name = %#x, want the NUL", tc.name, i, c)
			}
		}
	}
}

func TestExtendedPath(t *testing.T) {
	long := strings.Repeat(`\abcdefghij`, 24) // 264 characters
	for p, want := range map[string]string{
		`C:\Users\me\out.bin`:       `C:\Users\me\out.bin`,
		`\\nas\backup\out.bin`:      `\\nas\backup\out.bin`,
		`C:` + long[:245]:           `C:` + long[:245], // 247 characters
		`C:` + long[:246]:           `\\?\C:` + long[:246],
		`C:` + long:                 `\\?\C:` + long,
		`\\nas\share` + long:        `\\?\UNC\nas\share` + long,
		`\\?\C:` + long:             `\\?\C:` + long,
		`\\?\UNC\nas\share` + long:  `\\?\UNC\nas\share` + long,
		`\\.\PhysicalDrive0` + long: `\\.\PhysicalDrive0` + long,
	} {
		if got := extendedPath(p); got != want {
			t.Errorf("extendedPath(%.30q…, %d characters) = %.40q…, want %.40q…", p, len(p), got, want)
		}
	}
}
