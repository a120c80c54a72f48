package main

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// member is one file of a release archive: its path below the archive's
// top directory, its bytes and whether it is executable.
type member struct {
	name string
	data []byte
	exec bool
}

// tree lists the members below top and the directories that hold them,
// in byte order of their full names, so every archive lists its entries in
// one order whatever order they were staged in.
func tree(top string, members []member) (dirs []string, files []member) {
	seen := map[string]bool{top + "/": true}
	dirs = []string{top + "/"}
	for _, m := range members {
		full := top + "/" + m.name
		for d := path.Dir(full); d != top; d = path.Dir(d) {
			if !seen[d+"/"] {
				seen[d+"/"] = true
				dirs = append(dirs, d+"/")
			}
		}
		files = append(files, member{name: full, data: m.data, exec: m.exec})
	}
	sort.Strings(dirs)
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return dirs, files
}

// entries merges dirs and files into one sorted list of names, a directory
// before what it holds.
func entries(dirs []string, files []member) []member {
	all := make([]member, 0, len(dirs)+len(files))
	for _, d := range dirs {
		all = append(all, member{name: d})
	}
	all = append(all, files...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].name < all[j].name })
	return all
}

// mode is the permission bits of an entry: what unpacking needs, and
// nothing taken from the machine that built it.
func mode(m member) int64 {
	switch {
	case strings.HasSuffix(m.name, "/"), m.exec:
		return 0o755
	default:
		return 0o644
	}
}

// writeTarGz writes a gzipped tar of members below top. Its bytes depend
// only on the arguments: entries in byte order, every time mtime, owner
// 0:0 without names, no gzip name or time, and a fixed compression level.
func writeTarGz(w io.Writer, top string, members []member, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, m := range entries(tree(top, members)) {
		h := &tar.Header{
			Name:    m.name,
			Mode:    mode(m),
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if strings.HasSuffix(m.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(m.data))
		}
		// Names this short fit ustar; asking for PAX only lets one longer
		// than 100 bytes through, and writes no record otherwise.
		if len(m.name) <= 100 {
			h.Format = tar.FormatUSTAR
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar %s: %w", m.name, err)
		}
		if _, err := tw.Write(m.data); err != nil {
			return fmt.Errorf("tar %s: %w", m.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// writeZip writes a zip of members below top, for Windows, under the same
// rules as writeTarGz. Zip stores times in local MS-DOS form; mtime is
// written as UTC so the build machine's zone does not leak in.
func writeZip(w io.Writer, top string, members []member, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	for _, m := range entries(tree(top, members)) {
		h := &zip.FileHeader{Name: m.name, Modified: mtime.UTC(), Method: zip.Deflate}
		if strings.HasSuffix(m.name, "/") {
			h.Method = zip.Store
		}
		h.SetMode(fileMode(m))
		f, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("zip %s: %w", m.name, err)
		}
		if _, err := f.Write(m.data); err != nil {
			return fmt.Errorf("zip %s: %w", m.name, err)
		}
	}
	return zw.Close()
}

// fileMode is mode as a Go file mode, with the directory bit zip needs.
func fileMode(m member) fs.FileMode {
	fm := fs.FileMode(mode(m))
	if strings.HasSuffix(m.name, "/") {
		fm |= fs.ModeDir
	}
	return fm
}
