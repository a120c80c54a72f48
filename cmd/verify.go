package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/progress"
)

// errNoPartChecksums means the store cannot report part checksums; the S3
// store always can, so only an unusual store injected in tests lacks it.
var errNoPartChecksums = errors.New("the store cannot report part checksums")

type verifyOptions struct{}

func newVerifyCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &verifyOptions{}
	return &cobra.Command{
		Use:   "verify <storage-id> <file|directory>",
		Short: "Check that an archive holds a local file, without restoring or downloading it",
		Long: `Check that the archive <storage-id> holds exactly <file>, without restoring or
downloading anything, so it works on archives in Deep Archive and costs no retrieval.

ogive encrypts the file again with the archive's own keys (a function of its salt, so the
same file gives the very bytes that were uploaded), cuts the result at the sizes of the
object's parts and compares each part's CRC-32C with the checksum S3 stored when the part
was uploaded (GetObjectAttributes), and the object's ETag with the one S3 computes from the
parts' MD5s. A CRC-32C catches accidents, but anyone who can write to the bucket can make
other bytes match it; the ETag they cannot. On buckets whose ETags are not MD5s (SSE-KMS or
SSE-C encryption) only the CRC-32Cs are compared, and verify says so. <file> may be a
regular file, a block device, or "-" for standard input, which then cannot carry the
password.

A directory is checked against a directory archive's index (no restore either): every
entry's kind, size, link target and the SHA-256 of every file's content; the first entry
that differs, is missing or is extra is named, in the archive's order. When the tree's modes,
times and owners are the archive's too, its tar stream is then encrypted again and compared
with the parts' checksums as for a file; otherwise verify says which entry keeps it from
doing so (a tree extracted by "ogive get" gets modes less the umask, and no owner).

Exit status 0 when every part matches, 1 on a mismatch (the message names the first part
that differs and the bytes of the file it covers) or on any other error. Archives written
by the 2019 ogive cannot be verified this way: restore them and compare with
'ogive get ID - | cmp - FILE'.

` + idHelp,
		Args: exactArgs(2, "a storage ID and a file or directory"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkIDs(args[0]); err != nil {
				return err
			}
			return runVerify(c.Context(), f, g, o, args[0], args[1])
		},
	}
}

func runVerify(ctx context.Context, f *Factory, g *globalOptions, _ *verifyOptions, id, path string) error {
	if isDir(path) {
		return verifyTree(ctx, f, g, id, path)
	}
	src, size := f.In, int64(-1)
	stdin := path == "-"
	if !stdin {
		// Checked before the password is asked for, so a typo fails fast.
		file, n, err := openSource(path)
		if err != nil {
			return err
		}
		defer file.Close()
		src, size = file, n
	}
	s, err := f.openSession(ctx, g, stdin)
	if err != nil {
		return err
	}
	checksums, ok := s.store.(object.PartChecksummer)
	if !ok {
		return fmt.Errorf("verify %s: %w", id, errNoPartChecksums)
	}
	a, err := s.identify(ctx, id)
	if err != nil {
		return err
	}
	id = a.ID // in full, if a prefix was given
	keys, err := s.keys(a)
	if err != nil {
		return err
	}
	defer keys.Destroy()

	tr := progress.Start(f.Err, progress.Options{
		Label: "verify " + printable(a.Name),
		Total: size,
		Bar:   f.ErrIsTerminal,
		Width: f.errColumns(),
		// The verdict goes to stdout; the bar's summary line would repeat it.
		Quiet: g.quiet,
	})
	v, err := archive.Verify(ctx, checksums, a, keys, src, size, archive.VerifyOptions{OnBytes: tr.Add})
	tr.Stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(f.Out, "verified: %s matches %s (%s, %s, %s)\n", printable(path), id, printable(a.Name), formatSize(v.Size), plural(v.Parts, "part"))
	if !v.ByETag {
		fmt.Fprintln(f.Err, "warning: the bucket's ETags are not MD5s (SSE-KMS or SSE-C), so only the parts' CRC-32Cs were compared: they catch damage, not a deliberate replacement; only 'ogive get' proves the archive")
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
