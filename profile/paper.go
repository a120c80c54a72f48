package profile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/awnumar/memguard"
)

// The recovery sheet is documented in docs/FORMAT.md, §4, and pinned by
// testdata/profile/paper-vector.txt.

var (
	// ErrBadSheet means a recovery sheet cannot be read: a line is
	// malformed, a field is unknown or missing, or its format is not one
	// this ogive knows.
	ErrBadSheet = errors.New("not a readable recovery sheet")
	// ErrSheetTypo means a line of a recovery sheet does not match its
	// check characters: it was mistyped.
	ErrSheetTypo = errors.New("recovery sheet mistyped")
)

const (
	paperFormat = "ogive-paper-1"

	paperKeyLines     = 4
	paperLineChars    = 16 // data characters per key line, in 4 groups of 4
	paperLineCheck    = 2  // check characters per key line: 10 bits
	paperKeyCheckSize = 8  // bytes of whole-key check after the key
	paperBlockSize    = masterKeySize + paperKeyCheckSize
	paperSettingsSize = 4 // settings check characters: 20 bits

	paperKeyCheckInfo  = "ogive paper key check"
	paperLineInfo      = "ogive paper key line"
	paperSettingsInfo  = "ogive paper settings"
	paperMaxLine       = 4 << 10 // far above any bucket, region, endpoint or S3 key prefix
	paperMaxSheet      = 1 << 20
	paperFieldWidth    = 16
	crockfordAlphabet  = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	crockfordSeparator = "- \t"
)

// crockford is Crockford's base32: no I, L, O or U, so that what is read
// off paper is hard to mistype.
var crockford = base32.NewEncoding(crockfordAlphabet).WithPadding(base32.NoPadding)

// Field names as the sheet spells them, in the order it prints them.
const (
	fieldFormat        = "format"
	fieldBucket        = "bucket"
	fieldRegion        = "region"
	fieldEndpoint      = "endpoint"
	fieldPrefix        = "prefix"
	fieldPathStyle     = "path-style"
	fieldLegacy        = "2019 archives"
	fieldSettingsCheck = "settings check"
)

func keyField(i int) string { return "key " + strconv.Itoa(i+1) }

// WritePaper writes the recovery sheet of p to w: the master key in
// Crockford base32 with check characters on every line, then the bucket
// settings. It never writes the AWS keys. The sheet is as secret as the
// profile, since the master key decrypts every archive.
func WritePaper(w io.Writer, p *Profile) error {
	if err := p.validate(); err != nil {
		return fmt.Errorf("write recovery sheet: %w", err)
	}
	// The settings are checked before anything is written.
	var tail bytes.Buffer
	writeField(&tail, fieldBucket, strconv.Quote(p.Bucket))
	writeField(&tail, fieldRegion, strconv.Quote(p.Region))
	writeField(&tail, fieldEndpoint, strconv.Quote(p.Endpoint))
	writeField(&tail, fieldPrefix, strconv.Quote(p.Prefix))
	if longest(bytes.SplitSeq(tail.Bytes(), []byte("\n"))) >= paperMaxLine {
		return fmt.Errorf("write recovery sheet: %w: a setting is too long for a sheet line of %d bytes", ErrBadSheet, paperMaxLine)
	}
	writeField(&tail, fieldPathStyle, yesNo(p.PathStyle))
	writeField(&tail, fieldLegacy, yesNo(p.LegacyArchives))
	writeField(&tail, fieldSettingsCheck, settingsCheck(p))

	block, err := paperBlock(p.MasterKey)
	if err != nil {
		return fmt.Errorf("write recovery sheet: %w", err)
	}
	defer block.Destroy()
	chars := memguard.NewBuffer(crockford.EncodedLen(paperBlockSize))
	defer chars.Destroy()
	crockford.Encode(chars.Bytes(), block.Bytes())

	var head bytes.Buffer
	head.WriteString("# ogive recovery sheet\n")
	head.WriteString("# It holds the master key of an ogive profile: whoever has it can decrypt\n")
	head.WriteString("# every archive. Keep it as safe as the profile. It holds no AWS key.\n")
	head.WriteString("# Rebuild the profile with: ogive init --recover --sheet FILE\n")
	writeField(&head, fieldFormat, paperFormat)
	if _, err := w.Write(head.Bytes()); err != nil {
		return fmt.Errorf("write recovery sheet: %w", err)
	}
	// Key lines are assembled in locked memory and written from there.
	line := memguard.NewBuffer(paperFieldWidth + paperLineChars + paperLineChars/4 + 1 + paperLineCheck + 1)
	defer line.Destroy()
	for i := range paperKeyLines {
		data := chars.Bytes()[i*paperLineChars : (i+1)*paperLineChars]
		b := line.Bytes()[:0]
		b = append(b, keyField(i)+":"...)
		b = append(b, bytes.Repeat([]byte{' '}, paperFieldWidth-len(b))...)
		for g := 0; g < paperLineChars; g += 4 {
			b = append(b, data[g:g+4]...)
			b = append(b, ' ')
		}
		b = append(b, ' ')
		b = append(b, lineCheck(i, data)...)
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write recovery sheet: %w", err)
		}
	}

	if _, err := w.Write(tail.Bytes()); err != nil {
		return fmt.Errorf("write recovery sheet: %w", err)
	}
	return nil
}

func longest(lines iter.Seq[[]byte]) int {
	n := 0
	for l := range lines {
		n = max(n, len(l))
	}
	return n
}

func writeField(b *bytes.Buffer, name, value string) {
	b.WriteString(name + ":")
	b.WriteString(strings.Repeat(" ", max(1, paperFieldWidth-len(name)-1)))
	b.WriteString(value)
	b.WriteByte('\n')
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// paperBlock is the master key followed by its whole-key check, in locked
// memory; the caller destroys it.
func paperBlock(master *memguard.Enclave) (*memguard.LockedBuffer, error) {
	key, err := master.Open()
	if err != nil {
		return nil, fmt.Errorf("open master key: %w", err)
	}
	defer key.Destroy()
	if key.Size() != masterKeySize {
		return nil, fmt.Errorf("master key must be %d bytes", masterKeySize)
	}
	block := memguard.NewBuffer(paperBlockSize)
	copy(block.Bytes(), key.Bytes())
	sum := keyCheck(key.Bytes())
	copy(block.Bytes()[masterKeySize:], sum[:])
	return block, nil
}

func keyCheck(key []byte) [paperKeyCheckSize]byte {
	h := sha256.New()
	h.Write([]byte(paperKeyCheckInfo))
	h.Write(key)
	var out [paperKeyCheckSize]byte
	copy(out[:], h.Sum(nil))
	return out
}

// lineCheck is the check of key line i (from 0): the first 10 bits of
// SHA-256 over a label, the line's number and its 16 characters, in
// Crockford base32. The number makes a line typed in the wrong place fail.
func lineCheck(i int, data []byte) []byte {
	h := sha256.New()
	h.Write([]byte(paperLineInfo))
	h.Write([]byte{byte(i + 1)})
	h.Write(data)
	return checkChars(h.Sum(nil), paperLineCheck)
}

// settingsCheck covers the settings lines, so that a mistyped prefix or
// bucket is caught instead of showing an empty bucket.
func settingsCheck(p *Profile) string {
	h := sha256.New()
	h.Write([]byte(paperSettingsInfo))
	for _, v := range []string{p.Bucket, p.Region, p.Endpoint, p.Prefix} {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
		h.Write([]byte(v))
	}
	h.Write([]byte{boolByte(p.PathStyle), boolByte(p.LegacyArchives)})
	return string(checkChars(h.Sum(nil), paperSettingsSize))
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// checkChars is the first 5·n bits of sum in Crockford base32.
func checkChars(sum []byte, n int) []byte {
	out := make([]byte, crockford.EncodedLen(len(sum)))
	crockford.Encode(out, sum)
	return out[:n]
}

// ParsePaper reads a recovery sheet and returns a profile with its master
// key and settings, and no AWS keys. Reading stops as soon as every field
// has been read, so a sheet typed on a terminal needs no end-of-file.
// Lines may come in any order; blank lines and lines starting with "#" are
// skipped; field names and key characters are read case-insensitively, and
// in key lines I and L read as 1, O as 0, and spaces and hyphens are
// ignored. A line that fails its check gives ErrSheetTypo naming it; any
// other problem gives ErrBadSheet.
func ParsePaper(r io.Reader) (*Profile, error) {
	p, err := parsePaper(r)
	if err != nil {
		return nil, fmt.Errorf("read recovery sheet: %w", err)
	}
	return p, nil
}

// paperSheet collects the fields of a sheet as they are read.
type paperSheet struct {
	seen     map[string]int // field → line it was read on
	key      *memguard.LockedBuffer
	settings Profile
	check    string
}

var paperFields = []string{fieldFormat, keyField(0), keyField(1), keyField(2), keyField(3),
	fieldBucket, fieldRegion, fieldEndpoint, fieldPrefix, fieldPathStyle, fieldLegacy, fieldSettingsCheck}

func parsePaper(r io.Reader) (*Profile, error) {
	// The lines hold the key, so they are read into locked memory; the
	// scanner never grows its buffer beyond it.
	buf := memguard.NewBuffer(paperMaxLine)
	defer buf.Destroy()
	sc := bufio.NewScanner(io.LimitReader(r, paperMaxSheet))
	sc.Buffer(buf.Bytes(), paperMaxLine)

	s := &paperSheet{seen: make(map[string]int)}
	defer func() {
		if s.key != nil {
			s.key.Destroy()
		}
	}()
	n := 0
	for len(s.seen) < len(paperFields) && sc.Scan() {
		n++
		if err := s.addLine(n, sc.Bytes()); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: %w: longer than %d bytes", n+1, ErrBadSheet, paperMaxLine)
		}
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	var missing []string
	for _, f := range paperFields {
		if _, ok := s.seen[f]; !ok {
			missing = append(missing, strconv.Quote(f))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the sheet ends without %s", ErrBadSheet, strings.Join(missing, ", "))
	}
	return s.profile()
}

func (s *paperSheet) addLine(n int, line []byte) error {
	line = bytes.TrimSpace(bytes.TrimSuffix(line, []byte("\r")))
	if len(line) == 0 || line[0] == '#' {
		return nil
	}
	rawName, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return fmt.Errorf("%w: no \"name:\" at the start", ErrBadSheet)
	}
	name := fieldName(rawName)
	if at, dup := s.seen[name]; dup {
		return fmt.Errorf("%w: %q again, already on line %d", ErrBadSheet, name, at)
	}
	value = bytes.TrimSpace(value)
	var err error
	switch name {
	case fieldFormat:
		if !strings.EqualFold(string(value), paperFormat) {
			err = fmt.Errorf("%w: format %q, this ogive reads %s", ErrBadSheet, value, paperFormat)
		}
	case keyField(0), keyField(1), keyField(2), keyField(3):
		err = s.addKeyLine(int(name[len(name)-1]-'1'), value)
	case fieldBucket:
		s.settings.Bucket, err = paperText(value)
	case fieldRegion:
		s.settings.Region, err = paperText(value)
	case fieldEndpoint:
		s.settings.Endpoint, err = paperText(value)
	case fieldPrefix:
		s.settings.Prefix, err = paperText(value)
	case fieldPathStyle:
		s.settings.PathStyle, err = paperBool(value)
	case fieldLegacy:
		s.settings.LegacyArchives, err = paperBool(value)
	case fieldSettingsCheck:
		var c []byte
		if c, err = crockfordChars(value, paperSettingsSize); err == nil {
			s.check = string(c)
		}
	default:
		err = fmt.Errorf("%w: unknown field %q", ErrBadSheet, printable(rawName))
	}
	if err != nil {
		return err
	}
	s.seen[name] = n
	return nil
}

// fieldName folds a name as typed: case and runs of blanks do not matter,
// and "key1" is "key 1".
func fieldName(b []byte) string {
	name := strings.Join(strings.Fields(strings.ToLower(string(b))), " ")
	if rest, ok := strings.CutPrefix(name, "key"); ok && len(rest) == 1 && rest[0] >= '1' && rest[0] <= '0'+paperKeyLines {
		return "key " + rest
	}
	return name
}

// addKeyLine decodes key line i, 16 characters and their 2-character check.
func (s *paperSheet) addKeyLine(i int, value []byte) error {
	chars, err := crockfordChars(value, paperLineChars+paperLineCheck)
	if err != nil {
		return fmt.Errorf("key line %d: %w", i+1, err)
	}
	if s.key == nil {
		s.key = memguard.NewBuffer(paperKeyLines * paperLineChars)
	}
	data := s.key.Bytes()[i*paperLineChars : (i+1)*paperLineChars]
	copy(data, chars)
	check := string(chars[paperLineChars:])
	wipe(chars)
	if string(lineCheck(i, data)) != check {
		return fmt.Errorf("key line %d: %w: its characters do not match their check %s", i+1, ErrSheetTypo, check)
	}
	return nil
}

// crockfordChars reads n Crockford base32 characters, ignoring separators
// and folding the look-alikes. The caller wipes the result once it has
// copied key characters to locked memory.
func crockfordChars(value []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for _, c := range value {
		if strings.IndexByte(crockfordSeparator, c) >= 0 {
			continue
		}
		switch c {
		case 'I', 'i', 'L', 'l':
			c = '1'
		case 'O', 'o':
			c = '0'
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if strings.IndexByte(crockfordAlphabet, c) < 0 {
			wipe(out)
			return nil, fmt.Errorf("%w: %q is not a recovery sheet character", ErrBadSheet, printable([]byte{c}))
		}
		if len(out) == n {
			wipe(out)
			return nil, fmt.Errorf("%w: more than %d characters", ErrBadSheet, n)
		}
		out = append(out, c)
	}
	if len(out) != n {
		wipe(out)
		return nil, fmt.Errorf("%w: %d characters, want %d", ErrBadSheet, len(out), n)
	}
	return out, nil
}

func wipe(b []byte) {
	clear(b[:cap(b)])
}

// paperText reads a setting: a Go string literal, as WritePaper writes it,
// or for convenience the bare text as typed.
func paperText(value []byte) (string, error) {
	text := string(value)
	if strings.HasPrefix(text, `"`) {
		var err error
		if text, err = strconv.Unquote(text); err != nil {
			return "", fmt.Errorf("%w: malformed quoted text", ErrBadSheet)
		}
	}
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return "", fmt.Errorf("%w: text is not valid UTF-8", ErrBadSheet)
	}
	if len(text) > maxValueSize {
		return "", fmt.Errorf("%w: text longer than %d bytes", ErrBadSheet, maxValueSize)
	}
	return text, nil
}

func paperBool(value []byte) (bool, error) {
	switch strings.ToLower(string(value)) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("%w: %q is neither yes nor no", ErrBadSheet, printable(value))
}

// printable quotes what a sheet held, shortened, for an error message.
func printable(b []byte) string {
	const most = 40
	if len(b) > most {
		b = b[:most]
	}
	return strings.ToValidUTF8(string(b), "?")
}

// profile checks the whole-key and settings checks and builds the profile.
func (s *paperSheet) profile() (*Profile, error) {
	block := memguard.NewBuffer(paperBlockSize)
	defer block.Destroy()
	if n, err := crockford.Decode(block.Bytes(), s.key.Bytes()); err != nil || n != paperBlockSize {
		return nil, fmt.Errorf("%w: key lines do not decode", ErrBadSheet)
	}
	key := block.Bytes()[:masterKeySize]
	sum := keyCheck(key)
	if !bytes.Equal(sum[:], block.Bytes()[masterKeySize:]) {
		return nil, fmt.Errorf("%w: every key line matches its check, but the key does not match its own: two typos in one line may cancel out", ErrSheetTypo)
	}
	if got := settingsCheck(&s.settings); got != s.check {
		return nil, fmt.Errorf("line %d: %w: the settings do not match their check %s: a bucket, region, endpoint, prefix, path-style or 2019 archives line differs from the sheet",
			s.seen[fieldSettingsCheck], ErrSheetTypo, s.check)
	}
	if s.settings.Bucket == "" {
		return nil, fmt.Errorf("line %d: %w: the bucket is empty", s.seen[fieldBucket], ErrBadSheet)
	}
	master := memguard.NewBuffer(masterKeySize)
	copy(master.Bytes(), key)
	p := s.settings
	p.MasterKey = master.Seal()
	return &p, nil
}
