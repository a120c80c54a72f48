package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
)

type getOptions struct {
	output string
	force  bool
}

func newGetCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &getOptions{}
	c := &cobra.Command{
		Use:   "get <storage-id> <directory>",
		Short: "Download and decrypt an archive under its original name",
		Long: `Download an archive, check its authenticity and decrypt it into <directory> under its
original file name, or under --output. The file appears under its final name only after
every byte has authenticated; until then it is a hidden temporary file in the same
directory. An existing file is never replaced without --force. If the destination is a
block device, the archive is written into it after checking that it is large enough.
A directory of "-" writes the plaintext to stdout.

The archive must have been restored first (see "ogive restore" and "ogive head"); if it is
not, get exits with status 2.`,
		Example: `  ogive get 5PqBqHILQoIckevFn5EbXX1yGrgXIgAY2UvWT5ruYD ~/restored
  ogive get ID /dev --output sdg
  ogive get ID - | tar x`,
		Args: exactArgs(2, "a storage ID and a destination directory"),
		RunE: func(c *cobra.Command, args []string) error {
			return runGet(c.Context(), f, g, o, args[0], args[1])
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "", "file name to write instead of the original one")
	c.Flags().BoolVar(&o.force, "force", false, "replace an existing file")
	return c
}

func runGet(ctx context.Context, f *Factory, g *globalOptions, o *getOptions, id, dir string) error {
	if dir != "-" {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("destination: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("destination %s is not a directory", dir)
		}
	}
	s, err := f.openSession(ctx, g, false)
	if err != nil {
		return err
	}
	buf, err := s.profile.MasterKey.Open()
	if err != nil {
		return err
	}
	name, keys, err := crypt.OpenID(buf.Bytes(), id)
	buf.Destroy()
	if err != nil {
		return fmt.Errorf("storage ID %s: %w", id, err)
	}
	defer keys.Destroy()

	if dir == "-" {
		_, err := archive.Download(ctx, s.store, keys, id, f.Out)
		return err
	}

	out := name
	if o.output != "" {
		out = o.output
	} else if err := archive.SafeName(name); err != nil {
		return err
	}
	path := filepath.Join(dir, out)
	t, err := archive.NewTarget(path, o.force)
	if err != nil {
		return err
	}
	if t.Device() {
		info, err := s.store.Head(ctx, id)
		if err == nil {
			var size int64
			if size, err = crypt.DecryptedSize(info.Size); err == nil {
				err = t.CheckSize(size)
			}
		}
		if err != nil {
			t.Abort()
			return err
		}
	}
	n, err := archive.Download(ctx, s.store, keys, id, t.Writer())
	if err != nil {
		t.Abort()
		return err
	}
	if err := t.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(f.Err, "Downloaded %s as %s (%s)\n", name, path, formatSize(n))
	return nil
}
