package cmd_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ogive-project/ogive/internal/s3local"
	"github.com/ogive-project/ogive/object"
)

// legacyManifest is the part of testdata/legacy/manifest.json these tests use.
type legacyManifest struct {
	Bucket   string `json:"bucket"`
	Region   string `json:"region"`
	Endpoint string `json:"endpoint"`
	KeyID    string `json:"aws_access_key_id"`
	Secret   string `json:"aws_secret_access_key"`
	Objects  []struct {
		ID           string            `json:"storage_id"`
		ContentType  string            `json:"content_type"`
		StorageClass string            `json:"storage_class"`
		Metadata     map[string]string `json:"metadata"`
		Ciphertext   string            `json:"ciphertext"`
		Filename     string            `json:"filename"`
		SHA256       string            `json:"plaintext_sha256"`
	} `json:"objects"`
}

// TestLegacyScripts points ogive at what the original (2019) ogive left: its
// profile, unchanged, and its four archives uploaded as it uploaded them, to
// a local Deep Archive server at the endpoint the profile names.
func TestLegacyScripts(t *testing.T) {
	fixtures := filepath.Join("..", "testdata", "legacy")
	raw, err := os.ReadFile(filepath.Join(fixtures, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m legacyManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := s3local.Start(ctx, s3local.Options{
		Dir:       t.TempDir(),
		Addr:      "127.0.0.1:17080", // the endpoint the 2019 profile holds
		Bucket:    m.Bucket,
		Region:    m.Region,
		AccessKey: m.KeyID,
		SecretKey: m.Secret,
		Tiers:     map[string]time.Duration{"Bulk": time.Second, "Standard": time.Second},
		Day:       time.Minute,
	})
	if err != nil {
		t.Fatalf("start the local Deep Archive server on the 2019 profile's endpoint: %v", err)
	}
	t.Cleanup(func() { srv.Close() })

	store, err := object.NewS3(ctx, object.S3Config{
		Bucket: m.Bucket, Region: m.Region, Endpoint: srv.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(m.KeyID, m.Secret, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range m.Objects {
		body, err := os.ReadFile(filepath.Join(fixtures, o.Ciphertext))
		if err != nil {
			t.Fatal(err)
		}
		// The original sent the metadata key as "Nonce"; S3 keeps it lowercase.
		err = store.Put(ctx, o.ID, body, object.PutOptions{
			StorageClass: o.StorageClass, ContentType: o.ContentType,
			Metadata: map[string]string{"Nonce": o.Metadata["nonce"]},
		})
		if err != nil {
			t.Fatalf("upload fixture %s: %v", o.Filename, err)
		}
	}

	profile, err := os.ReadFile(filepath.Join(fixtures, "legacy.profile"))
	if err != nil {
		t.Fatal(err)
	}
	password, err := os.ReadFile(filepath.Join(fixtures, "password.txt"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "legacy"),
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("S3_ENDPOINT", srv.Endpoint)
			for i, o := range m.Objects {
				n := string(rune('1' + i))
				e.Setenv("ID"+n, o.ID)
				e.Setenv("NAME"+n, o.Filename)
				e.Setenv("SHA"+n, o.SHA256)
			}
			if err := privateFiles(e.WorkDir); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(e.WorkDir, ".ogive"), profile, 0o600); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(e.WorkDir, "pw"), password, 0o600)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"setenv-stdout": setenvStdout,
		},
		RequireExplicitExec: true,
	})
}
