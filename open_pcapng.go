package reseq

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/reseq/reseq/internal/bufin"
	"github.com/reseq/reseq/pcapng"
)

// pcapngSource adapts a pcapng.Reader.
type pcapngSource struct {
	r      *pcapng.Reader
	source int
	off    int64 // the last packet's block offset
	progress
}

// newPcapngSource reads in, or mem when it is not nil.
func newPcapngSource(cp *Capture, in io.Reader, mem *memInput) (formatReader, error) {
	var r *pcapng.Reader
	var err error
	if mem != nil {
		r, err = pcapng.NewReaderBytes(mem.data)
	} else {
		r, err = pcapng.NewReader(in)
	}
	if err != nil {
		return nil, err
	}
	cp.Format, cp.Pcapng = Pcapng, r
	if s := r.Sections(); len(s) > 0 {
		cp.Version = fmt.Sprintf("%d.%d", s[0].Major, s[0].Minor)
	}
	return &pcapngSource{r: r, source: cp.Source, progress: newProgress(mem)}, nil
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
	p := Packet{Timestamp: q.Timestamp, Length: q.Length, Data: q.Data, LinkType: q.LinkType, Interface: q.Interface, Section: q.Section, Source: s.source, Options: q.Options}
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
