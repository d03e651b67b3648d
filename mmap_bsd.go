//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package reseq

// adviseSequential does nothing here: the default read-ahead is used.
func adviseSequential(b []byte) {}
