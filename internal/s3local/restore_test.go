package s3local

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// restoreHeader reads x-amz-restore from a HEAD: "" when absent, else
// whether it is ongoing and its expiry.
func restoreHeader(t *testing.T, h *s3.HeadObjectOutput) (present, ongoing bool, expiry time.Time) {
	t.Helper()
	v := aws.ToString(h.Restore)
	switch {
	case v == "":
		return false, false, time.Time{}
	case v == `ongoing-request="true"`:
		return true, true, time.Time{}
	}
	date, ok := strings.CutPrefix(v, `ongoing-request="false", expiry-date="`)
	date, ok2 := strings.CutSuffix(date, `"`)
	if !ok || !ok2 {
		t.Fatalf("x-amz-restore %q is not in S3's format", v)
	}
	exp, err := http.ParseTime(date)
	if err != nil || !strings.HasSuffix(date, " GMT") {
		t.Fatalf("x-amz-restore expiry %q is not an RFC 1123 GMT date: %v", date, err)
	}
	return true, false, exp
}

func TestRestoreLifecycle(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	ctx := t.Context()
	k := testKey(t, "obj")
	data := []byte("0123456789")
	put(t, c, s.Bucket, k, types.StorageClassDeepArchive, data)

	if present, _, _ := restoreHeader(t, head(t, c, s.Bucket, k)); present {
		t.Fatal("x-amz-restore on a never restored object")
	}
	_, _, err := get(ctx, c, s.Bucket, k, "")
	wantAPIError(t, "get before restore", err, "InvalidObjectState", 403)

	// Bulk takes 2 s here, and one day 3 s.
	status, at, err := timedRestore(ctx, c, s.Bucket, k, restoreOpts{days: 1, tier: types.TierBulk})
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("first restore: %d %v, want 202", status, err)
	}
	ready, expiry := at.add(testTiers[tierBulk]), at.add(testTiers[tierBulk]+testDay)
	before(t, ready.from, "while restoring", func() (problems []string) {
		if _, err := restore(ctx, c, s.Bucket, k, restoreOpts{days: 1, tier: types.TierBulk}); !isAPIError(err, "RestoreAlreadyInProgress", 409) {
			problems = append(problems, fmt.Sprintf("second restore: %v, want 409 RestoreAlreadyInProgress", err))
		}
		if present, ongoing, _ := restoreHeader(t, head(t, c, s.Bucket, k)); !present || !ongoing {
			problems = append(problems, `HEAD: want ongoing-request="true"`)
		}
		for _, rng := range []string{"", "bytes=2-4"} {
			if _, _, err := get(ctx, c, s.Bucket, k, rng); !isAPIError(err, "InvalidObjectState", 403) {
				problems = append(problems, fmt.Sprintf("get %q: %v, want 403 InvalidObjectState", rng, err))
			}
		}
		return problems
	})

	waitUntil(ready.to.Add(200 * time.Millisecond))
	before(t, expiry.from, "once restored", func() (problems []string) {
		present, ongoing, exp := restoreHeader(t, head(t, c, s.Bucket, k))
		if !present || ongoing {
			problems = append(problems, `HEAD: want ongoing-request="false"`)
		}
		// The header has whole seconds.
		if !expiry.holds(exp, time.Second) {
			problems = append(problems, fmt.Sprintf("expiry %v, want within %v", exp, expiry))
		}
		body, out, err := get(ctx, c, s.Bucket, k, "")
		if err != nil || !bytes.Equal(body, data) {
			problems = append(problems, fmt.Sprintf("get: %q %v", body, err))
		} else if out.StorageClass != types.StorageClassDeepArchive || aws.ToString(out.Restore) == "" {
			problems = append(problems, fmt.Sprintf("get: class %q restore %q", out.StorageClass, aws.ToString(out.Restore)))
		}
		body, out, err = get(ctx, c, s.Bucket, k, "bytes=2-4")
		if err != nil || string(body) != "234" || aws.ToString(out.ContentRange) != "bytes 2-4/10" {
			problems = append(problems, fmt.Sprintf("ranged get: %q %v", body, err))
		}
		return problems
	})

	// Restoring a restored copy answers 200 and keeps it Days from now.
	status, at, err = timedRestore(ctx, c, s.Bucket, k, restoreOpts{days: 2, tier: types.TierBulk})
	if at.to.After(expiry.from) {
		t.Logf("too slow to see the restored copy extended (restore answered %d %v)", status, err)
		return
	}
	if err != nil || status != http.StatusOK {
		t.Fatalf("restore of a restored copy: %d %v, want 200", status, err)
	}
	extended := at.add(2 * testDay)
	if _, _, exp := restoreHeader(t, head(t, c, s.Bucket, k)); !extended.holds(exp, time.Second) {
		t.Errorf("extended expiry %v, want within %v", exp, extended)
	}

	waitUntil(extended.to.Add(200 * time.Millisecond))
	if present, _, _ := restoreHeader(t, head(t, c, s.Bucket, k)); present {
		t.Error("x-amz-restore still present after expiry")
	}
	_, _, err = get(ctx, c, s.Bucket, k, "")
	wantAPIError(t, "get after expiry", err, "InvalidObjectState", 403)
	_, _, err = get(ctx, c, s.Bucket, k, "bytes=0-0")
	wantAPIError(t, "ranged get after expiry", err, "InvalidObjectState", 403)

	// An expired copy can be restored again.
	if status, err := restore(ctx, c, s.Bucket, k, restoreOpts{days: 1, tier: types.TierStandard}); err != nil || status != http.StatusAccepted {
		t.Fatalf("restore after expiry: %d %v, want 202", status, err)
	}
}

func TestRestoreTierTiming(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	ctx := t.Context()
	bulk, standard, glacier := testKey(t, "bulk"), testKey(t, "default-tier"), testKey(t, "glacier-expedited")
	put(t, c, s.Bucket, bulk, types.StorageClassDeepArchive, []byte("b"))
	put(t, c, s.Bucket, standard, types.StorageClassDeepArchive, []byte("s"))
	put(t, c, s.Bucket, glacier, types.StorageClassGlacier, []byte("g"))

	// Standard (the default) and Expedited take 1 s here, Bulk 2 s.
	spans := map[string]span{}
	for _, r := range []struct {
		key  string
		tier types.Tier
	}{{bulk, types.TierBulk}, {standard, ""}, {glacier, types.TierExpedited}} {
		status, at, err := timedRestore(ctx, c, s.Bucket, r.key, restoreOpts{days: 1, tier: r.tier})
		if err != nil || status != http.StatusAccepted {
			t.Fatalf("restore %s: %d %v", r.key, status, err)
		}
		spans[r.key] = at
	}
	fast := spans[glacier].add(testTiers[tierStandard])
	waitUntil(fast.to.Add(200 * time.Millisecond))
	before(t, spans[bulk].add(testTiers[tierBulk]).from, "Bulk after Standard time", func() []string {
		if _, ongoing, _ := restoreHeader(t, head(t, c, s.Bucket, bulk)); !ongoing {
			return []string{"bulk restore finished in Standard time"}
		}
		return nil
	})
	before(t, spans[standard].add(testTiers[tierStandard]+testDay).from, "Standard and Expedited after their time", func() (problems []string) {
		for _, k := range []string{standard, glacier} {
			if present, ongoing, _ := restoreHeader(t, head(t, c, s.Bucket, k)); !present || ongoing {
				problems = append(problems, k+" not restored after its tier's time")
			}
			if _, _, err := get(ctx, c, s.Bucket, k, ""); err != nil {
				problems = append(problems, fmt.Sprintf("get %s: %v", k, err))
			}
		}
		return problems
	})
	bulkReady := spans[bulk].add(testTiers[tierBulk])
	waitUntil(bulkReady.to.Add(200 * time.Millisecond))
	before(t, spans[bulk].add(testTiers[tierBulk]+testDay).from, "Bulk after Bulk time", func() []string {
		if present, ongoing, _ := restoreHeader(t, head(t, c, s.Bucket, bulk)); !present || ongoing {
			return []string{"bulk restore not finished after Bulk time"}
		}
		return nil
	})
}

func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	s := shared(t)
	c := clientFor(s)
	ctx := t.Context()
	deep, std, glacier := testKey(t, "deep"), testKey(t, "standard"), testKey(t, "glacier")
	put(t, c, s.Bucket, deep, types.StorageClassDeepArchive, []byte("d"))
	put(t, c, s.Bucket, std, types.StorageClassStandardIa, []byte("s"))
	put(t, c, s.Bucket, glacier, types.StorageClassGlacier, []byte("g"))

	_, err := restore(ctx, c, s.Bucket, testKey(t, "missing"), restoreOpts{days: 1})
	wantAPIError(t, "missing key", err, "NoSuchKey", 404)
	_, err = restore(ctx, c, "no-such-bucket", "k", restoreOpts{days: 1})
	wantAPIError(t, "missing bucket", err, "NoSuchBucket", 404)
	_, err = restore(ctx, c, s.Bucket, std, restoreOpts{days: 1})
	wantAPIError(t, "STANDARD_IA object", err, "InvalidObjectState", 403)
	_, err = restore(ctx, c, s.Bucket, deep, restoreOpts{days: 1, tier: types.TierExpedited})
	wantAPIError(t, "Expedited on DEEP_ARCHIVE", err, "InvalidArgument", 400)
	_, err = restore(ctx, c, s.Bucket, deep, restoreOpts{days: 0})
	wantAPIError(t, "zero days", err, "InvalidArgument", 400)
	_, err = restore(ctx, c, s.Bucket, deep, restoreOpts{days: -3})
	wantAPIError(t, "negative days", err, "InvalidArgument", 400)
	_, err = restore(ctx, c, s.Bucket, deep, restoreOpts{days: 1, tier: "Instant"})
	wantAPIError(t, "unknown tier", err, "MalformedXML", 400)
	// None of these started anything.
	if present, _, _ := restoreHeader(t, head(t, c, s.Bucket, deep)); present {
		t.Fatal("a refused restore started one")
	}
	// Expedited exists for GLACIER.
	if status, err := restore(ctx, c, s.Bucket, glacier, restoreOpts{days: 1, tier: types.TierExpedited}); err != nil || status != http.StatusAccepted {
		t.Fatalf("Expedited on GLACIER: %d %v, want 202", status, err)
	}
	// A body that is not a RestoreRequest.
	resp := sendSigned(t, s, s.SecretKey, http.MethodPost, "/"+s.Bucket+"/"+deep+"?restore", []byte("<RestoreRequest><Days>x"), "")
	wantStatus(t, resp, 400, "MalformedXML")
}

func TestRestoreChecksSignature(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := t.Context()
	k := testKey(t, "obj")
	put(t, clientFor(s), s.Bucket, k, types.StorageClassDeepArchive, []byte("x"))

	_, err := restore(ctx, newTestClient(s, s.AccessKey, "wrong-secret"), s.Bucket, k, restoreOpts{days: 1})
	wantAPIError(t, "wrong secret", err, "SignatureDoesNotMatch", 403)
	_, err = restore(ctx, newTestClient(s, "AKIAUNKNOWN", s.SecretKey), s.Bucket, k, restoreOpts{days: 1})
	wantAPIError(t, "unknown access key", err, "InvalidAccessKeyId", 403)

	path := "/" + s.Bucket + "/" + k + "?restore"
	body := []byte("<RestoreRequest><Days>1</Days></RestoreRequest>")
	// Signed over one body, sent with another.
	resp := sendSigned(t, s, s.SecretKey, http.MethodPost, path, body, "", func(r *http.Request) {
		r.Body = io.NopCloser(bytes.NewReader([]byte("<RestoreRequest><Days>9</Days></RestoreRequest>")))
	})
	wantStatus(t, resp, 400, "XAmzContentSHA256Mismatch")
	// A signed header changed after signing.
	resp = sendSigned(t, s, s.SecretKey, http.MethodPost, path, body, "", func(r *http.Request) {
		r.Header.Set("X-Amz-Date", time.Now().Add(time.Second).UTC().Format(amzDateFormat))
	})
	wantStatus(t, resp, 403, "SignatureDoesNotMatch")
	// No signature at all.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, 403, "AccessDenied")

	if present, _, _ := restoreHeader(t, head(t, clientFor(s), s.Bucket, k)); present {
		t.Fatal("a rejected request started a restore")
	}
	// UNSIGNED-PAYLOAD is accepted, as by S3.
	resp = sendSigned(t, s, s.SecretKey, http.MethodPost, path, body, unsignedPayload)
	wantStatus(t, resp, 202, "")
}

// sendSigned sends a request signed by the SDK signer; payloadHash empty
// means the body's SHA-256. tamper runs after signing.
func sendSigned(t *testing.T, s *Server, secret, method, path string, body []byte, payloadHash string, tamper ...func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: secret}
	err = v4.NewSigner().SignHTTP(t.Context(), creds, req, payloadHash, "s3", s.Region, time.Now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tamper {
		f(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// wantStatus checks a raw answer's status and, when code is set, the S3
// error code in its body.
func wantStatus(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status || (code != "" && !strings.Contains(string(b), "<Code>"+code+"</Code>")) {
		t.Fatalf("got %d %s, want %d %s", resp.StatusCode, b, status, code)
	}
}
