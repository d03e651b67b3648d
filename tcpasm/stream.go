package tcpasm

// This file holds the per-direction stream state and the arithmetic that
// turns its sequence numbers into offsets.

// span is a remembered gap range whose bytes have not (all) arrived late.
type span struct{ off, end int64 }

// past is what a stream direction remembers of the bytes below its next
// byte, to compare retransmissions with (window) and to take late bytes
// (gapRanges). A direction has one from its first delivered byte or gap on.
//
// Invariant: gapRanges are disjoint, ascending and end at or below next;
// bytes below forgottenEnd outside them are neither compared nor delivered.
type past struct {
	window        *retain // the latest delivered bytes, for Conflicts; nil until the first delivery
	gapRanges     []span  // the declared gap ranges late bytes may still fill (at most maxGapRanges)
	forgottenEnd  int64   // end of the newest gap range forgotten
	unretainedEnd int64   // end of the bytes delivered while no retention window could be had
	// urgent: the offsets of the urgent bytes seen (URG), ascending; under
	// UrgentOOB they are left out of what the handler is given.
	urgent []int64
}

// newPast gives h its past (it has none yet).
func (a *Assembler) newPast(h *half) { h.past = a.fl.getPast() }

// half is the reassembly state of one stream direction.
//
// Invariant: every offset below next was delivered (Data) or declared a gap
// (Gap), in order; the held store holds pieces at or above next only, none
// overlapping another; gapRanges are disjoint, ascending and below next;
// while the direction is open, Extent is the highest of next, dataEnd, the
// FIN's offset and the acknowledged evidence (updateExtent); a suspect never
// moved any of them.
type half struct {
	Stream
	c *conn

	isn uint32 // the SYN's sequence number (synSeen)

	// The peer's acknowledgments of this direction: as a sequence number
	// (kept from before the base is known: the highest ACK) and as an
	// offset. Its SACKs are in x.
	ackSeq  uint32
	ackedTo int64

	// Window evidence for the plausibility rule (see reach): the largest
	// window the direction advertised, in bytes, while its scale was known;
	// the most of its own bytes seen in flight beyond the peer's ACK (at most
	// maxJump); below, its window scale once known (scale; see
	// resolveScale) and its SYN's option (offer: 0 none, else the shift + 1).
	maxWindow, inflight uint32

	advertised uint16 // the window this direction last advertised (for the peer's zero-window probes)

	synSeen        bool
	haveAdvertised bool
	haveAckSeq     bool
	haveSackSeq    bool
	finKnown       bool // FIN offset known
	finReached     bool // every byte below the FIN is accounted
	closing        bool // closing: an ACK's last unit without a FIN seen is a byte
	rstKnown       bool // this direction sent a RST at rstOff
	pending        bool // the peer ACKed past next: an acked gap awaits its allowance
	closed         bool
	synAck         bool  // its SYN was a SYN-ACK
	scale, offer   uint8 // its window scale: 0 not known (yet), else the shift + 1; its SYN's option: 0 none, else the shift + 1
	rsts           uint8 // RSTs of this direction since the connection was last live (see survives), at most 255

	next    int64 // every byte below is delivered or in a gap
	dataEnd int64 // one past the highest byte a data segment (or RST) claimed

	// ref is the offset of the direction's latest evidence (a segment's
	// sequence number, the peer's ACK or SACK edge, suspects included):
	// sequence numbers are unwrapped around it, so offsets stay exact across
	// any number of wraps while each step between consecutive evidence is
	// below 2^31, however sparse the capture.
	ref int64

	held *heldList // nil until the direction holds bytes

	past *past // what is remembered of the bytes below next; nil until the first is delivered or declared

	prevTime int64 // capture time of the direction's packet before this one

	x *extra // nil until the direction sees a FIN, RST, SACK, suspect or acked hole
}

// extra is the state of a stream direction that a connection needs only once
// a direction sees a FIN, a RST, a SACK, a far (suspect) packet or an acked
// hole: kept out of half so that a connection costs little until then
// (ConnCost). It is taken from the arena (Assembler.extraFor) at the first
// such event, counted in MaxMemory (extraCost), and given back when the
// connection leaves the table.
//
// Invariant: a direction without one reads as this type's zero value
// (half.extra): no FIN or RST offset known, nothing SACKed, no suspect, not
// pending.
type extra struct {
	susData, susAck *suspect // far evidence waiting to be corroborated

	// The peer's SACKs of this direction: the highest SACK block's right
	// edge as a sequence number (kept from before the base is known) and as
	// an offset.
	sackSeq  uint32
	finSeq   uint32 // the FIN's sequence number (its end), while the base is unknown
	sackedTo int64

	rstOff       int64 // where the direction's RST put its end (rstKnown)
	finOff       int64 // the FIN's offset (FIN seen, finKnown)
	pendingSince int64 // when the acked hole began to wait (pending)

	pendingLink halfLink // in Assembler.pending (the holders' link is the held store's)
}

// noExtra is what a direction without its extra reads: never written.
var noExtra extra

// extra returns h's extra state for reading: the zero value when it has none.
func (h *half) extra() *extra {
	if h.x != nil {
		return h.x
	}
	return &noExtra
}

// extraFor returns h's extra state for writing, taking it from the arena
// the first time.
func (a *Assembler) extraFor(h *half) *extra {
	if h.x == nil {
		h.x = a.fl.getExtra()
	}
	return h.x
}

// heldCost is what h's held pieces count in the limits.
func (h *half) heldCost() int64 {
	if h.held == nil {
		return 0
	}
	return h.held.cost
}

// heldData is h's held bytes of data (truncation markers excluded).
func (h *half) heldData() int64 {
	if h.held == nil {
		return 0
	}
	return h.held.data
}

// peer is the other direction of h's connection.
func (h *half) peer() *half { return &h.c.h[(h.Dir^1)&1] }

// holding reports whether h is in Assembler.holders.
func (h *half) holding() bool { return h.held != nil && h.held.holder.in }

// unwrap turns a sequence number into a stream offset, by serial arithmetic
// around the direction's latest evidence (ref).
func (h *half) unwrap(seq uint32) int64 {
	ref := h.ref
	return ref + seqNum(seq).sub(seqNum(h.BaseSeq).add(ref))
}

// see unwraps seq and makes it the direction's latest evidence.
func (h *half) see(seq uint32) int64 {
	o := h.unwrap(seq)
	h.ref = o
	return o
}

// ackEvidence is the offset up to which the peer has acknowledged bytes.
//
// Without a captured FIN, the last unit of an ACK beyond every byte the
// capture saw may be the FIN's: it is only declared when the direction closes
// (see closeHalf).
func (h *half) ackEvidence() int64 {
	e := h.ackedTo
	if h.finKnown {
		e = min(e, h.x.finOff)
	} else if e > h.dataEnd && e > 0 && !h.closing {
		e--
	}
	return e
}

func (h *half) updateExtent() {
	if h.closed {
		return
	}
	e := max(h.dataEnd, h.next)
	a := h.ackedTo
	if x := h.x; x != nil {
		a = max(a, x.sackedTo)
		if h.finKnown {
			e = max(e, x.finOff)
			a = min(a, x.finOff)
		}
	}
	h.Extent = max(e, a)
}

func (a *Assembler) setBase(h *half, seq uint32) {
	h.BaseSeq = seq
	h.HaveBase = true
	if h.FIN && !h.finKnown {
		if o := h.unwrap(h.extra().finSeq); o >= 0 {
			a.setFin(h, o)
		} else {
			// A FIN numbered below the stream's start (sent before the
			// direction's SYN, as evasions do) ends nothing of it.
			h.FIN = false
		}
	}
	if h.haveAckSeq {
		if o := h.unwrap(h.ackSeq); o > h.ackedTo && o <= h.reach() {
			h.ackedTo = o
		}
	}
	if h.haveSackSeq {
		x := a.extraFor(h)
		if o := h.unwrap(x.sackSeq); o > x.sackedTo && o <= h.reach() {
			x.sackedTo = o
		}
	}
	h.updateExtent()
}

func (a *Assembler) setFin(h *half, off int64) {
	if off < h.next {
		off = h.next
	}
	h.finKnown = true
	a.extraFor(h).finOff = off
	h.updateExtent()
}

// frontier is the highest offset h's evidence reached.
func (h *half) frontier() int64 { return max(h.Extent, h.next) }
