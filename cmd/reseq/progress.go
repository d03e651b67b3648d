package main

// A one-line progress display on stderr, shown only when stderr is a
// terminal.

import (
	"fmt"
	"io"
	"os"
	"time"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressLine redraws one status line: bytes read of the total, packets per
// second and live streams.
type progressLine struct {
	w       io.Writer
	start   time.Time
	live    func() int64 // live streams, may be nil
	drawn   bool
	lastLen int
}

// newProgress returns a progress line on w, or nil when w is not a terminal.
func newProgress(w io.Writer, live func() int64) *progressLine {
	if !isTerminal(w) {
		return nil
	}
	return &progressLine{w: w, start: time.Now(), live: live}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// update redraws the line (a pipeline.Progress callback).
func (p *progressLine) update(read, total, packets int64) {
	if p == nil {
		return
	}
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(packets) / el
	}
	s := humanBytes(read)
	if total > 0 {
		s += fmt.Sprintf(" of %s (%d%%)", humanBytes(total), read*100/total)
	}
	s += fmt.Sprintf("  %d packets  %.0f pkt/s", packets, rate)
	if p.live != nil {
		s += fmt.Sprintf("  %d live streams", p.live())
	}
	pad := ""
	if n := p.lastLen - len(s); n > 0 {
		pad = fmt.Sprintf("%*s", n, "")
	}
	p.lastLen = len(s)
	fmt.Fprintf(p.w, "\r%s%s", s, pad)
	p.drawn = true
}

// done clears the line.
func (p *progressLine) done() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprintf(p.w, "\r%*s\r", p.lastLen, "")
}

// callback returns the pipeline Progress function, nil when there is no line.
func (p *progressLine) callback() func(read, total, packets int64) {
	if p == nil {
		return nil
	}
	return p.update
}
