package reseq

import "syscall"

// adviseSequential tells the kernel the mapping is read from start to end, so
// it reads ahead further.
func adviseSequential(b []byte) { syscall.Madvise(b, syscall.MADV_SEQUENTIAL) }
