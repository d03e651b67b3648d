package framing

import (
	"github.com/reseq/reseq/tcpasm"
)

// Factory returns the consumers of a new connection's two directions, indexed
// by tcpasm.Direction. A nil consumer leaves its direction unframed.
type Factory func(c *tcpasm.Conn) [2]Consumer

// Handler is a tcpasm.Handler that frames every stream direction with the
// consumers a Factory makes. It keeps its Framer in Stream.User.
type Handler struct {
	cfg     Config
	factory Factory
	// framers of connections whose Stream values were not yet there at Open.
	pending map[*tcpasm.Conn]*[2]*Framer
	now     int64 // latest capture time of any callback (see Chunk.Now)
}

var _ tcpasm.Handler = (*Handler)(nil)

// NewHandler returns a Handler calling f for every new connection.
func NewHandler(cfg Config, f Factory) *Handler {
	return &Handler{cfg: cfg, factory: f}
}

// Open creates the connection's framers.
func (h *Handler) Open(c *tcpasm.Conn) {
	cons := h.factory(c)
	var fr [2]*Framer
	for d := range fr {
		if cons[d] != nil {
			// Whether the direction starts at a message boundary is known at
			// its first byte (Stream.SYN); see framer.
			fr[d] = New(cons[d], h.cfg, true)
			fr[d].clock = &h.now
		}
	}
	missing := false
	for d, s := range c.Streams {
		if s == nil {
			missing = fr[d] != nil || missing
			continue
		}
		if fr[d] != nil {
			s.User = fr[d]
		}
	}
	if missing {
		if h.pending == nil {
			h.pending = make(map[*tcpasm.Conn]*[2]*Framer)
		}
		h.pending[c] = &fr
	}
}

func (h *Handler) framer(s *tcpasm.Stream) *Framer {
	if f, ok := s.User.(*Framer); ok {
		return f
	}
	if s.Conn == nil || h.pending == nil {
		return nil
	}
	p := h.pending[s.Conn]
	if p == nil || int(s.Dir) >= len(p) {
		return nil
	}
	f := p[s.Dir]
	if f != nil {
		s.User = f
		p[s.Dir] = nil
		if p[0] == nil && p[1] == nil {
			delete(h.pending, s.Conn)
		}
	}
	return f
}

// first sets the framer's starting state from the stream: in sync only when
// the direction's SYN was seen and its first event is at offset 0.
func first(f *Framer, s *tcpasm.Stream, off int64) {
	if f.started {
		return
	}
	sync := s.SYN && off == 0
	f.synced = sync
	f.after = !sync
}

// Data passes in-order bytes to the stream's framer.
func (h *Handler) Data(s *tcpasm.Stream, offset int64, data []byte, ts int64) {
	h.now = max(h.now, ts)
	if f := h.framer(s); f != nil {
		first(f, s, offset)
		f.Data(offset, data, ts)
	}
}

// Gap passes a gap to the stream's framer.
func (h *Handler) Gap(s *tcpasm.Stream, offset, length int64, reason tcpasm.Reason, ts int64) {
	h.now = max(h.now, ts)
	if f := h.framer(s); f != nil {
		first(f, s, offset)
		f.Gap(offset, length, reason, ts)
	}
}

// Late passes bytes that fill a gap already reported to the stream's framer
// (see LateConsumer); framing itself resumed after the gap.
func (h *Handler) Late(s *tcpasm.Stream, offset int64, data []byte, ts int64) {
	h.now = max(h.now, ts)
	if f := h.framer(s); f != nil {
		f.Late(offset, data, ts)
	}
}

// Conflict is ignored (first copy wins for the consumer: it saw those bytes).
func (h *Handler) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	h.now = max(h.now, ts)
}

// Close ends the stream's framer.
func (h *Handler) Close(s *tcpasm.Stream, reason tcpasm.Reason, ts int64) {
	h.now = max(h.now, ts)
	if f := h.framer(s); f != nil {
		f.End(reason, ts)
		s.User = nil
	}
}
