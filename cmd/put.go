package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
)

type putOptions struct {
	name         string
	storageClass string
	concurrency  int
}

func newPutCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &putOptions{}
	c := &cobra.Command{
		Use:   "put <file>...",
		Short: "Encrypt and upload files, block devices or stdin",
		Long: `Encrypt each file and upload it to the bucket, by default in the DEEP_ARCHIVE storage
class. A file may be a regular file, a block device (its whole size is read) or "-" for
standard input, which then needs --name. Each new storage ID is printed on stdout, one per
line; progress and messages go to stderr. Putting the same file twice makes two archives.`,
		Example: `  ogive put photos.tar
  echo "$PASSWORD" | ogive put photos.tar
  tar c ~/photos | ogive put --password-file ~/.ogive-pw --name photos.tar -
  sudo ogive put /dev/sdf`,
		Args: minArgs(1, "at least one file to upload"),
		RunE: func(c *cobra.Command, args []string) error {
			return runPut(c.Context(), f, g, o, args)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.name, "name", "", "file name to store for stdin (\"-\")")
	fl.StringVar(&o.storageClass, "storage-class", "DEEP_ARCHIVE", "S3 storage class of the new objects")
	fl.IntVar(&o.concurrency, "concurrency", 4, "parts uploaded at once")
	return c
}

func runPut(ctx context.Context, f *Factory, g *globalOptions, o *putOptions, args []string) error {
	stdin := false
	for _, a := range args {
		if a == "-" {
			if stdin {
				return usagef("stdin (\"-\") can be read only once")
			}
			stdin = true
		}
	}
	if stdin && o.name == "" {
		return usagef("uploading stdin needs --name")
	}
	if o.concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	// Check every source before asking for a password, so a typo fails fast.
	for _, a := range args {
		if a != "-" {
			if _, _, err := openSource(a); err != nil {
				return err
			}
		}
	}

	s, err := f.openSession(ctx, g, stdin)
	if err != nil {
		return err
	}
	failed := 0
	for _, a := range args {
		if err := putOne(ctx, f, s, o, a); err != nil {
			// One file's error is the command's: no summary line after it.
			if errors.Is(err, context.Canceled) || len(args) == 1 {
				return err
			}
			failed++
			report(f.Err, err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d uploads failed", failed, len(args))
	}
	return nil
}

func putOne(ctx context.Context, f *Factory, s *session, o *putOptions, arg string) error {
	src := archive.Source{R: f.In, Name: o.name, Size: -1}
	if arg != "-" {
		file, size, err := openSource(arg)
		if err != nil {
			return err
		}
		defer file.Close()
		src = archive.Source{R: file, Name: filepath.Base(arg), Size: size}
	}
	var id string
	var n int64
	err := s.withMasterKey(func(master []byte) error {
		var err error
		id, n, err = archive.Put(ctx, s.store, master, src, archive.PutOptions{
			StorageClass: o.storageClass,
			Concurrency:  o.concurrency,
			MaxIDLen:     crypt.MaxIDLen - len(s.profile.Prefix),
		})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(f.Out, id)
	fmt.Fprintf(f.Err, "Uploaded %s (%s) as %s\n", src.Name, formatSize(n), id)
	return nil
}

// openSource opens a regular file or block device for reading and returns
// its size.
func openSource(path string) (*os.File, int64, error) {
	// Look before opening: opening a FIFO blocks until something writes to
	// it, and opening some character devices (tapes) has side effects.
	if st, err := os.Stat(path); err == nil {
		m := st.Mode()
		if !m.IsRegular() && !m.IsDir() && (m&os.ModeDevice == 0 || m&os.ModeCharDevice != 0) {
			return nil, 0, notFileOrDevice(path)
		}
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	switch m := st.Mode(); {
	case m.IsRegular():
		return file, st.Size(), nil
	case m&os.ModeDevice != 0 && m&os.ModeCharDevice == 0:
		size, err := unix.IoctlGetInt(int(file.Fd()), unix.BLKGETSIZE64)
		if err != nil {
			file.Close()
			return nil, 0, fmt.Errorf("size of block device %s: %w", path, err)
		}
		return file, int64(size), nil
	case m.IsDir():
		file.Close()
		return nil, 0, fmt.Errorf("%s is a directory; archive it first, e.g. tar c %s | ogive put --name %s.tar -", path, path, filepath.Base(path))
	default:
		file.Close()
		return nil, 0, notFileOrDevice(path)
	}
}

func notFileOrDevice(path string) error {
	return fmt.Errorf("%s is not a regular file or block device; pipe it in with \"-\" and --name", path)
}
