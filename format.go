package reseq

// The capture-format stage: a pcap or pcapng reader over an unwrapped input,
// adapted to return Packets (formatReader). It knows nothing of archives,
// merging or the Reader.

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/reseq/reseq/internal/bufin"
	"github.com/reseq/reseq/pcapfile"
	"github.com/reseq/reseq/pcapng"
)

// formatReader reads the packets of one capture (Data valid until the next
// call). It returns io.EOF at the clean end.
type formatReader interface {
	next() (Packet, error)
	setLender(l bufin.Lender) // see Reader.SetLender
	offset() int64            // the byte offset of the last packet's record, -1 when not known
}

// newFormatReader creates the format reader of the pcap or pcapng capture u
// and fills cp's format fields.
func newFormatReader(cp *Capture, u *unwrapped) (formatReader, error) {
	switch u.kind {
	case kindPcap:
		r, err := openFormat(cp, u, pcapfile.NewReaderBytes, pcapfile.NewReader)
		if err != nil {
			return nil, err
		}
		major, minor := r.Version()
		cp.Format, cp.Version, cp.Pcap = Pcap, fmt.Sprintf("%d.%d", major, minor), r
		cp.update()
		return &pcapSource{r: r, source: cp.Source, progress: newProgress(u.mem)}, nil
	case kindPcapng:
		r, err := openFormat(cp, u, pcapng.NewReaderBytes, pcapng.NewReader)
		if err != nil {
			return nil, err
		}
		cp.Format, cp.Pcapng = Pcapng, r
		if s := r.Sections(); len(s) > 0 {
			cp.Version = fmt.Sprintf("%d.%d", s[0].Major, s[0].Minor)
		}
		cp.update()
		return &pcapngSource{r: r, source: cp.Source, progress: newProgress(u.mem)}, nil
	}
	return nil, &InputError{Name: cp.Name, Offset: 0, Err: &NotCaptureError{Head: headPrefix(u.head)}}
}

// openFormat opens a format reader on u: in place when u is in memory,
// otherwise streamed. When the header is bad, an input in memory counts as
// consumed and the error names the capture.
func openFormat[R any](cp *Capture, u *unwrapped, inPlace func([]byte) (R, error), streamed func(io.Reader) (R, error)) (R, error) {
	var r R
	var err error
	if u.mem != nil {
		r, err = inPlace(u.mem.data)
	} else {
		r, err = streamed(u.br)
	}
	if err != nil {
		u.mem.done()
		return r, inputError(cp.Name, err)
	}
	return r, nil
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
	s.count(s.r.Offset(), err)
	return s.packet(&q, 0), err
}

// packet makes the Packet of q, numbered index.
func (s *pcapSource) packet(q *pcapfile.Packet, index int64) Packet {
	return Packet{Timestamp: q.Timestamp, Length: q.Length, Data: q.Data, LinkType: q.LinkType, Source: s.source, Index: index}
}

// pcapngSource adapts a pcapng.Reader.
type pcapngSource struct {
	r      *pcapng.Reader
	source int
	off    int64 // the last packet's block offset
	progress
}

func (s *pcapngSource) setLender(l bufin.Lender) { s.r.SetLender(l) }

func (s *pcapngSource) offset() int64 { return s.off }

func (s *pcapngSource) next() (Packet, error) {
	q, err := s.r.Next()
	s.count(s.r.Offset(), err)
	s.off = q.Offset
	p := s.packet(&q, 0)
	if q.HasPacketID {
		p.Frame, p.HasFrame = s.frame(&q)
	}
	return p, err
}

// packet makes the Packet of q, numbered index (Frame is set by the caller,
// see frame: with that call in it, packet would not be inlined).
func (s *pcapngSource) packet(q *pcapng.Packet, index int64) Packet {
	return Packet{Timestamp: q.Timestamp, Length: q.Length, Data: q.Data, LinkType: q.LinkType, Interface: q.Interface, Section: q.Section, Source: s.source, Index: index, Options: q.Options}
}

// frame returns the original frame number of a packet of a 'reseq split'
// shard file.
func (s *pcapngSource) frame(q *pcapng.Packet) (int64, bool) {
	secs := s.r.Sections()
	if q.Section >= len(secs) || !strings.HasPrefix(secs[q.Section].UserAppl, SplitAppl) || q.PacketID > math.MaxInt64 {
		return 0, false
	}
	return int64(q.PacketID), true
}

// progress counts the bytes a format reader consumed from an input in memory
// (a streamed input is counted as it is read): every progressStep bytes, so
// the atomic counter costs nothing per packet.
//
// Invariant: the first counted bytes of mem have been added to mem.cnt; mark
// is counted+progressStep while an input in memory is read, math.MaxInt64
// when the input is streamed or has ended.
type progress struct {
	mem     *memInput // nil for a streamed input
	counted int64     // bytes added to mem.cnt
	mark    int64     // the offset of the next update
}

func newProgress(mem *memInput) progress {
	if mem == nil {
		return progress{mark: math.MaxInt64}
	}
	mem.warmUp(0)
	return progress{mem: mem, mark: progressStep}
}

// count follows a read that ended at off, or with err, which ends the input.
// Inlined, it costs a comparison per packet until the next step.
func (p *progress) count(off int64, err error) {
	if off >= p.mark || err != nil {
		p.step(off, err)
	}
}

func (p *progress) step(off int64, err error) {
	if err != nil {
		p.end()
		return
	}
	p.tick(off)
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
