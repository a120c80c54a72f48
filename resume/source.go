package resume

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// sampleBlocks and sampleSize set how much of a block device is hashed to
// recognise it again: 64 blocks of 4 KiB spread over the device, enough to
// notice a device that was rewritten or swapped for another of equal size.
const (
	sampleBlocks = 64
	sampleSize   = 4096
)

// Identify describes the source f, opened from path, of size bytes.
func Identify(path string, f *os.File, size int64) (Source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Source{}, err
	}
	st, err := f.Stat()
	if err != nil {
		return Source{}, err
	}
	src := Source{Path: abs, Size: size}
	src.Inode, src.Dev = fileID(f, st)
	if st.Mode().IsRegular() {
		src.MTime = st.ModTime().UTC()
		return src, nil
	}
	src.Sample, err = sample(f, size)
	if err != nil {
		return Source{}, fmt.Errorf("sample %s: %w", path, err)
	}
	return src, nil
}

func sample(r io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	buf := make([]byte, sampleSize)
	for i := int64(0); i < sampleBlocks; i++ {
		off := size / sampleBlocks * i
		n, err := r.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return "", err
		}
		h.Write(buf[:n])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
