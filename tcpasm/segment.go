package tcpasm

import "slices"

// This file holds the path of one segment: its flags, its data and its
// acknowledgment of the other direction.

// segment processes one segment of direction d of c.
func (a *Assembler) segment(c *conn, d Direction, seg *Segment, n int) {
	h := &c.h[d]
	p := &c.h[(d^1)&1]
	ts := seg.Timestamp
	c.Last = ts
	if c.in == inLive && a.live.back != c {
		a.live.remove(c)
		a.live.pushBack(c)
	}
	if cp := seg.CapturePoint; cp >= 0 && cp != c.lastCP {
		c.lastCP = cp
		if !slices.Contains(c.CapturePoints, cp) {
			c.CapturePoints = append(c.CapturePoints, cp)
		}
	}
	h.Stats.Packets++
	h.prevTime = h.Last
	if h.Stats.Packets == 1 {
		h.First = ts
		h.prevTime = ts
		h.Encap = seg.Encap
	}
	h.Last = ts

	// Identical copies (another capture point, SPAN doubles) add nothing.
	// A segment of only new bytes cannot be a copy: skip the search. New:
	// at or above next and above every held piece, in a direction that
	// takes them (no SYN, no RST, not closed, within the window), since the
	// bytes of any packet seen before are delivered, declared or held.
	// The fingerprint of such a segment is taken after its bytes were
	// delivered (and copied into the retention window): its payload is in
	// the cache then, and reading its last bytes costs no separate miss.
	flags := seg.Flags
	sg := makeSig(seg, n)
	sg.dir = uint8(d)
	fresh := false
	if n > 0 && h.HaveBase && flags&(SYN|RST) == 0 && !h.closed && !h.rstKnown {
		reach := h.reach()
		above := seqNum(seg.Seq).ahead(seqNum(h.BaseSeq).add(h.next)) // off - next, when below reach
		fresh = above < reach && above+int64(n) <= max(h.Extent, h.next)-h.next+reach &&
			(h.held.empty() || h.next+above >= h.held.last().end())
	}
	var sk uint64
	if !fresh {
		sg.fp = seg.fingerprint()
		sk = sg.key()
		if a.dup(h, &sg, sk, seg) {
			h.Stats.Duplicates++
			return
		}
	}
	var r *sigRec
	var rk *uint64
	if m := &c.sigs; m.ring != nil {
		r, rk = m.ring.next(&m.n)
	} else {
		r, rk = m.nextFew(&a.fl)
	}
	r.sig, r.cp, r.ts = sg, seg.CapturePoint, seg.Timestamp
	*rk = sk

	if flags&SYN != 0 && !h.closed {
		if !h.HaveBase {
			h.SYN = true
			a.setBase(h, seg.Seq+1)
		}
		if !h.synSeen {
			h.synSeen = true
			h.isn = seg.Seq
			h.offer, h.synAck = 0, flags&ACK != 0
			if seg.HasWindowScale {
				h.offer = min(seg.WindowScale, maxShift) + 1
			}
			c.resolveScale()
		}
	}
	if flags&RST != 0 {
		h.RST = true
		if h.rsts < 255 {
			h.rsts++
		}
		if n > 0 {
			a.rstPayload(h, seg, n)
		}
	}
	if !h.closed {
		if n > 0 && !h.HaveBase && flags&RST == 0 {
			a.setBase(h, seg.Seq)
		}
		if h.HaveBase {
			off := h.see(seg.Seq)
			if flags&SYN != 0 {
				off++
			}
			if flags&RST == 0 && (n > 0 || flags&FIN != 0) && !a.believe(h, off, off+int64(n), seg, n) {
				// Held as suspect: nothing of it applies (yet).
			} else {
				a.apply(h, seg, off, n, ts)
			}
		} else if flags&FIN != 0 && !h.FIN {
			h.FIN = true
			a.extraFor(h).finSeq = uint32(seqNum(seg.Seq).add(int64(n)))
		}
	} else if n > 0 && flags&RST == 0 {
		a.st.AfterClose += int64(n)
	}
	if fresh {
		r.fp = seg.fingerprint()
		*rk = r.sig.key()
	}
	if flags&ACK != 0 {
		a.ack(p, seg, ts)
	}
	if !h.haveAdvertised || seg.Window != h.advertised {
		h.advertised, h.haveAdvertised = seg.Window, true
	}
	if h.scale != 0 {
		h.noteWindow(seg)
	}
	if flags&RST != 0 {
		a.reset(c, ts)
		return
	}
	if h.pending {
		a.checkPending(h, ts)
	}
	if p.pending {
		a.checkPending(p, ts)
	}
	if x := h.x; x != nil && (x.susData != nil || x.susAck != nil) {
		a.recheck(h, ts)
	}
	if x := p.x; x != nil && (x.susData != nil || x.susAck != nil) {
		a.recheck(p, ts)
	}
	a.finCheck(h, ts)
	a.finCheck(p, ts)
}

// apply takes the RST, data and FIN of seg (n bytes claimed at off) into h.
func (a *Assembler) apply(h *half, seg *Segment, off int64, n int, ts int64) {
	flags := seg.Flags
	switch {
	case flags&RST != 0:
		// The RST's number is the sender's next: bytes below it existed.
		// Its payload is no stream data (see rstPayload).
		e := off
		if h.finKnown {
			e = min(e, h.x.finOff)
		}
		if e > h.dataEnd && e <= h.frontier()+h.reach() {
			h.dataEnd = e
			h.updateExtent()
		}
		if !h.rstKnown || e < h.x.rstOff {
			h.rstKnown = true
			a.extraFor(h).rstOff = max(e, h.next)
		}
	case n > 0:
		if flags&URG != 0 {
			a.noteUrgent(h, seg, off, n)
		}
		a.data(h, seg, off, n, ts)
	case off == h.next-1 && flags&(SYN|FIN) == 0:
		h.Stats.KeepAlives++ // a zero-length keep-alive
	}
	if flags&FIN != 0 && !h.FIN {
		h.FIN = true
		a.setFin(h, off+int64(n))
	}
}

// ack applies the acknowledgment (and SACK blocks) of seg to the stream it
// acknowledges.
func (a *Assembler) ack(p *half, seg *Segment, ts int64) {
	if !p.haveAckSeq || seqNum(seg.Ack).after(seqNum(p.ackSeq)) {
		p.ackSeq, p.haveAckSeq = seg.Ack, true
	}
	for i := 0; i < seg.NumSACK && i < MaxSACK; i++ {
		r := seg.SACK[i].Right
		if !p.haveSackSeq || seqNum(r).after(seqNum(p.x.sackSeq)) {
			a.extraFor(p).sackSeq, p.haveSackSeq = r, true
		}
	}
	if !p.HaveBase || p.closed {
		return
	}
	changed := false
	if o := p.see(seg.Ack); o > p.ackedTo && a.believeAck(p, o, false, ts) {
		p.ackedTo = o
		changed = true
	}
	for i := 0; i < seg.NumSACK && i < MaxSACK; i++ {
		if o := p.see(seg.SACK[i].Right); o > p.extra().sackedTo && a.believeAck(p, o, true, ts) {
			a.extraFor(p).sackedTo = o
			changed = true
		}
	}
	if changed {
		a.acked(p, ts)
	}
}

// acked notes that p's acknowledged point moved: its extent, and its acked
// hole waiting for its allowance.
func (a *Assembler) acked(p *half, ts int64) {
	p.updateExtent()
	if !p.pending && p.ackEvidence() > p.next {
		p.pending = true
		a.extraFor(p).pendingSince = ts
		a.pending.pushBack(p)
	}
}

// rstPayload counts the payload of a RST of h (n bytes claimed) and hands it
// to a handler that asks for it (RSTHandler). RFC 9293 (3.5.3) makes such
// data diagnostic, not part of the stream: it never extends the stream nor
// becomes a gap, whether or not anything else of the direction was captured.
func (a *Assembler) rstPayload(h *half, seg *Segment, n int) {
	h.Stats.RSTBytes += int64(n)
	if rh, ok := a.h.(RSTHandler); ok {
		p := seg.Payload
		if len(p) > n {
			p = p[:n]
		}
		rh.RSTPayload(&h.Stream, seg.Seq, p, seg.Timestamp)
	}
}
