//go:build !unix

package main

import (
	"fmt"
	"os"
)

// openFile is os.OpenFile (see output_unix.go), refusing a symbolic link
// (checked just before: without O_NOFOLLOW there is no better way here).
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(name); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("is a symbolic link")}
	}
	return os.OpenFile(name, flag, perm)
}
