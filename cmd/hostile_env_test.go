//go:build linux

package cmd_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/profile"
)

// sigMask reads one of the signal masks (SigCgt, SigIgn) of /proc/pid/status.
func sigMask(t *testing.T, pid int, field string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	return 0
}

// `nohup ogive put big.tar &` (or any launcher that starts ogive
// with SIGHUP ignored: nohup, screen's hangup handling, systemd-run, a
// `trap "" HUP` in a script) must keep uploading after the terminal
// closes, as it did before SIGHUP was added to main's signal.Notify.
// os/signal un-ignores a signal that Notify is called for, so the hangup
// that nohup meant to ignore now cancels the upload (exit 130).
//
// The password comes through a pipe that stays open, so ogive is waiting
// when the hangup comes; then the password is written: an ogive that
// ignores SIGHUP, as it was started, finishes the put.
func TestNohupPutSurvivesHangup(t *testing.T) {
	r := newRig(t, rigOptions{})
	bin := buildOgive(t)
	src := r.write("big.bin", randomBytes(t, 1<<20))

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	p := r.start(t, "/bin/sh", pr, "-c", `trap "" HUP; exec "$@"`, "sh", bin, "put", src)
	pr.Close()
	pid := p.cmd.Process.Pid

	// Wait for ogive itself (after exec) to have set up its signal
	// handling: SIGINT (bit 1) caught.
	waitFor(t, "ogive's signal handlers", func() bool {
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		return filepath.Base(exe) == filepath.Base(bin) && sigMask(t, pid, "SigCgt")&(1<<(syscall.SIGINT-1)) != 0
	})
	hupBit := uint64(1) << (syscall.SIGHUP - 1)
	t.Logf("SigIgn has SIGHUP: %v; SigCgt has SIGHUP: %v",
		sigMask(t, pid, "SigIgn")&hupBit != 0, sigMask(t, pid, "SigCgt")&hupBit != 0)

	// The terminal closes (logout): the session's processes get SIGHUP.
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the signal be delivered
	if _, err := pw.WriteString(rigPassword + "\n"); err != nil {
		t.Logf("write the password: %v", err)
	}
	pw.Close()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("put did not finish; stderr: %s", p.stderr.String())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("put started with SIGHUP ignored (nohup) ended with exit %d after a hangup, want 0 (the upload goes on)\nstderr: %s",
			code, p.stderr.String())
	}
}

// `ogive init --reinit` to change the password, answered as
// before (current password, new password twice, Enter at both AWS key
// prompts to keep the profile's keys), in a shell where AWS_ACCESS_KEY_ID
// and AWS_SECRET_ACCESS_KEY are set (another account's keys, or a CI
// role's): the empty answers now take the environment's keys instead of
// keeping the profile's. Either the reinit fails on the bucket check with
// keys the user never meant to use (the password change is blocked), or,
// where those keys reach the bucket, the profile silently changes whose
// keys it holds. At a terminal the prompt shows the default; piped, nothing
// says so, and a person who wants to keep the profile's keys has no answer
// that does it.
func TestReinitWithEnvKeysKeepsProfileKeys(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.env["AWS_ACCESS_KEY_ID"] = "AKIAOTHERACCOUNT0001"
	r.env["AWS_SECRET_ACCESS_KEY"] = "other-account-secret-not-for-this-bucket"
	const newPassword = "new-password-for-red2"
	res := r.ogive(rigPassword+"\n"+newPassword+"\n"+newPassword+"\n\n\n", "init", "--reinit")
	if res.code != 0 {
		t.Fatalf("reinit answered as before (keys kept) failed with AWS keys in the environment: %s", res)
	}
	p, err := profile.Open(r.profile, memguard.NewBufferFromBytes([]byte(newPassword)))
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.AccessKeyID.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer id.Destroy()
	if got := string(id.Bytes()); got != r.srv.AccessKey {
		t.Errorf("reinit with empty key answers replaced the profile's key ID %q with the environment's %q", r.srv.AccessKey, got)
	}
}

// with temporary credentials in the environment (AWS SSO,
// aws-vault, a CI role: AWS_ACCESS_KEY_ID=ASIA…, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN), init offers the key ID and secret as defaults and, on
// empty answers, stores them in the profile without the session token. No
// request signed with them alone is accepted, and they expire within hours:
// the profile is broken from the start (the check reports "keys refused";
// with --no-check it is written). Empty answers should then mean what they
// mean without environment keys: no keys in the profile, the credential
// chain (which does read the token) at run time.
func TestInitLeavesTemporaryEnvKeysToTheChain(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.env["AWS_ACCESS_KEY_ID"] = "ASIAEXAMPLETEMPORARY"
	r.env["AWS_SECRET_ACCESS_KEY"] = "temporary-secret-of-a-session"
	r.env["AWS_SESSION_TOKEN"] = "IQoJb3JpZ2luX2VjEXAMPLE-session-token"
	prof := filepath.Join(r.dir, "temp.profile")
	res := r.ogive("pw-red2-temp\npw-red2-temp\n\n\n", "init", "-p", prof, "--bucket", r.srv.Bucket,
		"--region", r.srv.Region, "--endpoint", r.proxy.URL, "--no-check")
	if res.code != 0 {
		t.Fatalf("init: %s", res)
	}
	p, err := profile.Open(prof, memguard.NewBufferFromBytes([]byte("pw-red2-temp")))
	if err != nil {
		t.Fatal(err)
	}
	if p.AccessKeyID != nil {
		id, err := p.AccessKeyID.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer id.Destroy()
		t.Errorf("the profile holds the temporary key ID %q from the environment, without its session token\nstderr: %s",
			id.Bytes(), res.stderr)
	}
}

// the price variables accept any finite non-negative number: a
// typo such as OGIVE_PRICE_STORAGE_GB_MONTH=1e308 (or 1e-300, or -0) is
// taken, and put's note prints a 309-digit unit price and "$+Inf" as the
// minimum charge (or "$-0.00"), instead of a one-line usage error as for
// NaN or a negative price.
func TestAbsurdPriceFromEnvironment(t *testing.T) {
	r := newRig(t, rigOptions{})
	src := r.write("small.bin", randomBytes(t, 4096))
	for _, v := range []string{"1e308", "-0"} {
		t.Run(v, func(t *testing.T) {
			r.env["OGIVE_PRICE_STORAGE_GB_MONTH"] = v
			defer delete(r.env, "OGIVE_PRICE_STORAGE_GB_MONTH")
			res := r.ogive("", "put", "--password-file", r.pwFile, src)
			if res.code != 1 || !strings.Contains(res.stderr, "OGIVE_PRICE_STORAGE_GB_MONTH) must be a price from 0 to 1000000000 USD") {
				t.Errorf("OGIVE_PRICE_STORAGE_GB_MONTH=%s: not refused: %s", v, res)
			}
			for _, bad := range []string{"Inf", "NaN", "$-", "00000000000000000000"} {
				if strings.Contains(res.stderr, bad) {
					t.Errorf("OGIVE_PRICE_STORAGE_GB_MONTH=%s: the note holds %q:\n%s", v, bad, res.stderr)
				}
			}
		})
	}
}
