// Package bufin is the input buffer the capture readers (pcapfile, pcapng)
// share: one growing buffer read in large chunks, an unread window that only its
// tail is moved out of, growth only as a large record's bytes actually arrive
// (a short input claiming a huge record never allocates much), and a fixed mode
// over an input held whole in memory.
package bufin

import "io"

// ShortError says the input ended with Have of the Want bytes asked for.
type ShortError struct{ Have, Want int }

func (e *ShortError) Error() string { return "input ends inside a record" }

// Buffer holds the unread window Buf[Start:End] of R.
type Buffer struct {
	R          io.Reader
	Buf        []byte
	Start, End int
	EOF        bool  // R returned io.EOF
	Filled     bool  // the last Fill filled the whole buffer
	Err        error // sticky non-EOF read error
	Fixed      bool  // Buf is the whole input: never read, moved or grown
}

// Fill makes at least n bytes available in Buf[Start:End]; the caller has
// checked n against its bound, and max is the size reads may grow the buffer
// to. At the end of the input it returns io.EOF when no byte is left, a
// *ShortError when some but fewer than n are, and a read error as it came.
func (b *Buffer) Fill(n, max int) error {
	if b.End-b.Start >= n {
		return nil
	}
	if b.Fixed {
		if b.End == b.Start {
			return io.EOF
		}
		return &ShortError{Have: b.End - b.Start, Want: n}
	}
	if b.Start > 0 {
		// Move only the unread tail to the front.
		b.End = copy(b.Buf, b.Buf[b.Start:b.End])
		b.Start = 0
	}
	if b.Filled && len(b.Buf) < max {
		// The last read filled the buffer: the input is large, read it in
		// bigger chunks.
		b.grow(min(2*len(b.Buf), max))
	}
	for empty := 0; b.End < n && !b.EOF && b.Err == nil; {
		if b.End == len(b.Buf) {
			// The record is larger than the buffer: grow step by step as its
			// bytes actually arrive.
			b.grow(min(2*len(b.Buf), n))
		}
		m, err := b.R.Read(b.Buf[b.End:])
		b.End += m
		switch {
		case err == io.EOF:
			b.EOF = true
		case err != nil:
			b.Err = err
		case m == 0:
			if empty++; empty >= 100 {
				b.Err = io.ErrNoProgress
			}
		}
	}
	b.Filled = b.End == len(b.Buf)
	switch {
	case b.End >= n:
		return nil
	case b.Err != nil:
		return b.Err
	case b.End == 0:
		return io.EOF
	}
	return &ShortError{Have: b.End, Want: n}
}

func (b *Buffer) grow(size int) {
	nb := make([]byte, size)
	copy(nb, b.Buf[:b.End])
	b.Buf = nb
}
