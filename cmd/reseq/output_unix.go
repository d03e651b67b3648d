//go:build unix

package main

import (
	"os"
	"syscall"
)

// openFile is os.OpenFile for a stream file without the runtime poller:
// os.OpenFile tries to register every file with it (an epoll_ctl that fails
// for a regular file and three fcntl calls around it); a file made by
// os.NewFile from a blocking descriptor costs one fcntl. The writes are plain
// blocking pwrite calls either way.
//
// A symbolic link is never followed (O_NOFOLLOW): an output file is never
// written through a link found in the output directory (see createOutput).
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	for {
		fd, err := syscall.Open(name, flag|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, uint32(perm.Perm()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}
