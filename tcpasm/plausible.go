package tcpasm

// This file holds the plausibility rule: evidence far beyond a stream is
// suspect until corroborated.

// recheck applies h's suspects that its frontier has come within reach of
// (other evidence moved it): they are no longer far.
func (a *Assembler) recheck(h *half, ts int64) {
	if h.closed {
		return
	}
	reach := h.frontier() + h.reach()
	x := h.extra()
	if s := x.susAck; s != nil && s.lo <= reach {
		a.confirmAck(h, ts)
	}
	if s := x.susData; s != nil && s.hi <= reach {
		a.confirmData(h)
	}
}

// suspect is evidence far beyond a stream direction's frontier (more than
// its reach above everything known of it): a data segment (its bytes and FIN),
// or the peer's ACK or SACK. A direction holds at most one of each, nothing
// of it applied, until later packets corroborate it (see believe and
// believeAck), as the packets after a capture's blackout do and random
// numbers almost never; then it is applied, and the packet that
// corroborated it after it. Replaced by other far evidence of its kind, or
// left when the direction closes, it is dropped and counted
// (StreamStats.OutOfWindow): uncorroborated, it never stretches the stream.
type suspect struct {
	lo, hi int64 // the range claimed: [off, off+n) of data; an ACK's number (lo == hi)
	sack   bool  // the ACK number is a SACK block's right edge
	votes  int   // later ACKs that agreed with it
	seg    Segment
	n      int
}

// believe reports whether the data (or FIN) of seg, [lo, hi) of h, may be
// applied: it starts within reach of h's frontier (however long it is: a
// segment the capture took before segmentation, GSO or BIG TCP, may hold
// more than a window's worth), or it corroborates one of
// h's suspects (which is applied first): it starts where the suspect data
// ends (or is a copy of it), or it holds the suspect ACK's number. Otherwise
// it becomes h's data suspect.
func (a *Assembler) believe(h *half, lo, hi int64, seg *Segment, n int) bool {
	if lo <= h.frontier()+h.reach() {
		return true
	}
	x := a.extraFor(h)
	if s := x.susData; s != nil && (lo == s.hi || lo == s.lo) {
		a.confirmData(h)
		return true
	}
	if s := x.susAck; s != nil && lo <= s.lo && s.lo <= hi {
		a.confirmAck(h, seg.Timestamp)
		return true
	}
	a.dropSuspect(h, &x.susData)
	s := &suspect{lo: lo, hi: hi, seg: *seg, n: n}
	s.seg.Payload = append([]byte(nil), seg.Payload[:min(len(seg.Payload), n)]...)
	s.seg.fpOf = nil
	x.susData = s
	a.suspectBytes += int64(len(s.seg.Payload))
	return false
}

// believeAck is believe for the ACK (or SACK right edge) o of p: it
// corroborates p's suspect data when it acknowledges some of its bytes, and
// p's suspect ACK when it is the second later ACK at or at most
// corroborateSlack beyond the one before (a receiver's ACKs after a
// blackout; two random numbers agree so by a chance of 2^-32).
func (a *Assembler) believeAck(p *half, o int64, sack bool, ts int64) bool {
	if o <= p.frontier()+p.reach() {
		return true
	}
	x := a.extraFor(p)
	if s := x.susData; s != nil && o >= s.lo && o <= s.hi+int64(s.seg.Flags&FIN) {
		// An ACK of the suspect's start (all before it), of some of its
		// bytes or of its FIN: a random number hits so by a chance of 2^-32
		// per byte.
		a.confirmData(p)
		return true
	}
	if s := x.susAck; s != nil && o >= s.lo && o <= s.lo+corroborateSlack {
		s.votes++
		s.lo, s.hi, s.sack = o, o, sack
		if s.votes < 2 {
			return false
		}
		x.susAck = nil
		return true
	}
	a.dropSuspect(p, &x.susAck)
	x.susAck = &suspect{lo: o, hi: o, sack: sack}
	return false
}

// confirmData applies h's suspect data: a later packet corroborated it.
func (a *Assembler) confirmData(h *half) {
	s := h.x.susData
	h.x.susData = nil
	a.suspectBytes -= int64(len(s.seg.Payload))
	a.apply(h, &s.seg, s.lo, s.n, s.seg.Timestamp)
}

// confirmAck applies h's suspect ACK: a later packet corroborated it.
func (a *Assembler) confirmAck(h *half, ts int64) {
	s := h.x.susAck
	h.x.susAck = nil
	switch {
	case s.sack && s.lo > h.x.sackedTo:
		h.x.sackedTo = s.lo
	case !s.sack && s.lo > h.ackedTo:
		h.ackedTo = s.lo
	default:
		return
	}
	a.acked(h, ts)
}

// dropSuspect drops the suspect *sp of h, if any, and counts it.
func (a *Assembler) dropSuspect(h *half, sp **suspect) {
	s := *sp
	if s == nil {
		return
	}
	*sp = nil
	a.suspectBytes -= int64(len(s.seg.Payload))
	h.Stats.OutOfWindow++
	a.st.OutOfWindow++
}

// reach is how far beyond its frontier evidence of h (its data, the peer's
// ACK or SACK) is believed at once; beyond, it is suspect. No sender has
// more in flight than its receiver's window allows, so with the receiver's
// window scale known (its handshake captured) the reach is twice the
// largest window the receiver advertised, at least minReach and at most
// maxReach (the largest window scaling allows). Without it (a capture that
// began mid-stream, or saw no packet of the receiver) the windows' sizes in
// bytes are unknown: four times the most of h's bytes the capture saw in
// flight, at least minReach and at most maxJump.
func (h *half) reach() int64 {
	if w := int64(h.peer().maxWindow); w > 0 {
		return min(maxReach, max(minReach, 2*w))
	}
	return min(maxJump, max(minReach, 4*int64(h.inflight)))
}

// noteWindow notes the window seg advertises, in bytes (h's scale is known):
// a SYN's is never scaled (RFC 7323, 2.2).
func (h *half) noteWindow(seg *Segment) {
	w := uint32(seg.Window)
	if seg.Flags&SYN == 0 {
		w <<= h.scale - 1
	}
	h.maxWindow = max(h.maxWindow, w)
}

// resolveScale settles what the captured SYNs of c say of its window
// scaling (RFC 7323, 2.2): in effect only when both SYNs carried the
// option, each direction then shifting by its own (at most 14); a SYN-ACK
// with the option says its SYN had it too. A SYN without it turns scaling
// off for both directions.
func (c *conn) resolveScale() {
	for d := range c.h {
		h, p := &c.h[d], &c.h[d^1]
		switch {
		case h.scale != 0 || !h.synSeen:
		case h.offer == 0 || (p.synSeen && p.offer == 0):
			h.scale, p.scale = 1, 1 // no scaling: a shift of 0
		case p.synSeen || h.synAck:
			h.scale = h.offer
		}
	}
}

// dropSuspects drops both suspects of h, if any, and counts them.
func (a *Assembler) dropSuspects(h *half) {
	if x := h.x; x != nil {
		a.dropSuspect(h, &x.susData)
		a.dropSuspect(h, &x.susAck)
	}
}
