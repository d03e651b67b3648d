package fuzz

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseq/reseq/internal/testshared"

	"github.com/reseq/reseq"
)

// layersShared returns ../shared beside the repository root (found by walking
// up to go.work), skipping the test when it is absent.
func layersShared(tb testing.TB) string {
	tb.Helper()
	return testshared.Dir(tb, "")
}

// layersFrame is one captured frame; data is valid until the next frame.
type layersFrame struct {
	linkType uint32
	data     []byte
	origLen  int
}

// layersOpen opens a capture with reseq.Open (any format and compression); ok
// is false for files that are not captures.
func layersOpen(tb testing.TB, path string) (next func() (layersFrame, error), closeFn func(), ok bool) {
	r, err := reseq.Open(path)
	if err != nil {
		return nil, nil, false
	}
	return func() (layersFrame, error) {
		p, err := r.Next()
		return layersFrame{p.LinkType, p.Data, p.Length}, err
	}, func() { r.Close() }, true
}

// layersEachFrame calls fn with every frame of every capture under the
// given directories of ../shared and returns the number of files read.
func layersEachFrame(t *testing.T, dirs []string, fn func(file string, i int, f layersFrame)) int {
	shared := layersShared(t)
	files := 0
	for _, d := range dirs {
		root := filepath.Join(shared, d)
		err := filepath.WalkDir(root, func(path string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			next, closeFn, ok := layersOpen(t, path)
			if !ok {
				return nil
			}
			defer closeFn()
			files++
			rel, _ := filepath.Rel(shared, path)
			for i := 0; ; i++ {
				fr, err := next()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Logf("%s: stops after %d packets: %v", rel, i, err)
					}
					break
				}
				fn(filepath.ToSlash(rel), i, fr)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}
