package cmd

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// foreignCountLimit bounds the objects init counts in a bucket that already
// holds some: five listing requests at most.
const foreignCountLimit = 5000

// verifyBucket checks, before init writes a profile, that its bucket
// answers a listing with its keys, region and endpoint (the README's IAM
// policy allows s3:ListBucket, which list needs anyway). On failure it
// returns an error that says what is wrong, on one line with a hint, and
// nothing is written. Then it warns about plain http, a missing lifecycle
// rule and, for a new master key (fresh), objects the key cannot read.
func verifyBucket(ctx context.Context, f *Factory, p *profile.Profile, fresh bool) error {
	warnPlainHTTP(f.Err, p.Endpoint)
	s, err := f.NewStore(ctx, p)
	if err == nil {
		err = object.Probe(ctx, s)
	}
	if err != nil {
		return bucketCheckError(p, err)
	}
	fmt.Fprintf(f.Err, "Bucket %s is reachable.\n", oneLine(p.Bucket))
	checkLifecycle(ctx, f, s)
	if fresh {
		warnForeign(ctx, f, s, p)
	}
	return nil
}

// checkError is a failed bucket check, worded for the user.
type checkError struct {
	msg, hint string
	err       error
}

func (e *checkError) Error() string { return e.msg }
func (e *checkError) Unwrap() error { return e.err }

const noCheckHint = "; or add --no-check to write the profile without checking"

// bucketCheckError words why p's bucket did not answer.
func bucketCheckError(p *profile.Profile, err error) error {
	bucket := p.Bucket
	var ce *object.ConnectError
	var re *object.RegionError
	e := &checkError{err: err}
	switch {
	case errors.As(err, &ce):
		e.msg = ce.Error()
		e.hint = connectHint(ce)
	case errors.As(err, &re):
		region := p.Region
		if region == "" {
			region = "the default region"
		}
		e.msg = fmt.Sprintf("bucket %s is in region %s, not %s", bucket, re.Region, region)
		e.hint = "give its region: ogive init --region " + re.Region
		if p.Endpoint != "" && strings.Contains(p.Endpoint, ".amazonaws.com") && !strings.Contains(p.Endpoint, re.Region) {
			e.hint += " (and its endpoint, https://s3." + re.Region + ".amazonaws.com)"
		}
	case errors.Is(err, object.ErrCredentials):
		e.msg = fmt.Sprintf("the AWS keys were refused (%s)", codeOr(err, "credentials rejected"))
		e.hint = "check the key ID and secret; they must be those of a user or role allowed to use bucket " + bucket
	case errors.Is(err, object.ErrNoSuchBucket):
		e.msg = fmt.Sprintf("bucket %s does not exist at %s", bucket, endpointName(p))
		e.hint = "check the bucket name, the region and the endpoint; ogive does not create buckets (see 'AWS setup' in the README)"
	case errors.Is(err, object.ErrAccessDenied):
		e.msg = fmt.Sprintf("the AWS keys may not list bucket %s (%s)", bucket, codeOr(err, "access denied"))
		e.hint = "ogive needs s3:ListBucket on the bucket: see the IAM policy in the README"
	default:
		msg, hint := explain(err)
		e.msg = "bucket " + bucket + ": " + msg
		e.hint = hint
	}
	if e.hint == "" {
		e.hint = "check the bucket, region and endpoint"
	}
	e.hint += noCheckHint
	return e
}

// connectHint says what to check when the server could not be reached.
func connectHint(ce *object.ConnectError) string {
	switch {
	case strings.Contains(ce.Reason, "plain http"):
		return "the endpoint should begin with http://"
	case strings.HasPrefix(ce.Reason, "TLS"):
		return "check the endpoint's host name; for a private CA, set AWS_CA_BUNDLE to its certificate file"
	case ce.Reason == "no such host":
		return "check the endpoint's host name; outside path style, the bucket name is part of it"
	}
	return "check the endpoint (host and port) and that the server is running, then try again"
}

// endpointName is the endpoint as the user gave it, or AWS's.
func endpointName(p *profile.Profile) string {
	if p.Endpoint != "" {
		return p.Endpoint
	}
	return "AWS"
}

// codeOr is S3's error code in err, or def.
func codeOr(err error, def string) string {
	if code := object.ErrorCode(err); code != "" {
		return code
	}
	return def
}

// checkLifecycle warns when no lifecycle rule aborts incomplete multipart
// uploads, and says so on one line when it cannot tell.
func checkLifecycle(ctx context.Context, f *Factory, s object.Store) {
	lc, ok := s.(object.LifecycleChecker)
	if !ok {
		return
	}
	aborts, err := lc.AbortsIncompleteUploads(ctx)
	switch {
	case errors.Is(err, object.ErrNotSupported):
		fmt.Fprintln(f.Err, "warning: could not check the lifecycle rule: NotImplemented")
	case err != nil:
		fmt.Fprintf(f.Err, "warning: could not check the lifecycle rule: %s\n", oneLine(codeOr(err, err.Error())))
	case !aborts:
		fmt.Fprintln(f.Err, "warning: no lifecycle rule aborts incomplete multipart uploads in this bucket;")
		fmt.Fprintln(f.Err, "hint: interrupted uploads go on costing money until aborted: see 'AWS setup' in the README")
	}
}

// warnForeign warns, at init with a new master key, when the bucket
// already holds objects under the profile's prefix: none of them can be
// this key's, and a user who lost their profile needs init --recover, not
// init, to read their archives again.
func warnForeign(ctx context.Context, f *Factory, s object.Store, p *profile.Profile) {
	var fg archive.Foreign
	err := withKey(p, func(master []byte) error {
		var err error
		fg, err = archive.CountForeign(ctx, s, master, foreignCountLimit)
		return err
	})
	if err != nil {
		msg, _ := explain(err)
		fmt.Fprintf(f.Err, "warning: could not count the objects already in the bucket: %s\n", oneLine(msg))
		return
	}
	for _, line := range foreignLines(fg, p) {
		fmt.Fprintln(f.Err, line)
	}
}

// withKey opens p's master key for fn only.
func withKey(p *profile.Profile, fn func(master []byte) error) error {
	buf, err := p.MasterKey.Open()
	if err != nil {
		return err
	}
	defer buf.Destroy()
	return fn(buf.Bytes())
}

// foreignLines words what a bucket holds that a new key cannot read.
// Archives of another key get the strong wording, with the way back to
// them; other objects a milder one.
func foreignLines(fg archive.Foreign, p *profile.Profile) []string {
	n := fg.Unreadable()
	if n == 0 {
		return nil
	}
	where := "bucket " + oneLine(p.Bucket)
	if prefix := object.KeyPrefix(p.Prefix); prefix != "" {
		where += " under prefix " + oneLine(prefix)
	}
	var lines []string
	if fg.Ogive > 0 {
		lines = append(lines, fmt.Sprintf("warning: %s holds %s that this new master key cannot read", where, countOf(fg.Ogive, fg.Capped, "ogive archive")),
			"hint: if they are yours, this new profile will never read them: move it aside, then rebuild your old one with 'ogive init --recover' and its recovery sheet, or restore its backup copy")
	}
	prefixes := slices.Sorted(maps.Keys(fg.Nested))
	prefixes = slices.DeleteFunc(prefixes, func(k string) bool { return fg.Nested[k] <= 0 })
	if len(prefixes) > 0 {
		var parts []string
		for i, k := range prefixes {
			if i == 5 {
				parts = append(parts, "…")
				break
			}
			n := fmt.Sprint(fg.Nested[k])
			if fg.Capped {
				n = "at least " + n
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", oneLine(k), n))
		}
		lines = append(lines, "warning: ogive archives sit under other prefixes in "+where+": "+strings.Join(parts, ", "),
			"hint: a profile reads only its own prefix: if they are yours, give that prefix with --prefix (to 'ogive init --recover' as well)")
	}
	if fg.Other > 0 {
		lines = append(lines, fmt.Sprintf("note: %s holds %s, not ogive archives", where, countOf(fg.Other, fg.Capped, "other object")))
	}
	return lines
}

// noteForeign tells, on one line of stderr, that list found no archive of
// this profile where the bucket holds objects it cannot read: backups that
// look gone are often another profile's (a new key made by init instead of
// init --recover) or under another prefix.
func noteForeign(f *Factory, p *profile.Profile, fg archive.Foreign) {
	n := fg.Unreadable()
	if fg.Ours > 0 || n == 0 {
		return
	}
	where := "bucket " + oneLine(p.Bucket)
	if prefix := object.KeyPrefix(p.Prefix); prefix != "" {
		where += " under prefix " + oneLine(prefix)
	}
	ogive := n - fg.Other
	line := fmt.Sprintf("note: no archive of this profile, but %s holds %s it cannot read", where, plural(n, "object"))
	if ogive > 0 {
		line += fmt.Sprintf(", %d of them ogive archives of another master key or prefix ('ogive init --recover' rebuilds a lost profile)", ogive)
	}
	fmt.Fprintln(f.Err, line)
}

// countOf is plural's count, as a lower bound when counting stopped early.
func countOf(n int, capped bool, what string) string {
	if capped {
		return "at least " + plural(n, what)
	}
	return plural(n, what)
}
