package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxIDLen is the longest storage ID: S3 limits object keys to 1024 bytes.
const MaxIDLen = 1024

const (
	idHeaderLen = 1 + len(Salt{})
	idTagLen    = 16
	// minIDRawLen is a header, a one-byte name and a tag.
	minIDRawLen = idHeaderLen + 1 + idTagLen
)

// idEncoding is strict so that every ID has exactly one spelling: an ID read back from a
// listing re-seals to itself.
var idEncoding = base64.RawURLEncoding.Strict()

// VersionMeta is the first byte of a storage ID that also carries the file's mode and
// modification time (docs/FORMAT.md §1.2, version 3). Its data stream is Version's.
const VersionMeta byte = 0x03

// Meta is what a version 3 storage ID records of the archived file besides its name.
// A field is recorded only when its Has flag is set; the zero Meta records nothing.
type Meta struct {
	HasMode bool
	// Mode holds the permission bits as POSIX numbers them (st_mode & 07777): 0777 for
	// read, write and execute, 04000 setuid, 02000 setgid, 01000 sticky.
	Mode     uint16
	HasMTime bool
	MTime    time.Time // modification time, to the nanosecond; any time, year 1 (the zero time.Time) too
	// Tree marks a directory archive (FORMAT.md §7): the data is a tar stream of a
	// directory, and an index object accompanies it. Mode and MTime are then the
	// top directory's.
	Tree bool
}

// Empty reports whether m records nothing.
func (m Meta) Empty() bool { return !m.HasMode && !m.HasMTime && !m.Tree }

// Equal reports whether m and o record the same fields with the same values.
func (m Meta) Equal(o Meta) bool {
	return m.HasMode == o.HasMode && m.HasMTime == o.HasMTime && m.Tree == o.Tree &&
		(!m.HasMode || m.Mode == o.Mode) && (!m.HasMTime || m.MTime.Equal(o.MTime))
}

// The flags byte of the metadata block: which fields follow, in this order.
const (
	metaMode  = 0x01 // BE16 permission bits
	metaMTime = 0x02 // signed BE64 seconds since the Unix epoch, BE32 nanoseconds
	metaTree  = 0x04 // a directory archive (FORMAT.md §7); no field follows
	metaKnown = metaMode | metaMTime | metaTree

	maxModeBits = 0o7777
)

// metaLen is the length of m's block in a version 3 ID, or 0 for a version 2 ID.
func (m Meta) metaLen() int {
	if m.Empty() {
		return 0
	}
	n := 1
	if m.HasMode {
		n += 2
	}
	if m.HasMTime {
		n += 12
	}
	return n
}

func (m Meta) appendBlock(b []byte) []byte {
	var flags byte
	if m.HasMode {
		flags |= metaMode
	}
	if m.HasMTime {
		flags |= metaMTime
	}
	if m.Tree {
		flags |= metaTree
	}
	b = append(b, flags)
	if m.HasMode {
		b = binary.BigEndian.AppendUint16(b, m.Mode)
	}
	if m.HasMTime {
		b = binary.BigEndian.AppendUint64(b, uint64(m.MTime.Unix()))
		b = binary.BigEndian.AppendUint32(b, uint32(m.MTime.Nanosecond()))
	}
	return b
}

// parseMeta reads the metadata block at the start of a version 3 ID's plaintext and
// returns it and the name after it. Only the holder of the master key can have sealed
// the block, but it is read as strictly as a foreign one: one spelling per value.
func parseMeta(p []byte) (Meta, []byte, error) {
	var m Meta
	if len(p) < 1 {
		return m, nil, fmt.Errorf("%w: no metadata block", ErrNotOgive)
	}
	flags := p[0]
	p = p[1:]
	switch {
	case flags&^metaKnown != 0:
		return m, nil, fmt.Errorf("%w: unknown metadata flags 0x%02x", ErrNotOgive, flags)
	case flags == 0:
		// A writer with nothing to record writes version 2.
		return m, nil, fmt.Errorf("%w: empty metadata block", ErrNotOgive)
	}
	m.Tree = flags&metaTree != 0
	if flags&metaMode != 0 {
		if len(p) < 2 {
			return m, nil, fmt.Errorf("%w: metadata block cut short", ErrNotOgive)
		}
		m.HasMode, m.Mode = true, binary.BigEndian.Uint16(p)
		if m.Mode > maxModeBits {
			return m, nil, fmt.Errorf("%w: mode %#o has bits beyond 07777", ErrNotOgive, m.Mode)
		}
		p = p[2:]
	}
	if flags&metaMTime != 0 {
		if len(p) < 12 {
			return m, nil, fmt.Errorf("%w: metadata block cut short", ErrNotOgive)
		}
		sec, nsec := int64(binary.BigEndian.Uint64(p)), binary.BigEndian.Uint32(p[8:])
		if nsec >= 1e9 {
			return m, nil, fmt.Errorf("%w: modification time has %d nanoseconds", ErrNotOgive, nsec)
		}
		m.HasMTime, m.MTime = true, time.Unix(sec, int64(nsec)).UTC()
		p = p[12:]
	}
	return m, p, nil
}

// SealName returns the version 2 storage ID of name: the version, the salt and the name
// sealed with the name key. It is SealNameMeta with nothing to record.
func SealName(k *Keys, name string, maxLen int) (string, error) {
	return SealNameMeta(k, name, Meta{}, maxLen)
}

// SealNameMeta returns the storage ID of name and of what meta records: version 3, the
// salt, and the metadata block and the name sealed together with the name key; or, if
// meta records nothing, version 2 without the block. maxLen is the room left for the ID
// in the object key, MaxIDLen minus the length of any key prefix; an ID never exceeds
// MaxIDLen whatever maxLen says. With the full MaxIDLen, names of up to 735 bytes fit
// in version 2 and 720 in version 3 with mode and time.
//
// The keys may seal only one plaintext, any number of times: the name key is used with
// a fixed nonce, which is safe only while it protects a single plaintext. The version
// and the metadata are part of that plaintext: one salt never gets two IDs.
func SealNameMeta(k *Keys, name string, meta Meta, maxLen int) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	if meta.HasMode && meta.Mode > maxModeBits {
		return "", fmt.Errorf("seal name %q: mode %#o has bits beyond 07777", name, meta.Mode)
	}
	limit := min(maxLen, MaxIDLen)
	blockLen := meta.metaLen()
	rawLen := idHeaderLen + blockLen + len(name) + idTagLen
	if idEncoding.EncodedLen(rawLen) > limit {
		return "", fmt.Errorf("name %q: %w: %d bytes, at most %d fit", name, ErrNameTooLong, len(name), max(maxNameLen(limit)-blockLen, 0))
	}
	aead, err := k.nameAEAD()
	if err != nil {
		return "", fmt.Errorf("seal name: %w", err)
	}
	version := Version
	plain := make([]byte, 0, blockLen+len(name))
	if blockLen > 0 {
		version = VersionMeta
		plain = meta.appendBlock(plain)
	}
	plain = append(plain, name...)
	if err := k.claimName(version, plain, name); err != nil {
		return "", err
	}
	raw := make([]byte, idHeaderLen, rawLen)
	raw[0] = version
	copy(raw[1:], k.salt[:])
	raw = aead.Seal(raw, make([]byte, aead.NonceSize()), plain, raw[:idHeaderLen])
	return idEncoding.EncodeToString(raw), nil
}

// OpenID authenticates a storage ID with the master key and returns the name it carries
// and the object's keys, which the caller must Destroy. Anything that is not an ID written
// with this master key, including an ID of another profile, gives ErrNotOgive. A version
// 3 ID opens too; OpenIDMeta also returns what it records.
func OpenID(master []byte, id string) (name string, k *Keys, err error) {
	name, _, k, err = OpenIDMeta(master, id)
	return name, k, err
}

// OpenIDMeta is OpenID that also returns the metadata a version 3 ID records: the zero
// Meta for a version 2 ID. The metadata is authenticated by the same tag as the name.
func OpenIDMeta(master []byte, id string) (name string, meta Meta, k *Keys, err error) {
	raw, err := decodeID(id)
	if err != nil {
		return "", Meta{}, nil, err
	}
	var salt Salt
	copy(salt[:], raw[1:idHeaderLen])
	k, err = DeriveKeys(master, salt)
	if err != nil {
		return "", Meta{}, nil, fmt.Errorf("open id: %w", err)
	}
	fail := func(err error) (string, Meta, *Keys, error) {
		k.Destroy()
		return "", Meta{}, nil, err
	}
	aead, err := k.nameAEAD()
	if err != nil {
		return fail(fmt.Errorf("open id: %w", err))
	}
	// The additional data holds the version byte: an ID relabelled to another version
	// does not authenticate, so the metadata can be neither stripped nor forged.
	plain, err := aead.Open(nil, make([]byte, aead.NonceSize()), raw[idHeaderLen:], raw[:idHeaderLen])
	if err != nil {
		return fail(fmt.Errorf("%w: id does not authenticate", ErrNotOgive))
	}
	rest := plain
	if raw[0] == VersionMeta {
		// Only a holder of the master key could have sealed a bad block, but not ogive.
		if meta, rest, err = parseMeta(plain); err != nil {
			return fail(err)
		}
	}
	name = string(rest)
	if err := checkName(name); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrNotOgive, err))
	}
	if err := k.claimName(raw[0], plain, name); err != nil {
		return fail(err)
	}
	return name, meta, k, nil
}

// ParseID checks the layout of a storage ID, without authenticating it, and returns the
// salt it carries.
func ParseID(id string) (Salt, error) {
	raw, err := decodeID(id)
	if err != nil {
		return Salt{}, err
	}
	var salt Salt
	copy(salt[:], raw[1:idHeaderLen])
	return salt, nil
}

func decodeID(id string) ([]byte, error) {
	// Bounding the length first bounds the work spent on foreign keys.
	if len(id) > MaxIDLen {
		return nil, fmt.Errorf("%w: id longer than %d bytes", ErrNotOgive, MaxIDLen)
	}
	raw, err := idEncoding.DecodeString(id)
	if err != nil {
		return nil, fmt.Errorf("%w: id is not base64url: %w", ErrNotOgive, err)
	}
	// The decoder skips line breaks; a second spelling of an ID must not be accepted.
	if idEncoding.EncodedLen(len(raw)) != len(id) {
		return nil, fmt.Errorf("%w: id is not canonical base64url", ErrNotOgive)
	}
	if len(raw) < minIDRawLen {
		return nil, fmt.Errorf("%w: id too short", ErrNotOgive)
	}
	if raw[0] != Version && raw[0] != VersionMeta {
		return nil, fmt.Errorf("%w: version 0x%02x", ErrNotOgive, raw[0])
	}
	return raw, nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadName)
	case name == "." || name == "..":
		return fmt.Errorf("name %q: %w: not a file name", name, ErrBadName)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("name %q: %w: contains a slash", name, ErrBadName)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("name %q: %w: contains a NUL byte", name, ErrBadName)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q: %w: not valid UTF-8", name, ErrBadName)
	}
	return nil
}

// maxNameLen is the longest name whose version 2 ID fits in limit characters; a version 3
// ID has room for its block fewer bytes.
func maxNameLen(limit int) int {
	return max(limit*3/4-idHeaderLen-idTagLen, 0)
}

// claimName records the one plaintext these keys may seal, the ID's version byte and its
// sealed bytes, or checks that it is that one. name is for the error.
func (k *Keys) claimName(version byte, plain []byte, name string) error {
	sealed := string(append([]byte{version}, plain...))
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sealedName == nil {
		k.sealedName = &sealed
		return nil
	}
	if *k.sealedName != sealed {
		return fmt.Errorf("seal name %q: keys already seal another name; use a fresh salt per object", name)
	}
	return nil
}

func (k *Keys) nameAEAD() (cipher.AEAD, error) {
	defer runtime.KeepAlive(k)
	key, err := k.nameKey()
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("name cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
