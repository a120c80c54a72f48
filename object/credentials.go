package object

import (
	"context"
	"fmt"
	"time"

	"github.com/awnumar/memguard"
	"github.com/aws/aws-sdk-go-v2/aws"
)

// credentialLifetime bounds how long the SDK caches the plaintext strings
// it signs with; after it, Retrieve opens the enclaves again.
const credentialLifetime = 15 * time.Minute

// StaticCredentials returns a provider of the access key ID and secret held
// in the enclaves. They are opened only inside Retrieve. The SDK needs them
// as strings to sign requests, which memguard cannot protect; the copies
// live only as long as the SDK caches them (credentialLifetime).
func StaticCredentials(keyID, secret *memguard.Enclave) aws.CredentialsProvider {
	return enclaveCredentials{keyID: keyID, secret: secret}
}

type enclaveCredentials struct {
	keyID, secret *memguard.Enclave
}

func (c enclaveCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	if c.keyID == nil || c.secret == nil {
		return aws.Credentials{}, fmt.Errorf("static credentials: %w: access key id or secret missing", ErrCredentials)
	}
	id, err := c.keyID.Open()
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("static credentials: open access key id: %w", err)
	}
	defer id.Destroy()
	secret, err := c.secret.Open()
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("static credentials: open secret: %w", err)
	}
	defer secret.Destroy()
	// string(…) copies: memguard's own String() aliases the locked memory
	// that Destroy wipes, while the SDK keeps the strings in its cache.
	return aws.Credentials{
		AccessKeyID:     string(id.Bytes()),
		SecretAccessKey: string(secret.Bytes()),
		Source:          "ogive",
		CanExpire:       true,
		Expires:         time.Now().Add(credentialLifetime),
	}, nil
}

func (enclaveCredentials) String() string   { return "**redacted**" }
func (enclaveCredentials) GoString() string { return "**redacted**" }
