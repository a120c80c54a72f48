package cmd_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/cmd"
	"github.com/ogive-project/ogive/input"
	"github.com/ogive-project/ogive/internal/faultproxy"
	"github.com/ogive-project/ogive/internal/s3local"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// The reliability tests drive ogive in process, through cmd.Main, against
// the local Deep Archive server with a fault-injecting proxy in between.

const rigPassword = "rig-password-Zq8vX2"

// testIdleTimeout replaces object.DefaultIdleTimeout in these tests, so a
// stalled server costs a second rather than two minutes.
const testIdleTimeout = time.Second

// testMaxBackoff caps the SDK's waits between attempts, which otherwise add
// up to 30 s for a request that fails five times.
const testMaxBackoff = 50 * time.Millisecond

// rig is one local Deep Archive server, a fault proxy in front of it and a
// profile whose endpoint is the proxy.
type rig struct {
	t       *testing.T
	srv     *s3local.Server
	proxy   *faultproxy.Proxy
	dir     string // work directory: profile, password file, inputs, outputs
	srvDir  string // the server's data: srvDir/data/<bucket>/<prefix><key>
	profile string
	pwFile  string
	prefix  string
	env     map[string]string
}

type rigOptions struct {
	secretKey   string        // the server's AWS secret; "" for s3local's default
	restoreTime time.Duration // how long a restore takes; 0 means 1 s
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), srvDir: t.TempDir(), prefix: "rel/"}
	restore := cmp.Or(o.restoreTime, time.Second)
	accessKey := ""
	if o.secretKey != "" {
		accessKey = "OGIVERELIABILITYKEY0"
	}
	srv, err := s3local.Start(context.Background(), s3local.Options{
		Dir:       r.srvDir,
		Bucket:    "ogive-reliability",
		AccessKey: accessKey,
		SecretKey: o.secretKey,
		Tiers:     map[string]time.Duration{"Bulk": restore, "Standard": restore},
		Day:       time.Hour, // restored copies outlive the test
	})
	if err != nil {
		t.Fatalf("start the local Deep Archive server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	r.srv = srv
	proxy, err := faultproxy.Start(faultproxy.Options{Target: srv.Endpoint, Stall: 30 * time.Second, Rate: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	r.proxy = proxy
	r.profile = filepath.Join(r.dir, "profile")
	r.pwFile = r.write("pw", []byte(rigPassword+"\n"))
	r.env = map[string]string{"HOME": r.dir, "OGIVE_PROFILE": r.profile,
		"XDG_STATE_HOME": filepath.Join(r.dir, "state")}

	res := r.ogive(strings.Join([]string{srv.AccessKey, srv.SecretKey}, "\n")+"\n",
		"init", "--password-file", r.pwFile, "--bucket", srv.Bucket, "--region", srv.Region,
		"--endpoint", proxy.URL, "--prefix", r.prefix)
	if res.code != 0 {
		t.Fatalf("init: %s", res)
	}
	return r
}

// result is what one ogive run left.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + " after " + r.took.Round(time.Millisecond).String() +
		"\nstdout: " + r.stdout + "\nstderr: " + r.stderr
}

// ogive runs one command line in process with stdin and the rig's
// environment, and the rig's store constructor (the idle timeout lowered).
func (r *rig) ogive(stdin string, args ...string) result {
	return r.ogiveCtx(context.Background(), stdin, args...)
}

func (r *rig) ogiveCtx(ctx context.Context, stdin string, args ...string) result {
	var out, errb bytes.Buffer
	f := &cmd.Factory{
		In:       strings.NewReader(stdin),
		Out:      &out,
		Err:      &errb,
		Getenv:   func(k string) string { return r.env[k] },
		KDF:      testKDF,
		Terminal: noTerminal{},
		NewStore: newTestStore,
	}
	began := time.Now()
	code := cmd.Main(ctx, f, args...)
	return result{stdout: out.String(), stderr: errb.String(), code: code, took: time.Since(began)}
}

// newTestStore is the command layer's store constructor with the idle
// timeout lowered for tests.
func newTestStore(ctx context.Context, p *profile.Profile) (object.Store, error) {
	c := object.S3Config{
		Bucket:      p.Bucket,
		Region:      p.Region,
		Endpoint:    p.Endpoint,
		Prefix:      p.Prefix,
		PathStyle:   p.PathStyle,
		IdleTimeout: testIdleTimeout,
		MaxBackoff:  testMaxBackoff,
	}
	if p.AccessKeyID != nil && p.SecretAccessKey != nil {
		c.Credentials = object.StaticCredentials(p.AccessKeyID, p.SecretAccessKey)
	}
	return object.NewS3(ctx, c)
}

// noTerminal stands for a process without a controlling terminal, so that a
// test can never block on /dev/tty.
type noTerminal struct{}

func (noTerminal) ReadPassword(string) (*memguard.LockedBuffer, error) {
	return nil, input.ErrNoTerminal
}
func (noTerminal) ReadLine(string) (string, error) { return "", input.ErrNoTerminal }

// directStore reaches the bucket without the proxy, to look behind ogive's back.
func (r *rig) directStore() object.Store {
	r.t.Helper()
	s, err := object.NewS3(context.Background(), object.S3Config{
		Bucket:   r.srv.Bucket,
		Region:   r.srv.Region,
		Endpoint: r.srv.Endpoint,
		Prefix:   r.prefix,
		Credentials: object.StaticCredentials(memguard.NewEnclave([]byte(r.srv.AccessKey)),
			memguard.NewEnclave([]byte(r.srv.SecretKey))),
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// write creates a file in the work directory and returns its path.
func (r *rig) write(name string, data []byte) string {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		r.t.Fatal(err)
	}
	return p
}

// mkdir creates an empty directory in the work directory.
func (r *rig) mkdir(name string) string {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(p, 0o700); err != nil {
		r.t.Fatal(err)
	}
	return p
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// put uploads files without faults and returns their storage IDs.
func (r *rig) put(paths ...string) []string {
	r.t.Helper()
	r.proxy.SetRules()
	res := r.ogive("", append([]string{"put", "--password-file", r.pwFile}, paths...)...)
	if res.code != 0 {
		r.t.Fatalf("put: %s", res)
	}
	ids := strings.Fields(res.stdout)
	if len(ids) != len(paths) {
		r.t.Fatalf("put printed %d IDs for %d files: %s", len(ids), len(paths), res)
	}
	return ids
}

// restoreAll restores ids and waits until every one is READY.
func (r *rig) restoreAll(ids ...string) {
	r.t.Helper()
	r.proxy.SetRules()
	res := r.ogive("", append([]string{"restore", "--password-file", r.pwFile}, ids...)...)
	if res.code != 0 {
		r.t.Fatalf("restore: %s", res)
	}
	s := r.directStore()
	deadline := time.Now().Add(time.Minute)
	for _, id := range ids {
		for {
			info, err := s.Head(context.Background(), id)
			if err != nil {
				r.t.Fatalf("head %s: %v", id, err)
			}
			if info.Status.State == object.StateRestored {
				break
			}
			if time.Now().After(deadline) {
				r.t.Fatalf("%s not restored after a minute: %v", id, info.Status.State)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// objectPath is where the server keeps the body of the object id.
func (r *rig) objectPath(id string) string {
	return filepath.Join(r.srvDir, "data", r.srv.Bucket, filepath.FromSlash(r.prefix), id)
}

// entries lists what a directory holds, hidden files included.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// S3 operations as the proxy sees them, to aim faults.
func isUploadPart(r *http.Request) bool {
	return r.Method == http.MethodPut && r.URL.Query().Has("partNumber")
}
func isPutObject(r *http.Request) bool {
	return r.Method == http.MethodPut && !r.URL.Query().Has("partNumber")
}
func isPut(r *http.Request) bool { return r.Method == http.MethodPut }
func isCreateUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploads")
}
func isCompleteUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
}
func isList(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2"
}
func isGetObject(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Range") != ""
}
func isHead(r *http.Request) bool { return r.Method == http.MethodHead }
func isRestore(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("restore")
}

// walkFiles calls fn for every regular file under root.
func walkFiles(t *testing.T, root string, fn func(path string, data []byte)) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fn(path, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// exists reports whether the bucket still holds the object id.
func (r *rig) exists(t *testing.T, id string) bool {
	t.Helper()
	_, err := r.directStore().Head(context.Background(), id)
	return err == nil
}

// unfinishedUpload leaves in the bucket, and in the state directory, the
// multipart upload of a 17 MiB file called name whose second part failed,
// and returns the file's path.
func (r *rig) unfinishedUpload(t *testing.T, name string) string {
	t.Helper()
	path := r.write(name, randomBytes(t, 17<<20))
	secondPart := func(req *http.Request) bool { return isUploadPart(req) && req.URL.Query().Get("partNumber") == "2" }
	r.proxy.SetRules(faultproxy.Rule{Fault: faultproxy.InternalError, Match: secondPart})
	defer r.proxy.SetRules()
	if res := r.ogive("", "put", "--password-file", r.pwFile, path); res.code != 1 {
		t.Fatalf("put with part 2 failing: %s", res)
	}
	return path
}
