// Package testshared finds, for tests, the repository root (the directory
// holding go.work) and the shared capture collection beside it (../shared:
// corpus, real, bench). Tests that need it skip cleanly when it is absent.
package testshared

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Root returns the repository root: the nearest directory at or above the
// working directory that holds go.work.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.work above the working directory")
		}
		dir = up
	}
}

// RootTB is Root for a test: it skips the test when there is no root.
func RootTB(tb testing.TB) string {
	tb.Helper()
	root, err := Root()
	if err != nil {
		tb.Skip(err)
	}
	return root
}

// Dir returns ../shared/sub beside the repository root (sub may be ""), and
// skips the test when it is absent.
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	p := filepath.Join(RootTB(tb), "..", "shared", sub)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s absent", p)
	}
	return p
}

// Decompress returns b decompressed when it is gzip or zstd (corpus files are
// stored either way), else b itself. It fails the test on a broken stream.
func Decompress(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var r io.Reader
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			tb.Fatal(err)
		}
		r = zr
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			tb.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		return b
	}
	out, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
