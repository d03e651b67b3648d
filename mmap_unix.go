//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package reseq

import (
	"math"
	"os"
	"syscall"
)

// maxMapSize bounds the files that are mapped: a quarter of the address space
// on 32-bit systems, where a mapping competes with the heap.
const maxMapSize = math.MaxInt / 4

// mapFile maps the regular file f of the given size read-only. It returns
// false (and the caller reads f instead) when the file is empty, too large, or
// the system refuses the mapping.
func mapFile(f *os.File, size int64) ([]byte, func(), bool) {
	if size <= 0 || size > maxMapSize {
		return nil, nil, false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, false
	}
	var data []byte
	var merr error
	if err := rc.Control(func(fd uintptr) {
		data, merr = syscall.Mmap(int(fd), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	}); err != nil || merr != nil {
		return nil, nil, false
	}
	adviseSequential(data)
	return data, func() { syscall.Munmap(data) }, true
}
