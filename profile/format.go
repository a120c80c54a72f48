package profile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/awnumar/memguard"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/ogive-project/ogive/internal/kdf"
)

// The byte layout is documented in docs/FORMAT.md (profile section) and
// pinned by testdata/profile/vector.json.
const (
	magic         = "OGIVEPRF"
	formatVersion = 0x02
	kdfArgon2id   = 0x01

	offVersion = 8
	offKDF     = 9
	offTime    = 10
	offMemory  = 14
	offThreads = 18
	offSalt    = 19
	offNonce   = 35
	headerSize = 59

	saltSize    = offNonce - offSalt
	nonceSize   = chacha20poly1305.NonceSizeX
	tagSize     = chacha20poly1305.Overhead
	trailerSize = sha256.Size

	masterKeySize = 32
	recordHeader  = 3 // tag, 2-byte length
	maxValueSize  = 0xffff
)

// Work factors read from a file are bounded before any memory is allocated,
// so a planted profile cannot make ogive reserve 64 GiB or spin for hours.
const (
	maxTime      = 16
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxThreads   = 16
)

// Payload record tags, in the order they must appear.
const (
	tagMasterKey       = 0x01
	tagAccessKeyID     = 0x02
	tagSecretAccessKey = 0x03
	tagBucket          = 0x04
	tagRegion          = 0x05
	tagEndpoint        = 0x06
	tagPrefix          = 0x07
	tagPathStyle       = 0x08
	tagLegacyArchives  = 0x09
)

// maxFileSize is the largest well-formed profile: every record at its
// largest. Reading stops there so a huge file cannot exhaust memory.
const maxFileSize = headerSize + 8*(recordHeader+maxValueSize) + tagSize + trailerSize

// sealedFile is a profile file whose structure, trailer and KDF parameters
// have been checked; nothing in it has been decrypted yet.
type sealedFile struct {
	kdf        KDFParams
	salt       []byte
	nonce      []byte
	header     []byte // the AEAD's additional data
	ciphertext []byte
}

// parseFile checks everything that can be checked without the password.
// The version is checked before the length and trailer because a future
// version may lay them out differently and deserves ErrUnsupported.
func parseFile(data []byte) (*sealedFile, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, fmt.Errorf("%w: not an ogive profile", ErrCorrupt)
	}
	if len(data) <= offVersion {
		return nil, fmt.Errorf("%w: truncated header", ErrCorrupt)
	}
	if v := data[offVersion]; v != formatVersion {
		return nil, fmt.Errorf("%w: profile format version %d", ErrUnsupported, v)
	}
	// The smallest payload (a bare master key record) is never empty.
	if len(data) <= headerSize+tagSize+trailerSize {
		return nil, fmt.Errorf("%w: truncated file", ErrCorrupt)
	}
	body, trailer := data[:len(data)-trailerSize], data[len(data)-trailerSize:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], trailer) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if id := data[offKDF]; id != kdfArgon2id {
		return nil, fmt.Errorf("%w: key derivation function 0x%02x", ErrUnsupported, id)
	}
	kdf := KDFParams{
		Time:      binary.BigEndian.Uint32(data[offTime:]),
		MemoryKiB: binary.BigEndian.Uint32(data[offMemory:]),
		Threads:   data[offThreads],
	}
	if err := checkKDF(kdf); err != nil {
		return nil, err
	}
	return &sealedFile{
		kdf:        kdf,
		salt:       data[offSalt:offNonce],
		nonce:      data[offNonce:headerSize],
		header:     data[:headerSize],
		ciphertext: body[headerSize:],
	}, nil
}

// checkKDF applies the bounds both when reading and when writing, so ogive
// never writes a profile it would refuse to open.
func checkKDF(k KDFParams) error {
	switch {
	case k.Threads < 1 || k.Threads > maxThreads:
		return fmt.Errorf("%w: argon2 parallelism %d outside 1..%d", ErrUnsupported, k.Threads, maxThreads)
	case uint64(k.MemoryKiB) < 8*uint64(k.Threads) || k.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("%w: argon2 memory %d KiB outside %d..%d KiB", ErrUnsupported, k.MemoryKiB, 8*uint64(k.Threads), maxMemoryKiB)
	case k.Time < 1 || k.Time > maxTime:
		return fmt.Errorf("%w: argon2 iterations %d outside 1..%d", ErrUnsupported, k.Time, maxTime)
	}
	return nil
}

// deriveKey runs Argon2id. The caller wipes the returned key.
func deriveKey(password, salt []byte, k KDFParams) []byte {
	return kdf.IDKey(password, salt, k.Time, k.MemoryKiB, k.Threads, chacha20poly1305.KeySize)
}

// openSealed decrypts a current-format profile.
func openSealed(data, password []byte) (*Profile, error) {
	f, err := parseFile(data)
	if err != nil {
		return nil, err
	}
	key := deriveKey(password, f.salt, f.kdf)
	aead, err := chacha20poly1305.NewX(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("profile cipher: %w", err)
	}

	// Decrypt straight into locked memory: the capacity is exactly the
	// plaintext size, so Open writes in place and never reallocates.
	n := len(f.ciphertext) - tagSize
	plain := memguard.NewBuffer(n)
	defer plain.Destroy()
	if _, err := aead.Open(plain.Bytes()[:0:n], f.nonce, f.ciphertext, f.header); err != nil {
		return nil, ErrWrongPassword
	}
	p, err := decodePayload(plain.Bytes())
	if err != nil {
		return nil, err
	}
	p.KDF = f.kdf
	return p, nil
}

// decodePayload reads the TLV records. b must be mutable: secret values
// are moved into enclaves, which wipes them in place.
func decodePayload(b []byte) (*Profile, error) {
	p := &Profile{}
	text := map[int]*string{
		tagBucket:   &p.Bucket,
		tagRegion:   &p.Region,
		tagEndpoint: &p.Endpoint,
		tagPrefix:   &p.Prefix,
	}
	last := 0
	for len(b) > 0 {
		if len(b) < recordHeader {
			return nil, fmt.Errorf("%w: truncated record", ErrCorrupt)
		}
		tag := int(b[0])
		n := int(binary.BigEndian.Uint16(b[1:recordHeader]))
		if tag < tagMasterKey || tag > tagLegacyArchives {
			return nil, fmt.Errorf("%w: unknown record 0x%02x", ErrUnsupported, tag)
		}
		if tag <= last {
			return nil, fmt.Errorf("%w: record 0x%02x repeated or out of order", ErrCorrupt, tag)
		}
		last = tag
		if n == 0 || n > len(b)-recordHeader {
			return nil, fmt.Errorf("%w: record 0x%02x has bad length %d", ErrCorrupt, tag, n)
		}
		v := b[recordHeader : recordHeader+n]
		b = b[recordHeader+n:]

		switch tag {
		case tagMasterKey:
			if n != masterKeySize {
				return nil, fmt.Errorf("%w: master key is %d bytes, want %d", ErrCorrupt, n, masterKeySize)
			}
			p.MasterKey = memguard.NewEnclave(v)
		case tagAccessKeyID:
			p.AccessKeyID = memguard.NewEnclave(v)
		case tagSecretAccessKey:
			p.SecretAccessKey = memguard.NewEnclave(v)
		case tagPathStyle:
			if n != 1 || v[0] > 1 {
				return nil, fmt.Errorf("%w: bad path-style flag", ErrCorrupt)
			}
			p.PathStyle = v[0] == 1
		case tagLegacyArchives:
			if n != 1 || v[0] > 1 {
				return nil, fmt.Errorf("%w: bad 2019-archives flag", ErrCorrupt)
			}
			p.LegacyArchives = v[0] == 1
		default:
			if !utf8.Valid(v) {
				return nil, fmt.Errorf("%w: record 0x%02x is not UTF-8", ErrCorrupt, tag)
			}
			*text[tag] = string(v)
		}
	}
	switch {
	case p.MasterKey == nil:
		return nil, fmt.Errorf("%w: no master key", ErrCorrupt)
	case p.Bucket == "":
		return nil, fmt.Errorf("%w: no bucket", ErrCorrupt)
	case (p.AccessKeyID == nil) != (p.SecretAccessKey == nil):
		return nil, fmt.Errorf("%w: AWS access key ID and secret access key must come together", ErrCorrupt)
	}
	return p, nil
}

// validate checks what the format can express, before anything is written.
func (p *Profile) validate() error {
	switch {
	case p.MasterKey == nil || p.MasterKey.Size() != masterKeySize:
		return fmt.Errorf("master key must be %d bytes", masterKeySize)
	case p.Bucket == "":
		return errors.New("bucket is required")
	case (p.AccessKeyID == nil) != (p.SecretAccessKey == nil):
		return errors.New("AWS access key ID and secret access key must be set together")
	}
	for _, e := range []*memguard.Enclave{p.AccessKeyID, p.SecretAccessKey} {
		if e != nil && e.Size() > maxValueSize {
			return fmt.Errorf("AWS key longer than %d bytes", maxValueSize)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"bucket", p.Bucket}, {"region", p.Region}, {"endpoint", p.Endpoint}, {"prefix", p.Prefix},
	} {
		if len(f.value) > maxValueSize {
			return fmt.Errorf("%s longer than %d bytes", f.name, maxValueSize)
		}
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("%s is not valid UTF-8", f.name)
		}
	}
	return nil
}

// record is one TLV record to be written: a secret or a text value.
type record struct {
	tag    byte
	secret *memguard.Enclave
	text   string
}

func (r record) size() int {
	if r.secret != nil {
		return r.secret.Size()
	}
	return len(r.text)
}

// encodePayload writes the TLV records into locked memory. Empty optional
// fields and false flags are omitted.
func (p *Profile) encodePayload() (*memguard.LockedBuffer, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	records := []record{
		{tag: tagMasterKey, secret: p.MasterKey},
		{tag: tagAccessKeyID, secret: p.AccessKeyID},
		{tag: tagSecretAccessKey, secret: p.SecretAccessKey},
		{tag: tagBucket, text: p.Bucket},
		{tag: tagRegion, text: p.Region},
		{tag: tagEndpoint, text: p.Endpoint},
		{tag: tagPrefix, text: p.Prefix},
	}
	if p.PathStyle {
		records = append(records, record{tag: tagPathStyle, text: "\x01"})
	}
	if p.LegacyArchives {
		records = append(records, record{tag: tagLegacyArchives, text: "\x01"})
	}
	size := 0
	for _, r := range records {
		if n := r.size(); n > 0 {
			size += recordHeader + n
		}
	}

	buf := memguard.NewBuffer(size)
	out := buf.Bytes()
	off := 0
	for _, r := range records {
		n := r.size()
		if n == 0 {
			continue
		}
		out[off] = r.tag
		binary.BigEndian.PutUint16(out[off+1:], uint16(n))
		off += recordHeader
		if r.secret == nil {
			off += copy(out[off:], r.text)
			continue
		}
		secret, err := r.secret.Open()
		if err != nil {
			buf.Destroy()
			return nil, fmt.Errorf("open enclave: %w", err)
		}
		off += copy(out[off:], secret.Bytes())
		secret.Destroy()
	}
	return buf, nil
}

// seal builds a profile file. rand supplies the salt, then the nonce; it
// is crypto/rand outside the known-answer test.
func seal(p *Profile, password []byte, kdf KDFParams, rand io.Reader) ([]byte, error) {
	if err := checkKDF(kdf); err != nil {
		return nil, err
	}
	payload, err := p.encodePayload()
	if err != nil {
		return nil, err
	}
	defer payload.Destroy()

	out := make([]byte, headerSize, headerSize+payload.Size()+tagSize+trailerSize)
	copy(out, magic)
	out[offVersion] = formatVersion
	out[offKDF] = kdfArgon2id
	binary.BigEndian.PutUint32(out[offTime:], kdf.Time)
	binary.BigEndian.PutUint32(out[offMemory:], kdf.MemoryKiB)
	out[offThreads] = kdf.Threads
	if _, err := io.ReadFull(rand, out[offSalt:offNonce]); err != nil {
		return nil, fmt.Errorf("read salt: %w", err)
	}
	if _, err := io.ReadFull(rand, out[offNonce:headerSize]); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}

	key := deriveKey(password, out[offSalt:offNonce], kdf)
	aead, err := chacha20poly1305.NewX(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("profile cipher: %w", err)
	}
	// Seal appends after the header within out's capacity, so the nonce
	// and additional data it reads from out are never overwritten.
	out = aead.Seal(out, out[offNonce:headerSize], payload.Bytes(), out[:headerSize])
	sum := sha256.Sum256(out)
	return append(out, sum[:]...), nil
}
