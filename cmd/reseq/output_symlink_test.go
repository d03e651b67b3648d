package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestForceNoSymlinks: with --force, links already in the output directory
// (named like the index, a stream, a body, the bodies directory) are
// replaced by what is written, never written through: nothing appears or
// changes outside the directory. They used to be followed, exit 0.
func TestForceNoSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	requireAssembler(t)
	capt := filepath.Join("..", "..", "testdata", "sample.pcap")
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	// First runs with no links: the names written.
	plain := filepath.Join(base, "plain")
	if code, _, stderr := runReseq("extract", "-o", plain+"-x", "--quiet", capt); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runReseq("http", "-o", plain+"-h", "--quiet", "--decode", capt); code != 0 {
		t.Fatal(stderr)
	}
	for _, tc := range []struct {
		cmd  string
		deep bool // link the files inside bodies/ rather than bodies/
	}{{"extract", false}, {"http", false}, {"http", true}} {
		cmd := tc.cmd
		src := plain + "-x"
		if cmd == "http" {
			src = plain + "-h"
		}
		out := filepath.Join(base, fmt.Sprint(cmd, tc.deep))
		if err := os.Mkdir(out, 0o755); err != nil {
			t.Fatal(err)
		}
		var links []string
		filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || p == src {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if tc.deep && d.IsDir() {
				return os.Mkdir(filepath.Join(out, rel), 0o755)
			}
			if !tc.deep && filepath.Dir(rel) != "." {
				return nil // inside bodies/, a link itself
			}
			target := filepath.Join(outside, fmt.Sprint(cmd, tc.deep, "-", filepath.Base(rel)))
			if err := os.Symlink(target, filepath.Join(out, rel)); err != nil {
				t.Fatal(err)
			}
			links = append(links, rel)
			if d.IsDir() {
				os.Mkdir(target, 0o755)
				return filepath.SkipDir
			}
			return nil
		})
		if len(links) < 2 || tc.deep && len(links) < 3 {
			t.Fatalf("%s: only %v to link", cmd, links)
		}
		args := []string{cmd, "-o", out, "--force", "--quiet", capt}
		if cmd == "http" {
			args = append(args, "--decode")
		}
		code, _, stderr := runReseq(args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", cmd, code, stderr)
		}
		for _, rel := range links {
			fi, err := os.Lstat(filepath.Join(out, rel))
			if err != nil || fi.Mode()&os.ModeSymlink != 0 {
				t.Errorf("%s: %s is still a link (%v)", cmd, rel, err)
			}
		}
	}
	var found []string
	filepath.WalkDir(outside, func(p string, d os.DirEntry, err error) error {
		if p != outside && !d.IsDir() {
			found = append(found, p)
		}
		return nil
	})
	if len(found) > 0 {
		t.Errorf("written outside the output directory: %v", found)
	}
}
