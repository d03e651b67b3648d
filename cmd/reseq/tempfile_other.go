//go:build !unix

package main

import "os"

// unlinkOpen: an open file cannot be removed (Windows).
const unlinkOpen = false

var interruptSignals = []os.Signal{os.Interrupt}

const stdinPipe = false
