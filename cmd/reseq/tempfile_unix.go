//go:build unix

package main

import (
	"os"
	"syscall"
)

// unlinkOpen: an open file can be unlinked and used on.
const unlinkOpen = true

var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// stdinPipe: standard input can be copied into a pollable pipe (see
// interruption.pollableStdin).
const stdinPipe = true
