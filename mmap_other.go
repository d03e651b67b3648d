//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package reseq

import "os"

// mapFile is not available on this system: files are read.
func mapFile(f *os.File, size int64) ([]byte, func(), bool) { return nil, nil, false }
