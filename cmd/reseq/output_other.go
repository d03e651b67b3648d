//go:build !unix

package main

import "os"

// openFile is os.OpenFile (see output_unix.go).
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}
