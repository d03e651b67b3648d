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

	// Lender, when set, supplies every new buffer, and Fill never writes
	// into a buffer it has read into before: instead of moving the unread
	// tail to the front it copies the tail into a new buffer and gives the
	// old one back through Put, so slices of it handed out earlier stay
	// valid for as long as the lender keeps it.
	Lender Lender
}

// Lender lends a Buffer its buffers. Get returns a buffer of length n or
// more; Put gives one back that the Buffer no longer reads into (data handed
// out of it may still be in use: when to reuse it is the lender's business).
type Lender interface {
	Get(n int) []byte
	Put(b []byte)
}

// Fill makes at least n bytes available in Buf[Start:End]; the caller has
// checked n against its bound, and limit is the size reads may grow the buffer
// to. At the end of the input it returns io.EOF when no byte is left, a
// *ShortError when some but fewer than n are, and a read error as it came.
func (b *Buffer) Fill(n, limit int) error {
	if b.End-b.Start >= n {
		return nil
	}
	if b.Fixed {
		if b.End == b.Start {
			return io.EOF
		}
		return &ShortError{Have: b.End - b.Start, Want: n}
	}
	if b.Lender != nil {
		b.swap(n, limit)
	} else {
		if b.Start > 0 {
			// Move only the unread tail to the front.
			b.End = copy(b.Buf, b.Buf[b.Start:b.End])
			b.Start = 0
		}
		if b.Filled && len(b.Buf) < limit {
			// The last read filled the buffer: the input is large, read it
			// in bigger chunks.
			b.grow(min(2*len(b.Buf), limit))
		}
	}
	for empty := 0; b.End-b.Start < n && !b.EOF && b.Err == nil; {
		if b.End == len(b.Buf) {
			// The record is larger than the buffer: grow step by step as its
			// bytes actually arrive.
			if b.Lender != nil {
				b.lend(max(len(b.Buf), min(2*len(b.Buf), n)))
			} else {
				b.grow(min(2*len(b.Buf), n))
			}
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
	case b.End-b.Start >= n:
		return nil
	case b.Err != nil:
		return b.Err
	case b.End == b.Start:
		return io.EOF
	}
	return &ShortError{Have: b.End - b.Start, Want: n}
}

// swap moves the unread window into a buffer from the Lender, of the size
// Fill would have grown to, and gives the old one back.
func (b *Buffer) swap(n, limit int) {
	size := len(b.Buf)
	if b.Filled && size < limit {
		size = min(2*size, limit)
	}
	if size == len(b.Buf) && len(b.Buf)-b.Start >= n && len(b.Buf)-b.End >= len(b.Buf)/4 {
		return // room enough after the data: keep reading into it
	}
	b.lend(size)
}

// lend replaces Buf by a buffer of at least size bytes from the Lender,
// holding the unread window at its front.
func (b *Buffer) lend(size int) {
	nb := b.Lender.Get(size)
	if len(nb) < size {
		nb = make([]byte, size) // a Lender that broke its promise: do without it
	}
	b.End = copy(nb, b.Buf[b.Start:b.End])
	b.Start = 0
	if b.Buf != nil {
		b.Lender.Put(b.Buf)
	}
	b.Buf = nb
}

func (b *Buffer) grow(size int) {
	nb := make([]byte, size)
	copy(nb, b.Buf[:b.End])
	b.Buf = nb
}
