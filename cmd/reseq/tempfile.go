package main

import (
	"os"
	"os/signal"
	"sync"
)

// newTempFile creates a temporary file (os.CreateTemp) that is gone however
// the process ends. On Unix it is unlinked at once: its descriptor keeps it
// readable and writable, and the kernel frees it at the last close, also on a
// signal or a crash. Where an open file cannot be unlinked (Windows), it is
// removed by the function returned (call it when done) or, on an interrupt,
// by a handler that then exits with status 130.
func newTempFile(dir, pattern string) (*os.File, func(), error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, nil, err
	}
	return f, forgetOnExit(f), nil
}

// forgetOnExit makes the file f (just created) go away however the process
// ends (see newTempFile) and returns the function that closes and removes it.
func forgetOnExit(f *os.File) func() {
	name := f.Name()
	if unlinkOpen && os.Remove(name) == nil {
		return func() { f.Close() }
	}
	tempFiles.add(name)
	return func() {
		f.Close()
		os.Remove(name)
		tempFiles.remove(name)
	}
}

// tempFiles are the temporary files to remove on an interrupt.
var tempFiles = &tempSet{names: map[string]struct{}{}}

type tempSet struct {
	mu      sync.Mutex
	names   map[string]struct{}
	handler bool
}

func (t *tempSet) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.names[name] = struct{}{}
	if !t.handler {
		t.handler = true
		c := make(chan os.Signal, 1)
		signal.Notify(c, interruptSignals...)
		go func() {
			for range c {
				if gracefulInterrupts.Load() > 0 {
					continue // the run stops and removes them (see interrupt.go)
				}
				t.removeAll()
				os.Exit(130)
			}
		}()
	}
}

// removeAll removes every temporary file left, for an exit on a signal: it
// keeps the lock, so that no new one is made before the exit.
func (t *tempSet) removeAll() {
	t.mu.Lock()
	for n := range t.names {
		os.Remove(n)
	}
}

func (t *tempSet) remove(name string) {
	t.mu.Lock()
	delete(t.names, name)
	t.mu.Unlock()
}
