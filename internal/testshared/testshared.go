// Package testshared finds, for tests, the repository root (the directory
// holding go.work) and the shared capture collection beside it (../shared:
// corpus, real, bench). Tests that need it skip cleanly when it is absent.
package testshared

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
