package main

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
)

// signals is a run's view of the process's interrupt signals (SIGINT,
// SIGTERM, SIGHUP on Unix): the temporary files to remove when a signal ends
// the process, and how many runs catch the signals themselves (see
// catchInterrupts), which then stop and remove the files on their own. The
// signals belong to the process: main's env has one signals, a test's env
// its own (env.signals).
//
// Invariant: temps holds the name of every temporary file made through it
// that still exists and could not be unlinked while open; once the handler
// goroutine runs it stays for the process's life.
type signals struct {
	graceful atomic.Int32 // runs catching the signals now

	mu      sync.Mutex
	temps   map[string]struct{}
	handler bool
}

// newTempFile creates a temporary file (os.CreateTemp) that is gone however
// the process ends. On Unix it is unlinked at once: its descriptor keeps it
// readable and writable, and the kernel frees it at the last close, also on a
// signal or a crash. Where an open file cannot be unlinked (Windows), it is
// removed by the function returned (call it when done) or, on an interrupt,
// by a handler that then exits with status 130.
func (sg *signals) newTempFile(dir, pattern string) (*os.File, func(), error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, nil, err
	}
	return f, sg.forgetOnExit(f), nil
}

// forgetOnExit makes the file f (just created) go away however the process
// ends (see newTempFile) and returns the function that closes and removes it.
func (sg *signals) forgetOnExit(f *os.File) func() {
	name := f.Name()
	if unlinkOpen && os.Remove(name) == nil {
		return func() { f.Close() }
	}
	sg.add(name)
	return func() {
		f.Close()
		os.Remove(name)
		sg.remove(name)
	}
}

func (sg *signals) add(name string) {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.temps == nil {
		sg.temps = map[string]struct{}{}
	}
	sg.temps[name] = struct{}{}
	if !sg.handler {
		sg.handler = true
		c := make(chan os.Signal, 1)
		signal.Notify(c, interruptSignals...)
		go func() {
			for range c {
				if sg.graceful.Load() > 0 {
					continue // the run stops and removes them (see interrupt.go)
				}
				sg.removeAll()
				os.Exit(exitInterrupted)
			}
		}()
	}
}

// removeAll removes every temporary file left, for an exit on a signal: it
// keeps the lock, so that no new one is made before the exit.
func (sg *signals) removeAll() {
	sg.mu.Lock()
	for n := range sg.temps {
		os.Remove(n)
	}
}

func (sg *signals) remove(name string) {
	sg.mu.Lock()
	delete(sg.temps, name)
	sg.mu.Unlock()
}
