package reseq

// The capture-format stage: a pcap or pcapng reader over an unwrapped input,
// adapted to return Packets (formatReader). It knows nothing of archives,
// merging or the Reader.

import (
	"fmt"
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
		var pr *pcapfile.Reader
		var err error
		if u.mem != nil {
			pr, err = pcapfile.NewReaderBytes(u.mem.data)
		} else {
			pr, err = pcapfile.NewReader(u.br)
		}
		if err != nil {
			u.mem.done()
			return nil, inputError(cp.Name, err)
		}
		major, minor := pr.Version()
		cp.Format, cp.Version, cp.Pcap = Pcap, fmt.Sprintf("%d.%d", major, minor), pr
		cp.update()
		return &pcapSource{r: pr, source: cp.Source, progress: newProgress(u.mem)}, nil
	case kindPcapng:
		var r *pcapng.Reader
		var err error
		if u.mem != nil {
			r, err = pcapng.NewReaderBytes(u.mem.data)
		} else {
			r, err = pcapng.NewReader(u.br)
		}
		if err != nil {
			u.mem.done()
			return nil, inputError(cp.Name, err)
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
	if err != nil {
		s.end()
	} else if s.r.Offset() >= s.mark {
		s.tick(s.r.Offset())
	}
	p := Packet{Timestamp: q.Timestamp, Length: q.Length, Data: q.Data, LinkType: q.LinkType, Interface: q.Interface, Section: q.Section, Source: s.source}
	s.off = q.Offset
	if q.HasPacketID {
		p.Frame, p.HasFrame = s.frame(&q)
	}
	return p, err
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
