package cmd

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// A man page must stand on its own: a reader of "man ogive-get" has no
// README at hand. What Cobra makes of a command (synopsis, description,
// flags, examples) lacks the sections such a reader looks for, so they are
// kept here, as data next to the code they describe, and doc/main.go adds
// them to each page. When a command's exit codes, variables, files or JSON
// fields change, change them here too; doc/main_test.go checks that every
// JSON field is described.

// Section is one section of a man page beyond what Cobra writes.
type Section struct {
	Title string // in capitals, as man pages name them: "EXIT STATUS"
	Text  string // paragraphs separated by blank lines, before the items; may be empty
	Items []Item // a tagged list: exit codes, variables, files, fields
}

// Item is one entry of a section's tagged list.
type Item struct {
	Tag  string // what is described: "2", "OGIVE_PROFILE", "restore_expiry (string or null)"
	Text string
}

// The titles of the sections, in the order man-pages(7) gives them.
const (
	SectionExitStatus  = "EXIT STATUS"
	SectionEnvironment = "ENVIRONMENT"
	SectionFiles       = "FILES"
	SectionJSON        = "JSON OUTPUT"
	SectionSecurity    = "SECURITY"
	SectionNotes       = "NOTES"
	SectionPlatforms   = "PLATFORMS"
)

// ManualSections returns the sections to add to c's man page, in order.
func ManualSections(c *cobra.Command) []Section {
	path := c.CommandPath()
	if path == "ogive completion" || strings.HasPrefix(path, "ogive completion ") {
		return []Section{{Title: SectionExitStatus, Items: []Item{
			{"0", "The script, or this help, was printed."},
			exitUsage,
		}}}
	}
	m, ok := manuals[path]
	if !ok {
		return nil
	}
	var secs []Section
	add := func(title, text string, items []Item) {
		if text != "" || len(items) > 0 {
			secs = append(secs, Section{Title: title, Text: text, Items: items})
		}
	}
	add(SectionExitStatus, m.exitText, m.exit)
	add(SectionEnvironment, m.envText, m.env)
	add(SectionFiles, m.filesText, m.files)
	if m.json != nil {
		add(SectionJSON, jsonIntro, JSONFields(m.json))
	}
	add(SectionSecurity, m.security, nil)
	add(SectionNotes, m.notes, nil)
	if p := platformSection(path); p != nil {
		secs = append(secs, *p)
	}
	return secs
}

// manual is what one command's page says beyond Cobra's sections.
type manual struct {
	exitText  string
	exit      []Item
	envText   string
	env       []Item
	filesText string
	files     []Item
	json      any // a value of the type of --json's lines, or nil
	security  string
	notes     string
}

// Exit statuses. The codes are those of errors.go: change both together.
var (
	exitUsage = Item{strconv.Itoa(exitError), "The command line cannot be run as typed: an unknown command or flag, " +
		"a missing or extra argument, or a flag value that is not valid. The message is followed by " +
		"\"hint: run 'ogive --help' for usage\"."}
	exitInterrupt = Item{strconv.Itoa(exitInterrupted), "Interrupted by SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGQUIT. " +
		"ogive prints \"ogive: interrupted\" and stops."}
)

func exitOKItem(text string) Item { return Item{strconv.Itoa(exitOK), text} }

func exitErrorItem(text string) Item {
	if text == "" {
		text = "An error. The message on stderr says what failed, and often what to do on a " +
			"\"hint:\" line below it."
	}
	return Item{strconv.Itoa(exitError), text + " Also for a command line that cannot be run as typed: " +
		"an unknown command or flag, a missing or extra argument, or a flag value that is not valid."}
}

func exitNotReadyItem(text string) Item { return Item{strconv.Itoa(exitNotReady), text} }

// Environment variables.
var (
	envProfile = Item{"OGIVE_PROFILE", "The profile file, when --profile is not given. " +
		"Without it, the profile is $HOME/.ogive."}
	envHome = Item{"HOME", "The default profile is $HOME/.ogive. Without HOME (and without OGIVE_PROFILE " +
		"or --profile) ogive refuses to run rather than use a file in the current directory."}
	envPasswordFile = Item{"OGIVE_PASSWORD_FILE", "A file whose first line is the password, when " +
		"--password-file is not given. It must be private to you (no read or write access for " +
		"group or others), like the profile; a pipe such as <(pass show ogive) is private."}
	envPasswordCommand = Item{"OGIVE_PASSWORD_COMMAND", "A command, run with sh -c (cmd.exe /d /s /c on Windows), whose first line " +
		"of output is the password, when --password-command is not given."}
	envStateHome = Item{"XDG_STATE_HOME", "The state directory is $XDG_STATE_HOME/ogive/uploads, or " +
		"$HOME/.local/state/ogive/uploads when it is not set (an absolute path is required; a relative " +
		"one is ignored). There is no fallback such as /tmp: without either, put refuses files and " +
		"puts standard input without a lock."}
	envAWSChain = Item{"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, " +
		"AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE", "Used only when the profile stores no AWS keys " +
		"(init with an empty key ID, or --no-aws-keys): ogive then finds credentials through the " +
		"standard AWS chain (these variables, the shared config and credentials files, SSO, " +
		"instance roles). Keys stored in the profile always win."}
	envNoNotes = Item{noNotesEnv, "Set to 1 (or true), put prints no notes on what S3 bills, as with " +
		"--no-notes; the bar and the summary lines stay."}
	envAWSRegion = Item{"AWS_REGION", "The region, for a profile that names none."}
	envEndpoint  = Item{"AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3", "The endpoint, for a profile that names " +
		"none (one of the 2019 ogive, say). init always stores an endpoint in the profile, and these do " +
		"not override it."}
	envCABundle = Item{"AWS_CA_BUNDLE", "A file of extra certificate authorities to trust for the " +
		"endpoint's TLS certificate."}
	envProxy = Item{"HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "The proxy to reach the endpoint through, as " +
		"for other programs. The proxy sees the requests of an http endpoint; an https one it only relays."}
)

// envPassword is what every command that opens the profile reads.
var envPassword = []Item{envProfile, envHome, envPasswordFile, envPasswordCommand}

// envS3 is what every command that reaches the bucket reads as well.
var envS3 = []Item{envAWSChain, envAWSRegion, envEndpoint, envCABundle, envProxy}

// envPrices describes the variables of settings, with their defaults.
func envPrices(settings []priceSetting) []Item {
	items := make([]Item, 0, len(settings))
	for _, s := range settings {
		def := *s.field(&defaultPrices)
		items = append(items, Item{s.env, fmt.Sprintf("%s (default %s), when --%s is not given.",
			s.usage, strconv.FormatFloat(def, 'f', -1, 64), s.flag)})
	}
	return items
}

// pricesText introduces the price variables.
var pricesText = fmt.Sprintf("The prices of cost estimates default to the %s prices of %s; prices vary "+
	"by region and over time, so check them for your bucket. A price variable that is not a number of "+
	"zero or more is an error, and estimates made with prices other than the defaults say \"your prices\".",
	pricesRegion, pricesAsOf)

func concat(lists ...[]Item) []Item {
	var all []Item
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

// Files.
var (
	fileProfile = Item{"$HOME/.ogive", "The profile (or the file that --profile or OGIVE_PROFILE names): " +
		"the master key, the AWS keys if stored, the bucket, region, endpoint and key prefix, all sealed " +
		"with the password (Argon2id and XChaCha20-Poly1305). It must be private to you (mode 0600): " +
		"ogive refuses one that group or others have any access to. Losing it, or its password, loses " +
		"every archive unless you keep a paper recovery sheet (ogive profile export --paper)."}
	fileBak = Item{"<profile>.bak", "The previous profile, kept by init --reinit. It opens with the " +
		"previous password and holds the same master key: delete it once the new profile works if the " +
		"old password may be known to someone else."}
	fileStateDir = Item{"$XDG_STATE_HOME/ogive/uploads/", "The state directory (or " +
		"$HOME/.local/state/ogive/uploads/). It must belong to you and be writable by nobody else " +
		"(ogive creates it with mode 0700), or ogive refuses to use it. It holds, per upload of a " +
		"file under way or interrupted, a record " +
		"named after a hash of the bucket, prefix and file path (<hex>.json: the bucket, prefix, " +
		"storage ID, upload ID, part size, storage class, the file's path, size, modification time " +
		"and inode, and a digest of each part sent, authenticated with a key derived from the master " +
		"key; nothing secret), and the lock files that keep two ogives from sending the same upload " +
		"(<hex>.lock for a file, <hex>.id.lock for standard input). A record that does not " +
		"authenticate is never used."}
	filePartial = Item{"<directory>/.<name>.ogive-partial", "While get downloads <name> into " +
		"<directory>: the hidden temporary file (mode 0600) that becomes <name> once every byte has " +
		"authenticated. For names over 225 bytes it is .ogive-partial-<32 hex digits> instead. " +
		"An interrupted download leaves it behind for the same command to resume."}
	filePartialRecord = Item{"<directory>/.<name>.ogive-partial.json", "Beside the temporary file: " +
		"which 8 MiB ranges of it are written, each with a MAC under a key derived from the archive's " +
		"keys. A resume uses only the ranges whose MAC still matches."}
	filePartialAside = Item{"<directory>/.<name>.ogive-partial.aside-<8 hex digits>", "A file found under " +
		"the temporary name that is not your own private regular file with one link (planted by another " +
		"user of a shared directory, say), renamed out of the way with a warning; get never uses it. " +
		"Look at it, then delete it."}
	fileTTY = Item{"/dev/tty", "The terminal a password is read from, without echo, when standard input " +
		"is not one to read it from and no password file or command is given."}
)

const passwordText = "The password comes, in this order, from --password-file (or OGIVE_PASSWORD_FILE), " +
	"--password-command (or OGIVE_PASSWORD_COMMAND), standard input when it is not a terminal (its " +
	"first line), and otherwise the terminal, without echo."

const jsonIntro = "With --json, the command prints JSON Lines on stdout: one JSON object per line, " +
	"one line per archive, so the output streams and jq(1) reads it as it comes (jq -s makes an " +
	"array). A name is the exact file name, where the table shows control characters escaped. The field " +
	"names are stable: fields may be added, none will be renamed or removed. The fields:"

var manuals = map[string]manual{
	"ogive": {
		exitText: "Every command exits with one of these statuses; each command's page says which apply to it.",
		exit: []Item{
			exitOKItem("Success. For head, the archive is READY; for verify, the file matches."),
			{strconv.Itoa(exitError), "An error: the message on stderr says what failed, often with a \"hint:\" " +
				"line. For verify, also a file that does not match; for rm, an archive it refused to delete. " +
				"A command line that cannot be run as typed (an unknown command or flag, a missing or extra " +
				"argument, a flag value that is not valid) is an error too."},
			exitNotReadyItem("The archive cannot be downloaded yet: head found it not READY, or get found it " +
				"not restored; with --wait, the wait timed out (--timeout), or found an archive with no " +
				"restore requested."),
			exitInterrupt,
		},
		envText: passwordText + "\n\n" + pricesText,
		env: concat(envPassword, []Item{envStateHome, envNoNotes}, envS3,
			envPrices(putPriceSettings), envPrices(retrievalPriceSettings)),
		files: []Item{fileProfile, fileBak, fileStateDir, filePartial, filePartialRecord, filePartialAside, fileTTY},
		security: "Everything ogive stores is encrypted on your machine before it is sent: the data with a " +
			"key of its own per archive, derived from the master key in the profile, and the file name too. " +
			"Whoever has the profile and its password, or a paper recovery sheet, can decrypt every archive; " +
			"the bucket's owner and the network see neither file names nor contents. Every byte read back is " +
			"authenticated before it is written, so someone who can write to the bucket can destroy an " +
			"archive, never alter it unnoticed.\n\n" +
			"Data (storage IDs, tables, JSON) goes to stdout; messages, progress bars and cost estimates go " +
			"to stderr, and --quiet keeps only errors and warnings there. In human output, control " +
			"characters and Unicode direction controls in file names are shown escaped (\\x1b, \\u202e, a " +
			"backslash as \\\\), so a name cannot rewrite the terminal or forge a row of list; --json prints " +
			"names exactly. On Linux ogive makes itself non-dumpable at start, so other processes of your " +
			"user cannot read its memory, and no core dump is written.",
	},

	"ogive init": {
		exit: []Item{
			exitOKItem("The profile was written, after its bucket answered a listing with its keys, region " +
				"and endpoint (or without that check, with --no-check). A missing lifecycle rule for " +
				"incomplete uploads, or objects in the bucket the new key cannot read, only warn."),
			exitErrorItem("An error, and no profile was written or changed: for example an existing profile " +
				"(init never overwrites one), a bucket that cannot be reached, does not exist, is in " +
				"another region or refuses the keys (the message says which), an endpoint without " +
				"http:// or https://, passwords that differ or are shorter than 8 bytes three times at " +
				"a terminal (once elsewhere), or a recovery sheet with a mistyped line."),
			exitInterrupt,
		},
		envText: "init takes the new password from --password-file, --password-command, standard input or " +
			"the terminal, as other commands take theirs.",
		env: concat(
			[]Item{envProfile, envHome, envPasswordFile, envPasswordCommand,
				{"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY", "When both are set (and --no-aws-keys is not " +
					"given), init still asks for the two keys, in the same order, and offers these as the " +
					"default (the prompt shows the key ID's last 4 characters, never the secret): empty " +
					"answers store them in the profile. They are not offered on --reinit (an empty answer keeps " +
					"the profile's keys), nor when AWS_SESSION_TOKEN is set (temporary keys would not work " +
					"without it: empty answers then store no keys, and the credential chain reads all three). " +
					"With --no-aws-keys, the check of the bucket uses " +
					"the standard AWS credential chain, as ogive(1) describes."}},
			envS3[1:]),
		files: []Item{fileProfile, fileBak, {"--sheet FILE", "With --recover: the recovery sheet, " +
			"as secret as the profile."}},
		security: "The profile is written to a temporary file, mode 0600, and renamed into place, so " +
			"a failure leaves no half-written profile. init never overwrites a profile; --reinit keeps " +
			"the previous one as <profile>.bak, which still opens with the previous password.",
	},

	"ogive put": {
		exit: []Item{
			exitOKItem("Every file was stored; its storage ID (or JSON line) was printed on stdout."),
			exitErrorItem("An error. With several files, put goes on after a file that fails, prints " +
				"the IDs of those stored, and ends with \"N of M uploads failed\"."),
			{strconv.Itoa(exitInterrupted), "Interrupted by SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGQUIT. The upload of a " +
				"file or block device is recorded in the state directory: the same command resumes it. " +
				"Standard input cannot resume."},
		},
		envText: passwordText + " When standard input is the data (put -), the password cannot come " +
			"from it.\n\n" + pricesText,
		env:   concat(envPassword, []Item{envStateHome, envNoNotes}, envS3, envPrices(putPriceSettings)),
		files: []Item{fileProfile, fileStateDir},
		json:  putJSON{},
		notes: "S3 bills Deep Archive objects for at least 180 days of storage, even if they are deleted " +
			"sooner; put says once per run what that minimum comes to for what it stored (GLACIER and " +
			"GLACIER_IR bill 90 days, STANDARD_IA and ONEZONE_IA 30). An upload started and never " +
			"completed is billed as stored data until it is aborted: see ogive-uploads(1).",
	},

	"ogive list": {
		exit:    []Item{exitOKItem("The archives were listed (possibly none)."), exitErrorItem(""), exitInterrupt},
		envText: passwordText,
		env:     concat(envPassword, envS3),
		files:   []Item{fileProfile},
		json:    archiveJSON{},
		notes: "Objects in the bucket that are not archives of this profile's master key are skipped: " +
			"a listing shows only what this profile can decrypt.",
	},

	"ogive restore": {
		exit: []Item{
			exitOKItem("Every archive was handled: a restore requested, or skipped because it needs none " +
				"(already restoring, already restored, or not in an archive class). Each prints its line."),
			exitErrorItem("An error. With several archives, restore goes on after a request that fails " +
				"and ends with \"N of M restore requests failed\"; the other requests stand. With --all " +
				"at a terminal, also the answer no to the question asked after the estimate: nothing is " +
				"sent."),
			exitInterrupt,
		},
		envText: passwordText + "\n\n" + pricesText,
		env:     concat(envPassword, envS3, envPrices(retrievalPriceSettings)),
		files:   []Item{fileProfile},
		json:    restoreJSON{},
		notes: "Before sending anything, restore prints on stderr an estimate of what the requests " +
			"cost. It leaves out the per-object overhead, the S3 Standard storage of the restored copy, " +
			"data transfer out of AWS and taxes: your AWS bill is the authority.",
	},

	"ogive head": {
		exit: []Item{
			exitOKItem("The archive is READY: restored, or stored in a class that needs no restore."),
			exitErrorItem(""),
			exitNotReadyItem("The archive is not READY: DEEPS, RECOV or ?????. With --wait: the wait " +
				"timed out (--timeout), or the archive is archived with no restore requested, which " +
				"no wait would end. The status is printed all the same."),
			{strconv.Itoa(exitInterrupted), "Interrupted by SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGQUIT, for example during --wait."},
		},
		envText: passwordText,
		env:     concat(envPassword, envS3),
		files:   []Item{fileProfile},
		json:    archiveJSON{},
	},

	"ogive get": {
		exit: []Item{
			exitOKItem("The archive was downloaded, every byte authenticated, and is under its final name " +
				"(or was written to stdout)."),
			exitErrorItem("An error, such as an archive that fails authentication (nothing is then written " +
				"under the final name, and the temporary file is removed), an existing file without --force, " +
				"a destination directory that does not exist, or a directory of - when stdout is a " +
				"terminal (get refuses to print binary data there)."),
			exitNotReadyItem("The archive is not restored: run ogive restore and wait until ogive head prints " +
				"READY. With --wait: the wait timed out (--timeout), or the archive is archived with no " +
				"restore requested."),
			{strconv.Itoa(exitInterrupted), "Interrupted by SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGQUIT. What was downloaded " +
				"into a file is kept in the temporary file: the same command resumes it."},
		},
		envText: passwordText,
		env:     concat(envPassword, envS3),
		files:   []Item{fileProfile, filePartial, filePartialRecord, filePartialAside},
		security: "get never writes through a symbolic link: a link under the final name is refused, and " +
			"--force replaces the link itself, never its target. A file appears under its final name only " +
			"after every byte has authenticated; until then it is the hidden temporary file, mode 0600, " +
			"which a resume uses only if it is your own regular file with one link. The archive's " +
			"permission bits, less your umask (never setuid, setgid or sticky), are applied only once the " +
			"final name is checked to hold the file and no other name to: the final name shows 0600 " +
			"for that instant, and no other user can hard-link a file that only you may read. With a directory of -, bytes reach stdout as each range authenticates, so a " +
			"failure part-way leaves a prefix of the file in the pipe, never a forged byte, and exit " +
			"status 1: check it (set -o pipefail in sh). Character devices, pipes and sockets are " +
			"refused as destinations (get ID - > DEVICE writes to one); a block device is written into " +
			"only when named as such, not through a link.",
	},

	"ogive rm": {
		exit: []Item{
			exitOKItem("Every archive was deleted."),
			exitErrorItem("An error. Every ID is checked before anything is deleted: if one is not an " +
				"archive of this profile, or is younger than its storage class's minimum duration and " +
				"--force was not given, nothing is deleted. At a terminal, also the answer no (anything " +
				"but y or yes) to the question rm asks before deleting: nothing is deleted. Without a " +
				"question (--yes, or no terminal), also an ID shortened to fewer than 12 characters: " +
				"nothing is deleted. A deletion that fails stops rm; the archives before it are deleted."),
			exitInterrupt,
		},
		envText: passwordText + "\n\n" + pricesText,
		env:     concat(envPassword, envS3, envPrices(storagePriceSettings)),
		files:   []Item{fileProfile},
		notes: "rm needs s3:DeleteObject, which no other command needs: a key without it cannot delete " +
			"archives. Deletion is for good.\n\n" +
			"rm asks when standard input or standard error is a terminal and /dev/tty opens, so " +
			"\"ogive rm ID 2>>log\" typed at a terminal still asks. The question and the answer go " +
			"through /dev/tty; keys typed before the question appears (a paste of the password and " +
			"more) are discarded, never taken as the answer.",
	},

	"ogive uploads": {
		exit: []Item{
			exitOKItem("The unfinished uploads were listed, or those asked for aborted."),
			exitErrorItem("An error. With --abort, also the answer no to the question asked at a terminal " +
				"(nothing is aborted), an upload left alone because another ogive on " +
				"this machine is sending it, or an ID that names no unfinished upload; the other uploads " +
				"asked for were aborted all the same."),
			exitInterrupt,
		},
		envText: passwordText,
		env:     concat(envPassword, []Item{envStateHome}, envS3),
		files:   []Item{fileProfile, fileStateDir},
		notes: "Only ogives that use the same state directory see each other's locks: an upload that " +
			"an ogive run with another XDG_STATE_HOME (or on another machine) is sending looks " +
			"abandoned, and --abort would end it. A lifecycle rule that aborts incomplete multipart " +
			"uploads after a few days does the same unattended.",
	},

	"ogive ls": {
		exit: []Item{
			exitOKItem("The entries were listed."),
			exitErrorItem("An error: a pattern that matches no entry, an index that is missing, damaged or " +
				"not the archive's (someone with access to the bucket replaced it), or another error."),
			exitInterrupt,
		},
		envText: passwordText,
		env:     concat(envPassword, envS3),
		files:   []Item{fileProfile},
		json:    lsJSON{},
		security: "The index is encrypted with keys derived from the archive's own salt, and names the " +
			"archive inside its encryption: an index altered in any way, moved from another archive, or " +
			"replayed from an older one is refused. Its size tells an observer of the bucket about how " +
			"many entries the archive holds, as the archive's size tells the tree's total size. Paths are " +
			"shown with control characters escaped, as list shows names; --json prints them exactly.",
	},

	"ogive verify": {
		exit: []Item{
			exitOKItem("The file matches the archive: every part's CRC-32C and the ETag."),
			exitErrorItem("The file does not match (the message names the first part that differs and the " +
				"bytes of the file it covers), or another error, such as an archive of the 2019 ogive or " +
				"an object uploaded without CRC-32C checksums, which cannot be verified this way."),
			exitInterrupt,
		},
		envText: passwordText + " When <file> is - the password cannot come from standard input.",
		env:     concat(envPassword, envS3),
		files:   []Item{fileProfile},
		security: "verify compares with the checksums S3 recorded at upload; it does not read the " +
			"stored data. CRC-32C is not a cryptographic hash: someone who can write to the bucket could " +
			"make junk match it, but not also the ETag, S3's MD5 of the parts. On buckets that encrypt " +
			"with SSE-KMS or SSE-C the ETags are not MD5s, and verify warns that it compared the CRC-32Cs " +
			"only. Only get reads and authenticates every byte.",
	},

	"ogive profile": {
		exit: []Item{exitOKItem("The help was printed."), exitUsage},
	},

	"ogive profile show": {
		exit:    []Item{exitOKItem("The settings were printed."), exitErrorItem(""), exitInterrupt},
		envText: passwordText,
		env:     envPassword,
		files:   []Item{fileProfile},
	},

	"ogive profile export": {
		exit:    []Item{exitOKItem("The recovery sheet was printed."), exitErrorItem(""), exitInterrupt},
		envText: passwordText,
		env:     envPassword,
		files:   []Item{fileProfile},
		security: "The sheet holds no AWS key and no password, but it is as secret as the profile: " +
			"whoever reads it can decrypt every archive. Send it to a printer rather than a file, or " +
			"delete the file once printed.",
	},
}

// JSONFields describes the fields of the JSON object v, a struct value, in
// the order they are printed. Names and types come from the struct itself,
// so they cannot drift from it; the meanings come from jsonMeanings, and a
// field without one is described as "undocumented", which the tests refuse.
func JSONFields(v any) []Item {
	var items []Item
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			meaning := jsonMeanings[t.Name()+"."+name]
			if meaning == "" {
				meaning = jsonMeanings[name]
			}
			if meaning == "" {
				meaning = "undocumented"
			}
			items = append(items, Item{name + " (" + jsonType(f.Type) + ")", meaning})
		}
	}
	walk(reflect.TypeOf(v))
	return items
}

// jsonType names the JSON type a Go field is encoded as.
func jsonType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		return jsonType(t.Elem()) + " or null"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	}
	return t.Kind().String()
}

// jsonMeanings describes each JSON field, by name, or by "type.name" where
// one name means different things in different records.
var jsonMeanings = map[string]string{
	"id":           "The storage ID.",
	"name":         "The decrypted file name, exactly as stored.",
	"size":         "The plaintext size in bytes; null when the object's size is not that of a valid archive.",
	"putJSON.size": "The plaintext bytes read and stored.",
	"date":         "The upload time, RFC 3339, in UTC (2026-11-22T18:41:03Z).",
	"mode": "The file's permission bits when it was put, as four octal digits (\"0640\"); absent " +
		"when the archive records none (standard input, block devices, archives of older versions).",
	"mtime": "The file's modification time when it was put, RFC 3339 with nanoseconds, in UTC; " +
		"absent when the archive records none.",
	"storage_class": "The S3 storage class: DEEP_ARCHIVE, GLACIER, STANDARD, ...",
	"status": "DEEPS (archived, no restore requested), RECOV (a restore is in progress), READY " +
		"(restored, or not in an archive class) or ????? (unknown), as in list's table.",
	"state": "The same, in words: archived, restoring, restored, available (not in an archive " +
		"class) or unknown.",
	"restore_expiry": "When the restored copy goes away, RFC 3339, in UTC; null unless state is " +
		"restored (and null when S3 did not say).",
	"restore": "What restore did: requested (a restore was sent), in_progress (one was already " +
		"running), already_restored, not_archived (nothing to restore), extended (with --extend, S3 " +
		"lengthened a finished restore's copy) or unknown (with --all, an archive whose status S3 did " +
		"not make clear, skipped). The other fields are the archive as it stands after the command.",
	"tier": "The retrieval tier asked for: Bulk or Standard.",
	"entries": "For a directory, the entries of its tree (files, directories, links) in the " +
		"archive; absent for a file.",
	"lsJSON.path":  "The entry's path in the archive, starting with the top directory's name, exactly as stored.",
	"lsJSON.type":  "file, dir, symlink or hardlink.",
	"lsJSON.mode":  "The permission bits, with setuid 4000, setgid 2000 and sticky 1000, as four octal digits.",
	"lsJSON.size":  "Bytes of content: files only, 0 for the other types.",
	"lsJSON.mtime": "The modification time, RFC 3339 with nanoseconds, in UTC.",
	"uid":          "The owner's user ID when it was put.",
	"gid":          "The owner's group ID when it was put.",
	"user":         "The owner's user name when it was put; absent when the system had none.",
	"group":        "The owner's group name when it was put; absent when the system had none.",
	"link":         "A symbolic link's target, or the path a hard link links to; absent otherwise.",
	"sha256":       "Files: the SHA-256 of the content, in hex, as sha256sum(1) prints it; absent otherwise.",
}
