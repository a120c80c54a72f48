package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/dirarchive"
	"github.com/ogive-project/ogive/dirindex"
	"github.com/ogive-project/ogive/extract"
	"github.com/ogive-project/ogive/input"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
	"github.com/ogive-project/ogive/resume"
	"github.com/ogive-project/ogive/tree"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1
	exitNotReady    = 2   // head: not downloadable yet; get: not restored
	exitInterrupted = 130 // SIGINT, SIGTERM, SIGHUP or SIGQUIT, as shells report SIGINT
)

// usageError marks a command line that cannot be run as typed.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

func isCobraUsageError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") ||
		strings.HasPrefix(msg, "invalid argument") ||
		strings.HasPrefix(msg, "flag needs an argument") ||
		strings.Contains(msg, "arg(s)")
}

// errNotReady reports a state rather than a failure: the object exists but
// cannot be downloaded yet. Commands that return it have already said why.
var errNotReady = errors.New("not ready")

// errWaitTimeout means --wait gave up at --timeout while a restore was
// still running: not a failure, the archive is just not ready yet.
var errWaitTimeout = errors.New("timed out waiting for the restore")

// errEarlyDeletion means rm refused to delete an archive younger than its
// storage class's minimum duration without --force.
var errEarlyDeletion = errors.New("archive younger than its minimum storage duration")

// report prints err for a person, on one line with an optional hint, and
// returns the exit code that goes with it.
func report(w io.Writer, err error) int {
	if errors.Is(err, errNotReady) {
		return exitNotReady
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "ogive: interrupted")
		if kept := keptNote(err); kept != "" {
			fmt.Fprintf(w, "hint: %s\n", oneLine(kept))
		}
		return exitInterrupted
	}
	var ambiguous *ambiguousIDError
	if errors.As(err, &ambiguous) {
		reportAmbiguous(w, ambiguous)
		return exitError
	}
	msg, hint := explain(err)
	// Errors carry text from servers, proxies and file names.
	fmt.Fprintf(w, "ogive: %s\n", oneLine(msg))
	if hint != "" {
		fmt.Fprintf(w, "hint: %s\n", oneLine(hint))
	}
	if errors.Is(err, object.ErrNotRestored) || errors.Is(err, errWaitTimeout) {
		return exitNotReady
	}
	return exitError
}

// explain words an error chain for the user. The error text already carries
// the context the packages wrapped around it; the hint says what to do.
func explain(err error) (msg, hint string) {
	msg = err.Error()
	var netErr *net.OpError
	var pwPerm *input.PermissionError
	var unsafeDir *resume.UnsafeDirError
	var spared *sparedError
	var dest *destinationError
	var check *checkError
	var connect *object.ConnectError
	var region *object.RegionError
	switch {
	case errors.As(err, &dest):
		hint = dest.hint()
	case errors.Is(err, errTerminalOut):
		hint = "redirect stdout (ogive get ID - > file), or give a directory to write into"
	case errors.As(err, &check):
		hint = check.hint
	case errors.As(err, &connect):
		// The operations wrapped around it say nothing a user can act on.
		msg = connect.Error()
		hint = connectHint(connect) + "; 'ogive profile show' shows the profile's endpoint"
	case errors.As(err, &region):
		hint = "set the bucket's region in the profile: ogive init --reinit --region " + region.Region
	case errors.Is(err, profile.ErrWrongPassword):
		hint = "the password does not open this profile; check --profile and try again"
	case errors.Is(err, profile.ErrPermissions):
		hint = "the profile holds your master key: make it private with chmod 600"
	case errors.As(err, &pwPerm):
		hint = "the password file must be private to you: chmod 600 " + shellWord(pwPerm.Path)
	case errors.Is(err, errNoProfilePath):
		hint = "set HOME, or give the profile with --profile or OGIVE_PROFILE"
		if runtime.GOOS == "windows" {
			hint = "set USERPROFILE, or give the profile with --profile or OGIVE_PROFILE"
		}
	case errors.Is(err, profile.ErrNotExist):
		hint = "run 'ogive init' to create a profile, or 'ogive init --recover' to rebuild it from its recovery sheet, or choose one with --profile"
	case errors.Is(err, profile.ErrExists):
		hint = "use 'ogive init --reinit' to change its password or AWS keys"
	case errors.Is(err, profile.ErrCorrupt):
		hint = "restore the profile from your backup copy (a reinit leaves <profile>.bak)"
	case errors.Is(err, profile.ErrUnsupported):
		hint = "this profile was written by a newer or different program"
	case errors.Is(err, input.ErrTooShort):
		hint = fmt.Sprintf("choose a password of at least %d bytes", input.MinPasswordLen)
	case errors.Is(err, input.ErrEmpty):
		hint = "give the profile's password: check what --password-file, --password-command or stdin supply"
	case errors.Is(err, input.ErrNoTerminal):
		hint = "pipe the password on stdin, or use --password-file or --password-command"
	case errors.Is(err, crypt.ErrAuthentication):
		hint = "the archive was modified or damaged, or belongs to another master key; nothing was written under the final name"
	case errors.Is(err, crypt.ErrNotOgive):
		hint = "this is not a storage ID of this profile; 'ogive list' shows yours"
	case errors.Is(err, crypt.ErrNameTooLong):
		hint = "choose a shorter name with --name"
	case errors.Is(err, dirarchive.ErrDiffers):
		hint = "the directory is not the tree archived under this ID: the message names the first entry that differs"
	case errors.Is(err, dirarchive.ErrNoIndex):
		hint = "someone deleted the archive's index: 'ogive get' still extracts the whole tree from the archive itself once it is restored"
	case errors.Is(err, dirarchive.ErrIndexMismatch), errors.Is(err, dirindex.ErrDamaged):
		hint = "the index object was replaced or damaged by someone with access to the bucket; 'ogive get' still extracts the whole tree from the archive itself"
	case errors.Is(err, dirarchive.ErrNotTree):
		hint = "this archive holds a single file: 'ogive get' downloads it"
	case errors.Is(err, extract.ErrUnsafePath):
		hint = "the archive holds a path that would land outside the destination; nothing was written there"
	case errors.Is(err, extract.ErrExists):
		hint = "nothing was replaced: extract into another directory, or add --force to replace existing files"
	case errors.Is(err, tree.ErrChanged):
		hint = "something wrote to the tree while it was being uploaded: nothing was stored; put it again once nothing does"
	case errors.Is(err, archive.ErrMismatch):
		hint = "this file is not the one archived under this ID: check the ID with 'ogive list', or archive the file again with 'ogive put'"
	case errors.Is(err, archive.ErrLegacyVerify), errors.Is(err, object.ErrNoChecksums):
		hint = "restore the archive and compare instead: ogive get ID - | cmp - FILE"
	case errors.Is(err, profile.ErrSheetTypo):
		hint = "check those lines against the printed sheet, character by character, and try again; nothing was written"
	case errors.Is(err, profile.ErrBadSheet):
		hint = "give every line that 'ogive profile export --paper' printed; the lines starting with # may be left out"
	case errors.Is(err, errWaitTimeout):
		hint = "the restore is still running (Bulk takes up to 48 hours, Standard 12): wait again, with a longer --timeout"
	case errors.Is(err, errEarlyDeletion):
		hint = "nothing was deleted; add --force to delete anyway and pay the early-deletion charge"
	case errors.Is(err, object.ErrNotRestored):
		hint = "run 'ogive restore ID' and wait until 'ogive head ID' prints READY"
	case errors.Is(err, object.ErrExists):
		hint = "another object already holds this storage ID and was left as it is; run the put again"
	case errors.Is(err, object.ErrUnconfirmed):
		hint = "the archive may well be stored under the ID in the message: check with 'ogive list' (and 'ogive verify') before putting the file again, which would store a second copy"
	case errors.Is(err, archive.ErrUploadAborted):
		hint = "nothing was stored: run the put again, and see what aborts unfinished uploads (another S3 client, a lifecycle rule, an 'ogive uploads --abort' that cannot see this machine's state directory)"
	case errors.Is(err, object.ErrNotFound):
		hint = "check the storage ID with 'ogive list'"
	case errors.Is(err, object.ErrCredentials):
		hint = "check the AWS access key in the profile ('ogive init --reinit' changes it)"
	case errors.Is(err, object.ErrAccessDenied):
		hint = "the AWS key lacks a permission: see the IAM policy in the README"
	case errors.Is(err, object.ErrNoSuchBucket):
		hint = "check the bucket name and region in the profile"
	case errors.Is(err, archive.ErrExists):
		hint = "add --force to replace it, or choose another name with --output"
	case errors.Is(err, archive.ErrSymlink):
		hint = "--force replaces the link itself with the file, --output chooses another name; to write into a block device, name the device, not a link to it"
	case errors.Is(err, archive.ErrSpecialFile):
		hint = "choose another name with --output; get writes into block devices only (for a tape or other character device: ogive get ID - > DEVICE)"
	case errors.Is(err, archive.ErrTempChanged):
		hint = "something else wrote to the hidden temporary file during the download; nothing was written under the final name: run get again, into a directory only you can write"
	case errors.Is(err, archive.ErrTempReplaced):
		hint = "someone else changed names in this directory during the download, so the final name may hold their file, not the download (which was emptied): download into a directory only you can write"
	case errors.Is(err, archive.ErrNoDevices):
		hint = "on this system ogive reads and writes regular files only: copy the device to a file, or pipe it in with \"-\" and --name"
	case errors.Is(err, archive.ErrUnsafeName):
		hint = "choose a name to write it under with --output"
	case archive.DiskFull(err):
		hint = "the disk has no room: free some space, or choose another directory (get writes into its destination; a put of stdin spools its parts in the state directory)"
	case errors.Is(err, archive.ErrLongerThanExpected):
		hint = "nothing was stored: give --expected-size at least the stream's size, or leave it out (a stream of unknown size may reach 16.3 TiB)"
	case errors.Is(err, archive.ErrNoSpool):
		hint = "stdin's large parts are spooled to the state directory ($XDG_STATE_HOME/ogive, or ~/.local/state/ogive; on Windows %LocalAppData%\\ogive): give ogive one it can use, or a smaller --expected-size"
	case errors.Is(err, archive.ErrSourceChanged):
		hint = "something wrote to the file while it was being uploaded: put it again once nothing does (a file's upload then starts afresh, under a new salt)"
	case errors.Is(err, object.ErrUnavailable):
		hint = "S3 kept failing or could not be reached, so ogive gave up: check the endpoint in the profile and the network, then try again"
	case errors.As(err, &netErr):
		hint = "the connection to S3 kept failing: check the network, then try again"
	case errors.Is(err, resume.ErrNoStateDir):
		hint = "put records each upload of a file there, so that an interrupted one can resume"
	case errors.As(err, &unsafeDir) && unsafeDir.Owner != unsafeDir.You:
		hint = fmt.Sprintf("if it is yours, chown -R %d %s; if not, set XDG_STATE_HOME to a directory of your own", unsafeDir.You, unsafeDir.Dir)
	case errors.As(err, &unsafeDir):
		hint = "make it private: chmod 700 " + unsafeDir.Dir
	case errors.As(err, &spared):
		hint = "a put is sending it: let it finish, or stop that put first (a file's put then resumes when run again, stdin's does not)"
	case errors.Is(err, resume.ErrBusy):
		hint = "wait until it is done, or stop it: the same command then resumes where it stopped"
	case errors.Is(err, object.ErrInvalidStorageClass):
		hint = "use DEEP_ARCHIVE, GLACIER, or another S3 storage class name"
	}
	if kept := keptNote(err); kept != "" {
		if hint == "" {
			hint = kept
		} else {
			hint += "; " + kept
		}
	}
	return msg, hint
}

// keptPartial marks the error of a download whose authenticated part was
// kept for the next run to resume.
type keptPartial struct {
	err  error
	path string
}

func (k *keptPartial) Error() string { return k.err.Error() }
func (k *keptPartial) Unwrap() error { return k.err }

func keptNote(err error) string {
	var k *keptPartial
	if errors.As(err, &k) {
		return "what was downloaded is kept in " + k.path + ": the same command resumes it"
	}
	return ""
}
