package reseq

// The source stage: one capture as the merge sees it, opened from its member
// description by one constructor (start), the first time and each time it
// wakes after sleeping until its turn.

import (
	"io"
	"slices"

	"github.com/reseq/reseq/internal/bufin"
)

// source is one sequence of packets taking part in the merge: a capture, or
// an entry that only reports an error.
//
// Invariant: a source is in one of four states —
//   - open: fr != nil, reading its capture; closers release its bytes (file,
//     mapping, member reader, decompressors), head is the packet read last;
//   - sleeping: fr == nil and closers empty, a capture that can be reopened
//     (member.open != nil) waiting for its turn (dormant in a merge, asleep
//     in Concat); kind is the format its first opening found, and capture
//     keeps that opening's details;
//   - reporting: err != nil, fr == nil (an entry that could not be opened,
//     or a capture broken at its first packet while it was settled); the
//     next step returns err;
//   - done: ended (read to its end, broken, or err reported), closers
//     released.
type source struct {
	member      // its name and how to open it again
	order   int // position among the sources: breaks timestamp ties
	fr      formatReader
	capture *Capture // nil for an entry that could not be opened
	kind    kind     // kindPcap or kindPcapng once started
	closers []func()
	head    Packet
	err     error
	done    bool

	// sequencing (see merger)
	first   int64 // timestamp of its first packet, while dormant in a merge
	asleep  bool  // Concat: closed until its turn
	settled bool  // merger.settle was called
}

// start makes the format reader of s from u, its bytes opened and their
// compressions removed. It is the one constructor of a source's reader: when
// the capture is first opened (s.kind is kindUnknown and s.capture new), and
// each time a sleeping source wakes (then u must hold the format and the
// compressions found the first time). s then owns u; on failure u is released
// and the error is an *InputError.
func (s *source) start(u *unwrapped, lender bufin.Lender) error {
	if s.kind != kindUnknown && (u.kind != s.kind || !slices.Equal(u.comps, s.capture.Compression)) {
		u.release()
		return &InputError{Name: s.name, Offset: -1, Err: errFileChanged}
	}
	fr, err := newFormatReader(s.capture, u)
	if err != nil {
		u.release()
		return err
	}
	if lender != nil {
		fr.setLender(lender)
	}
	s.fr, s.kind = fr, u.kind
	s.closers = append(s.closers, u.release)
	return nil
}

// wake reopens a sleeping source and reads its first packet (see step).
func (s *source) wake(opt *Options, lender bufin.Lender) (bool, error) {
	u, err := s.member.unwrap(opt)
	if err == nil {
		err = s.start(u, lender)
	}
	if err != nil {
		s.release()
		s.done = true
		return false, err
	}
	return s.step()
}

// step reads the source's next packet into s.head. It returns false and a nil
// error at the end; an error leaves the source done.
func (s *source) step() (bool, error) {
	if s.done {
		return false, nil
	}
	if s.err != nil {
		s.done = true
		return false, s.err
	}
	var err error
	s.head, err = s.fr.next()
	if err == nil {
		return true, nil
	}
	s.fr = nil
	s.capture.drop()
	s.done = true
	s.release()
	if err == io.EOF {
		return false, nil
	}
	return false, inputError(s.capture.Name, err)
}

// sleep closes a source that can be reopened, dropping its reader and
// buffers (also those the Capture points to).
func (s *source) sleep() {
	s.head = Packet{}
	s.fr = nil
	s.capture.drop()
	s.release()
}

// release closes the source's bytes: file, mapping, decompressors.
func (s *source) release() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}
