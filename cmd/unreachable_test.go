package cmd_test

import (
	"bytes"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/profile"
)

// closedPort is a TCP port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return port
}

// A server that cannot be reached fails a command at once, on one line that
// names the URL and the reason, rather than after 18–21 s of the SDK's
// retries and a five-line error. The binary runs with the SDK's real retry
// settings (the rig's in-process store lowers its back-off).
func TestUnreachableServerFailsFast(t *testing.T) {
	r := newRig(t, rigOptions{})
	bin := buildOgive(t)
	keys := r.srv.AccessKey + "\n" + r.srv.SecretKey + "\n"
	for _, c := range []struct {
		name, endpoint, want string
	}{
		{"closed port", "http://127.0.0.1:" + closedPort(t), "ogive: cannot connect to http://127.0.0.1:* (connection refused)"},
		{"no such host", "https://nosuchhost.invalid:9000", "ogive: cannot connect to https://" + r.srv.Bucket + ".nosuchhost.invalid:9000 (no such host)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			prof := filepath.Join(r.dir, strings.ReplaceAll(c.name, " ", "-")+".profile")
			res := r.ogive(keys, "init", "-p", prof, "--password-file", r.pwFile, "--bucket", r.srv.Bucket,
				"--region", r.srv.Region, "--endpoint", c.endpoint, "--no-check")
			if res.code != 0 {
				t.Fatalf("init --no-check: %s", res)
			}
			cmd := exec.Command(bin, "list", "-p", prof, "--password-file", r.pwFile)
			cmd.Env = []string{"HOME=" + r.dir, "XDG_STATE_HOME=" + filepath.Join(r.dir, "state")}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			began := time.Now()
			err := cmd.Run()
			took := time.Since(began)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("list: %v, want exit 1\nstderr: %s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[1], "hint: ") {
				t.Fatalf("want one error line and a hint, got:\n%s", stderr.String())
			}
			if ok, _ := filepath.Match(c.want, lines[0]); !ok {
				t.Errorf("got  %q\nwant %q", lines[0], c.want)
			}
			// Five attempts with the SDK's back-off take 18 s and more; one
			// attempt takes milliseconds. The bound leaves room for a slow,
			// shared machine.
			if took > 8*time.Second {
				t.Errorf("list failed after %s: the dial error was retried", took.Round(time.Millisecond))
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}
}

// A profile written before init refused endpoints without a scheme is
// taken as https, as before, but says so; against a plain http server the
// error then says what is wrong, on one line.
func TestEndpointWithoutScheme(t *testing.T) {
	r := newRig(t, rigOptions{})
	p, err := profile.New()
	if err != nil {
		t.Fatal(err)
	}
	hostPort := strings.TrimPrefix(r.srv.Endpoint, "http://")
	p.Bucket, p.Region, p.Endpoint = r.srv.Bucket, r.srv.Region, hostPort
	p.AccessKeyID = memguard.NewEnclave([]byte(r.srv.AccessKey))
	p.SecretAccessKey = memguard.NewEnclave([]byte(r.srv.SecretKey))
	prof := filepath.Join(r.dir, "old.profile")
	pw := memguard.NewBufferFromBytes([]byte(rigPassword))
	if err := profile.Create(prof, p, pw, testKDF); err != nil {
		t.Fatal(err)
	}
	res := r.ogive("", "list", "-p", prof, "--password-file", r.pwFile)
	if res.code != 1 {
		t.Fatalf("list: %s, want exit 1", res)
	}
	want := "warning: endpoint " + hostPort + " has no scheme, so ogive uses https://" + hostPort +
		"; to change it: ogive init --reinit --endpoint http://… (or https://…)\n" +
		"ogive: cannot connect to https://" + hostPort + " (the server answers in plain http, not https)\n" +
		"hint: the endpoint should begin with http://; 'ogive profile show' shows the profile's endpoint\n"
	if res.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", res.stderr, want)
	}
}
