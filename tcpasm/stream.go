package tcpasm

// This file holds the per-direction stream state and the arithmetic that
// turns its sequence numbers into offsets.

// span is a remembered gap range whose bytes have not (all) arrived late.
type span struct{ off, end int64 }

// half is the reassembly state of one stream direction.
type half struct {
	Stream
	c *conn

	isn    uint32 // the SYN's sequence number (synSeen)
	finRaw uint32 // the FIN's end in sequence numbers, while the base is unknown

	// The peer's acknowledgments of this direction: raw (kept from before
	// the base is known) and as offsets.
	ackRaw, sackRaw uint32
	ackHi, sackHi   int64

	win uint16 // the window this direction last advertised (for the peer's zero-window probes)

	synSeen    bool
	haveWin    bool
	haveAckRaw bool
	haveSackR  bool
	finKnown   bool // FIN offset known
	finReached bool // every byte below the FIN is accounted
	settled    bool // closing: an ACK's last unit without a FIN seen is a byte
	rstKnown   bool // this direction sent a RST at rstOff
	pending    bool // the peer ACKed past next: an acked gap awaits its allowance
	closed     bool

	next   int64 // every byte below is delivered or in a gap
	hiData int64 // one past the highest byte a data segment (or RST) claimed
	rstOff int64
	finOff int64 // the FIN's offset (FIN seen, finKnown)

	pendSince int64

	susData, susAck *suspect // far evidence waiting to be corroborated

	held     *heldList // nil until the direction holds bytes
	heldCost int64
	heldData int64

	ret    *retain
	gaps   []span
	forgot int64 // end of the newest gap range forgotten
	unret  int64 // end of the bytes delivered while no retention window could be had

	prevLast int64 // capture time of the direction's packet before this one

	links [numHalfLists]halfLink // in Assembler.holders and Assembler.pending
}

// peer is the other direction of h's connection.
func (h *half) peer() *half { return &h.c.h[1-h.Dir] }

// holding reports whether h is in Assembler.holders.
func (h *half) holding() bool { return h.links[holdersList].in }

// unwrap turns a sequence number into a stream offset, by serial arithmetic
// around the stream's frontier (its extent).
func (h *half) unwrap(seq uint32) int64 {
	ref := h.Extent
	return ref + int64(int32(seq-(h.BaseSeq+uint32(ref))))
}

// ackEvidence is the offset up to which the peer has acknowledged bytes.
//
// Without a captured FIN, the last unit of an ACK beyond every byte the
// capture saw may be the FIN's: it is only declared when the direction closes
// (see closeHalf).
func (h *half) ackEvidence() int64 {
	e := h.ackHi
	if h.finKnown {
		e = min(e, h.finOff)
	} else if e > h.hiData && e > 0 && !h.settled {
		e--
	}
	return e
}

func (h *half) updateExtent() {
	if h.closed {
		return
	}
	e := max(h.hiData, h.next)
	a := max(h.ackHi, h.sackHi)
	if h.finKnown {
		e = max(e, h.finOff)
		a = min(a, h.finOff)
	}
	h.Extent = max(e, a)
}

func (h *half) setBase(seq uint32) {
	h.BaseSeq = seq
	h.HaveBase = true
	if h.FIN && !h.finKnown {
		h.setFin(h.unwrap(h.finRaw))
	}
	if h.haveAckRaw {
		if o := h.unwrap(h.ackRaw); o > h.ackHi && o <= maxJump {
			h.ackHi = o
		}
	}
	if h.haveSackR {
		if o := h.unwrap(h.sackRaw); o > h.sackHi && o <= maxJump {
			h.sackHi = o
		}
	}
	h.updateExtent()
}

func (h *half) setFin(off int64) {
	if off < h.next {
		off = h.next
	}
	h.finKnown = true
	h.finOff = off
	h.updateExtent()
}

// frontier is the highest offset h's evidence reached.
func (h *half) frontier() int64 { return max(h.Extent, h.next) }
