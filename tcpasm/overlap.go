package tcpasm

// This file holds overlapping bytes: retransmissions compared with the
// bytes seen before (conflicts), and the held store's insertion.

func (a *Assembler) unhold(h *half, cost, n int64, isData bool) {
	h.held.cost -= cost
	a.held -= cost
	if isData {
		h.held.data -= n
	}
	if h.held.cost == 0 && h.holding() {
		a.holders.remove(h)
	}
}

func (a *Assembler) addHeld(h *half, pc piece) {
	c := pc.cost()
	h.held.cost += c
	if pc.isData() {
		h.held.data += pc.n
	}
	a.held += c
	if !h.holding() {
		a.holders.pushBack(h)
	}
}

// compareOld compares bytes seen before (delivered) with the retained copy
// and reports a Conflict where they differ, one per packet whose bytes differ.
// Where the overlap policy prefers the new copy, the retained bytes are
// replaced and the Conflict carries the new bytes (Replace), for the handler
// to rewrite what it was given. whole is the segment's whole claim (N): the
// policy weighs where all of it starts and ends, not only the part compared.
func (a *Assembler) compareOld(h *half, off int64, b []byte, seg *Segment, whole span) {
	if h.past == nil {
		return
	}
	r := h.past.window
	if r == nil {
		return
	}
	r.flush()
	end := off + int64(len(b))
	lo, hi := max(off, r.lo()), min(end, r.top)
	for rs := lo; rs < hi; {
		first, last := int64(-1), int64(-1)
		os, re, ki, kt := r.runAt(rs)
		re = min(re, hi)
		for o := rs; o < re; o++ {
			if r.at(o) != b[o-off] {
				if first < 0 {
					first = o
				}
				last = o
			}
		}
		if first >= 0 {
			c := Conflict{Offset: first, Length: last - first + 1, KeptIndex: ki, KeptTime: kt,
				DroppedIndex: seg.Index, DroppedTime: seg.Timestamp}
			if oe := max(re, r.runEnd(rs)); a.policy(h).NewWins(os, oe, whole.off, whole.end) {
				nb := b[first-off : last+1-off]
				r.rewrite(first, nb, seg.Index, seg.Timestamp)
				c.KeptIndex, c.KeptTime, c.DroppedIndex, c.DroppedTime = c.DroppedIndex, c.DroppedTime, c.KeptIndex, c.KeptTime
				c.Replace = nb
			}
			a.conflict(h, c, seg.Timestamp)
		}
		rs = re
	}
}

func (a *Assembler) conflict(h *half, c Conflict, ts int64) {
	if u := a.oob(h); u != nil && !conflictOOB(u, &c) {
		return
	}
	h.Stats.Conflicts++
	a.h.Conflict(&h.Stream, c, ts)
}

// insert stores the bytes b at off (off >= next) into the held store, filling
// only what no held piece covers (first-wins; last-wins overwrites held bytes).
// It reports whether b overlapped held bytes. whole is the segment's whole
// claim, for the overlap policy (see compareOld).
func (a *Assembler) insert(h *half, off int64, b []byte, seg *Segment, whole span) bool {
	end := off + int64(len(b))
	seen := false
	cur := off
	for cur < end {
		ps := h.held.find(cur)
		pc := h.held.at(ps)
		if pc == nil || pc.off >= end {
			a.hold(h, ps, cur, b[cur-off:], seg)
			break
		}
		if po := pc.off; po > cur {
			a.hold(h, ps, cur, b[cur-off:po-off], seg) // moves pieces: pc is stale
			cur = po
			continue
		}
		oe := min(pc.end(), end)
		if !pc.isData() {
			// A truncation marker: real bytes replace it.
			m := *pc
			h.held.remove(ps, &a.fl)
			a.unhold(h, m.cost(), m.n, false)
			if m.off < cur {
				a.holdMarker(h, m.off, cur, m.index, m.ts)
			}
			if oe < m.end() {
				a.holdMarker(h, oe, m.end(), m.index, m.ts)
			}
			a.hold(h, h.held.find(cur), cur, b[cur-off:oe-off], seg)
			cur = oe
			continue
		}
		seen = true
		// Compared run by run of one packet's bytes, so that a Conflict
		// names the one packet it kept or replaced.
		for rs := cur; rs < oe; {
			rend, ki, kt := a.fl.runAt(pc, rs)
			re := min(rend, oe)
			nb := b[rs-off : re-off]
			var ob []byte
			if pc.isPaged() {
				ob = h.held.pages.bytes(pc)[rs-pc.off : re-pc.off]
			} else {
				ob = a.fl.bytes(pc.ref)[rs-pc.off : re-pc.off]
			}
			first, last := -1, -1
			for i := range nb {
				if nb[i] != ob[i] {
					if first < 0 {
						first = i
					}
					last = i
				}
			}
			if first >= 0 {
				c := Conflict{Offset: rs + int64(first), Length: int64(last - first + 1),
					KeptIndex: ki, KeptTime: kt, DroppedIndex: seg.Index, DroppedTime: seg.Timestamp}
				if a.policy(h).NewWins(a.fl.runStart(pc, rs), rend, whole.off, whole.end) {
					copy(ob, nb)
					c.KeptIndex, c.KeptTime, c.DroppedIndex, c.DroppedTime = c.DroppedIndex, c.DroppedTime, c.KeptIndex, c.KeptTime
					// The replaced bytes are delivered with their packet's time.
					if pc.isPaged() {
						a.conflict(h, c, seg.Timestamp)
						a.splitPaged(h, ps, c.Offset, c.Offset+c.Length, seg.Index, seg.Timestamp) // moves pieces: pc is stale
						break                                                                      // a paged piece is one run
					}
					d := a.fl.setRun(pc, c.Offset, c.Offset+c.Length, seg.Index, seg.Timestamp)
					h.held.cost += d
					a.held += d
				}
				a.conflict(h, c, seg.Timestamp)
			}
			rs = re
		}
		cur = oe
	}
	return seen
}

func (a *Assembler) hold(h *half, ps pos, off int64, b []byte, seg *Segment) {
	// Bytes that continue the piece before them go into its buffer when it has
	// room: random arrival of tiny segments then costs few pieces. Bytes of
	// another segment start a seam, so that they are delivered with their own
	// segment's time and index.
	if h.held == nil {
		h.held = a.fl.getList()
	}
	if a.usePages(h, off, len(b)) {
		a.holdPaged(h, ps, off, b, seg)
		return
	}
	if prev, bi := h.held.before(ps); prev != nil && prev.inBuf() && prev.end() == off && a.fl.extend(prev.ref, b) {
		n := int64(len(b))
		if a.fl.seamAt(prev, off, seg.Index, seg.Timestamp) {
			n += seamOverhead
		}
		prev.n += int64(len(b))
		h.held.fix(bi)
		h.held.cost += n
		h.held.data += int64(len(b))
		a.held += n
		return
	}
	pc := piece{off: off, n: int64(len(b)), ref: a.fl.hold(b), index: seg.Index, ts: seg.Timestamp}
	h.held.insert(ps, pc, &a.fl)
	a.addHeld(h, pc)
}

func (a *Assembler) holdMarker(h *half, off, end int64, index, ts int64) {
	pc := piece{off: off, n: end - off, index: index, ts: ts}
	if h.held == nil {
		h.held = a.fl.getList()
	}
	h.held.insert(h.held.find(off), pc, &a.fl)
	a.addHeld(h, pc)
}

// mark records [s, e), bytes the snaplen cut, where nothing is held.
func (a *Assembler) mark(h *half, s, e int64, seg *Segment) {
	cur := s
	for cur < e {
		ps := h.held.find(cur)
		pc := h.held.at(ps)
		if pc == nil || pc.off >= e {
			a.holdMarker(h, cur, e, seg.Index, seg.Timestamp)
			break
		}
		po, pe := pc.off, pc.end()
		if po > cur {
			a.holdMarker(h, cur, po, seg.Index, seg.Timestamp) // moves pieces: pc is stale
		}
		cur = max(cur, pe)
	}
}
