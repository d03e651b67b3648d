package main

// SIGINT/SIGTERM (and SIGHUP on Unix) during extract, flows and http: the
// first stops reading, every open stream is closed with the reason
// "interrupted" (bytes held above holes become gaps of that reason), the
// index and the summary are written in full, the progress line is cleared,
// and the command exits with status 130. A second signal exits at once.

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"github.com/reseq/reseq/tcpasm"
)

// exitInterrupted is the exit status after an interrupt (128 + SIGINT, as
// shells report it).
const exitInterrupted = 130

// reasonInterrupted: a stream closed, or bytes given up as a gap, because
// the run was interrupted (the command's own reason, like reasonMaxBytes).
const reasonInterrupted tcpasm.Reason = 220

// errInterrupted is the pipeline's error after an interrupt.
var errInterrupted = errors.New("interrupted")

// interruption catches the interrupt signals for one run.
type interruption struct {
	sg      *signals // whose temporary files a second signal removes
	c       chan os.Signal
	done    chan struct{}
	hit     atomic.Bool
	stopped bool // latched by the pipeline before it closes the assembler
	// stdin, when standard input is an input, is the pollable pipe that
	// stands in for it, so that a read blocked on it can be cut short.
	stdin    *os.File
	oldStdin *os.File
}

// catchInterrupts starts catching the interrupt signals; stop ends it.
func (sg *signals) catchInterrupts(inputs []string) *interruption {
	in := &interruption{c: make(chan os.Signal, 2), done: make(chan struct{}), sg: sg}
	for _, x := range inputs {
		if x == "-" {
			in.pollableStdin()
			break
		}
	}
	sg.graceful.Add(1)
	signal.Notify(in.c, interruptSignals...)
	go func() {
		select {
		case <-in.c:
		case <-in.done:
			return
		}
		in.hit.Store(true)
		if in.stdin != nil {
			in.stdin.SetReadDeadline(time.Now())
		}
		select {
		case <-in.c:
			sg.removeAll()
			os.Exit(exitInterrupted)
		case <-in.done:
		}
	}()
	return in
}

// pollableStdin puts a pipe the runtime can poll in the place of standard
// input (a terminal or an inherited pipe is read by blocking system calls,
// which a deadline cannot cut short) and copies standard input into it.
func (in *interruption) pollableStdin() {
	if !stdinPipe {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	src := os.Stdin
	go func() {
		io.Copy(w, src)
		w.Close()
	}()
	in.stdin, in.oldStdin = r, src
	os.Stdin = r
}

// stop ends catching the signals (the default action is back).
func (in *interruption) stop() {
	if in == nil {
		return
	}
	signal.Stop(in.c)
	close(in.done)
	in.sg.graceful.Add(-1)
	if in.stdin != nil {
		os.Stdin = in.oldStdin
		in.stdin.Close()
	}
}

// abort is a pipeline Abort function.
func (in *interruption) abort() error {
	if in != nil && in.hit.Load() {
		return errInterrupted
	}
	return nil
}

// latch fixes whether the run was interrupted, before the assembler closes
// the streams left open: from then on interrupted() does not change.
func (in *interruption) latch() bool {
	if in == nil {
		return false
	}
	in.stopped = in.hit.Load()
	return in.stopped
}

// interrupted reports what latch fixed.
func (in *interruption) interrupted() bool { return in != nil && in.stopped }

// reason maps the end-of-capture reason of the streams closed after an
// interrupt to reasonInterrupted.
func (in *interruption) reason(r tcpasm.Reason) tcpasm.Reason {
	if r == tcpasm.ReasonEOF && in.interrupted() {
		return reasonInterrupted
	}
	return r
}
