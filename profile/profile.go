// Package profile reads and writes the password-sealed file that holds
// ogive's master key, AWS credentials and bucket settings.
//
// The file is encrypted with XChaCha20-Poly1305 under a key derived by
// Argon2id from the password; its layout is documented in docs/FORMAT.md.
// Open also reads the profiles of the original (2019) ogive, which are
// saved in the current format when next written.
package profile

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/awnumar/memguard"
)

var (
	// ErrWrongPassword means the file is intact but the password does not open it.
	ErrWrongPassword = errors.New("wrong password")
	// ErrCorrupt means the file is not a profile or was damaged.
	ErrCorrupt = errors.New("profile is corrupt")
	// ErrUnsupported means the file was written by a different version of
	// ogive or demands work factors outside the accepted bounds.
	ErrUnsupported = errors.New("unsupported profile")
	// ErrExists means Create found a file already at the path.
	ErrExists = errors.New("profile already exists")
	// ErrNotExist means there is no file at the path; it also matches
	// fs.ErrNotExist.
	ErrNotExist = errors.New("profile does not exist")
	// ErrPermissions means the file is accessible to group or others.
	ErrPermissions = errors.New("profile is accessible to other users")
)

// KDFParams are the Argon2id work factors.
type KDFParams struct {
	Time      uint32 // iterations
	MemoryKiB uint32
	Threads   uint8
}

// DefaultKDF is the second recommended option of RFC 9106, section 4.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// Profile is everything ogive needs to reach and decrypt a backup.
type Profile struct {
	MasterKey       *memguard.Enclave // 32 bytes
	AccessKeyID     *memguard.Enclave // nil: use the standard AWS credential chain
	SecretAccessKey *memguard.Enclave // nil together with AccessKeyID

	Bucket   string
	Region   string
	Endpoint string // empty: the AWS endpoint for Region
	Prefix   string // prepended to every object key
	// PathStyle addresses the bucket in the URL path rather than the host
	// name, as most S3-compatible servers require.
	PathStyle bool

	// KDF holds the parameters of the file the profile was read from; it
	// is zero for a profile that was never saved and for a 2019 profile,
	// whose Argon2i parameters are fixed by its format.
	KDF KDFParams

	// Legacy is true for a profile opened from a file of the original
	// (2019) ogive. Saving it writes the current format.
	Legacy bool
	// LegacyArchives says that the bucket may hold objects archived by the
	// 2019 ogive, which only this profile's master key opens. It is true for
	// a 2019 profile and kept when the profile is saved in the current format.
	LegacyArchives bool
}

// New returns a profile with a fresh random master key and nothing else.
func New() (*Profile, error) {
	key := memguard.NewEnclaveRandom(masterKeySize)
	if key == nil {
		return nil, errors.New("generate master key: no enclave")
	}
	return &Profile{MasterKey: key}, nil
}

// String describes the profile without any secret.
func (p *Profile) String() string {
	if p == nil {
		return "<nil>"
	}
	master := "none"
	if p.MasterKey != nil {
		master = redacted
	}
	awsKeys := "standard credential chain"
	if p.AccessKeyID != nil || p.SecretAccessKey != nil {
		awsKeys = redacted
	}
	kdf := fmt.Sprintf("argon2id t=%d m=%dKiB p=%d", p.KDF.Time, p.KDF.MemoryKiB, p.KDF.Threads)
	if p.Legacy {
		kdf = fmt.Sprintf("argon2i t=%d m=%dKiB p=%d (2019 profile)", legacyTime, legacyMemoryKiB, legacyThreads)
	}
	return fmt.Sprintf("profile{bucket: %q, region: %q, endpoint: %q, prefix: %q, path-style: %t, 2019 archives: %t, master key: %s, aws keys: %s, kdf: %s}",
		p.Bucket, p.Region, p.Endpoint, p.Prefix, p.PathStyle, p.LegacyArchives, master, awsKeys, kdf)
}

const redacted = "**redacted**"

// Open reads and decrypts the profile at path.
func Open(path string, password *memguard.LockedBuffer) (*Profile, error) {
	if err := checkPassword(password); err != nil {
		return nil, fmt.Errorf("open profile %s: %w", path, err)
	}
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("open profile %s: %w", path, err)
	}
	p, err := decode(data, password.Bytes())
	if err != nil {
		return nil, fmt.Errorf("open profile %s: %w", path, err)
	}
	return p, nil
}

// decode picks the reader for the file's format.
func decode(data, password []byte) (*Profile, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		// Profiles written by the 2019 ogive are a gob stream, which never
		// starts with the magic.
		return openLegacy(data, password)
	}
	return openSealed(data, password)
}

// Create writes p to a new file at path, sealed with password. It never
// overwrites: if path exists, even when created concurrently, it returns
// ErrExists and leaves the file alone. Production code passes DefaultKDF.
func Create(path string, p *Profile, password *memguard.LockedBuffer, kdf KDFParams) error {
	if err := checkPassword(password); err != nil {
		return fmt.Errorf("create profile %s: %w", path, err)
	}
	// Fail before spending a second on Argon2; writeNew re-checks without a race.
	if err := checkAbsent(path); err != nil {
		return fmt.Errorf("create profile %s: %w", path, err)
	}
	data, err := seal(p, password.Bytes(), kdf, rand.Reader)
	if err != nil {
		return fmt.Errorf("create profile %s: %w", path, err)
	}
	if err := writeNew(path, data); err != nil {
		return fmt.Errorf("create profile %s: %w", path, err)
	}
	return nil
}

// Replace overwrites the existing profile at path with p, sealed with
// password, after copying the old file to path+".bak". The profile at path
// is replaced atomically: it is always either the old or the new one.
func Replace(path string, p *Profile, password *memguard.LockedBuffer, kdf KDFParams) error {
	if err := checkPassword(password); err != nil {
		return fmt.Errorf("replace profile %s: %w", path, err)
	}
	target, err := existingFile(path)
	if err != nil {
		return fmt.Errorf("replace profile %s: %w", path, err)
	}
	data, err := seal(p, password.Bytes(), kdf, rand.Reader)
	if err != nil {
		return fmt.Errorf("replace profile %s: %w", path, err)
	}
	if err := writeOver(target, data); err != nil {
		return fmt.Errorf("replace profile %s: %w", path, err)
	}
	return nil
}

func checkPassword(password *memguard.LockedBuffer) error {
	if password == nil || password.Buffer == nil || !password.IsAlive() {
		return errors.New("no password")
	}
	return nil
}
