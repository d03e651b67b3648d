package reseq

import (
	"errors"
	"io"
	"math"

	"github.com/reseq/reseq/internal/bufin"
	"github.com/reseq/reseq/pcapfile"
)

// formatReader reads the packets of one capture (Data valid until the next
// call). It returns io.EOF at the clean end.
type formatReader interface {
	next() (Packet, error)
	setLender(l bufin.Lender) // see Reader.SetLender
	offset() int64            // the byte offset of the last packet's record, -1 when not known
}

// pcapSource adapts a pcapfile.Reader.
type pcapSource struct {
	r      *pcapfile.Reader
	source int
	progress
}

func (s *pcapSource) setLender(l bufin.Lender) { s.r.SetLender(l) }

// offset is not kept for pcap: its timestamps (32-bit seconds) are never out
// of range, the only use.
func (s *pcapSource) offset() int64 { return -1 }

func (s *pcapSource) next() (Packet, error) {
	q, err := s.r.Next()
	if err != nil {
		s.end()
	} else if s.r.Offset() >= s.mark {
		s.tick(s.r.Offset())
	}
	return Packet{Timestamp: q.Timestamp, Length: q.Length, Data: q.Data, LinkType: q.LinkType, Source: s.source}, err
}

// progressStep is how many bytes of an input in memory are consumed between
// updates of its Progress counter.
const progressStep = 1 << 18

// progress counts the bytes a format reader consumed from an input in memory
// (a streamed input is counted as it is read): every progressStep bytes, so
// the atomic counter costs nothing per packet.
type progress struct {
	mem     *memInput // nil for a streamed input
	counted int64     // bytes added to mem.cnt
	mark    int64     // the offset of the next update; MaxInt64 when streamed
}

func newProgress(mem *memInput) progress {
	if mem == nil {
		return progress{mark: math.MaxInt64}
	}
	mem.warmUp(0)
	return progress{mem: mem, mark: progressStep}
}

// warmUp loads one byte of every cache line of the input up to two progress
// steps ahead of off: independent loads in a tight loop fault the pages in and
// fetch the lines many at a time, where the parser, touching each record
// header first, would wait for them one by one (measured: a third less time
// reading a mapped capture).
func (m *memInput) warmUp(off int64) {
	end := min(len(m.data), int(off)+2*progressStep)
	if m.warm >= end {
		return
	}
	b := m.data[m.warm:end]
	var x byte
	for i := 0; i < len(b); i += 64 {
		x ^= b[i]
	}
	m.sink ^= x
	m.warm = end
}

// tick counts the bytes up to off.
func (p *progress) tick(off int64) {
	if p.mem == nil {
		return
	}
	p.mem.cnt.Add(off - p.counted)
	p.counted, p.mark = off, off+progressStep
	p.mem.warmUp(off)
}

// end counts the whole input as consumed.
func (p *progress) end() {
	if p.mem != nil {
		p.tick(int64(len(p.mem.data)))
		p.mark = math.MaxInt64
	}
}

// done counts an input that was not read (its capture failed to open) as
// consumed.
func (m *memInput) done() {
	if m != nil && m.off == 0 {
		m.cnt.Add(int64(len(m.data)))
		m.off = len(m.data)
	}
}

// source is one sequence of packets taking part in the merge: a capture.
type source struct {
	name    string
	order   int          // position among the sources: breaks timestamp ties
	fr      formatReader // the capture's reader; nil while dormant or done
	capture *Capture
	err     error  // set for a source that only reports an error
	head    Packet // the packet read last
	done    bool

	// A capture in a plain file of its own, or an archive member read in
	// place, can be closed and reopened.
	reopen  func() (io.Reader, func(), error) // nil when it cannot be reopened
	base    []Compression                     // the encodings around it before it is sniffed
	closers []func()                          // release its file, member reader and decompressors
	first   int64                             // timestamp of its first packet, while dormant
	kind    kind                              // its format, checked when reopened
	asleep  bool                              // Concat: closed until its turn
	settled bool                              // settle was called
}

// kindOf returns the format of the source's current reader.
func (s *source) kindOf() kind {
	switch s.fr.(type) {
	case *pcapSource:
		return kindPcap
	case *pcapngSource:
		return kindPcapng
	}
	return kindUnknown
}

// release closes the source's file and decompressors, if it owns them.
func (s *source) release() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
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

// putToSleep reads the first packet of a source that can be reopened, notes
// its timestamp and closes it: a merge of many files (a rotated set) then
// holds open only the files whose time has come. The source is reopened by
// wake when the merge reaches that timestamp. A source that is empty or
// broken at its first packet is settled at once.
func (r *Reader) putToSleep(s *source) {
	if s.kind = s.kindOf(); s.kind == kindUnknown {
		r.advance = append(r.advance, s)
		return
	}
	ok, err := s.step()
	if !ok {
		if err != nil {
			s.err, s.done = err, false // reported at the first call to Next
			r.advance = append(r.advance, s)
		}
		return
	}
	s.first = s.head.Timestamp
	s.sleep()
	r.dormant = append(r.dormant, s)
}

// settleLater settles s (see settle) once the next source is added, or leaves
// it to finish when it is the last: so that opening an archive of many members
// (or many files) holds at most two of them open at a time, whatever their
// number, and a lone capture is not opened twice.
func (r *Reader) settleLater(s *source) {
	if p := r.pending; p != nil {
		r.settle(p)
	}
	r.pending = s
}

// settle closes a source that can be reopened until its turn: in a merge
// after reading its first packet's timestamp (putToSleep), in Concat at once.
func (r *Reader) settle(s *source) {
	s.settled = true
	if r.opt.Concat {
		if s.kindOf() != kindUnknown {
			s.kind = s.kindOf()
			s.sleep()
			s.asleep = true
		}
		return
	}
	r.putToSleep(s)
}

// sleep closes a source that can be reopened, dropping its reader and
// buffers (also those the Capture points to).
func (s *source) sleep() {
	s.head = Packet{}
	s.fr = nil
	s.capture.drop()
	s.release()
}

// wake reopens a dormant source and reads its first packet.
func (r *Reader) wake(s *source) (bool, error) {
	fail := func(err error) (bool, error) {
		s.release()
		s.done = true
		return false, &InputError{Name: s.name, Offset: -1, Err: err}
	}
	in, rel, err := s.reopen()
	if err != nil {
		return fail(err)
	}
	if rel != nil {
		s.closers = append(s.closers, rel)
	}
	u, err := r.unwrap(s.name, in, s.base)
	if err != nil {
		s.release()
		s.done = true
		return false, err
	}
	s.closers = append(s.closers, u.release)
	if u.kind != s.kind || !sameCompression(u.comps, s.capture.Compression) {
		return fail(errors.New("the file changed while it was being read"))
	}
	fr, err := newFormatReader(s.capture, u)
	if err != nil {
		s.release()
		s.done = true
		return false, err
	}
	if r.lender != nil {
		fr.setLender(r.lender)
	}
	s.fr = fr
	return s.step()
}

func sameCompression(a, b []Compression) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
