package tcpasm

import "slices"

// This file holds gap declaration: holes the ACK and SACK evidence, the
// limits or the end of a stream declare, and bytes that arrive late in them.

// checkPending declares the acked gap of h once its reordering allowance is
// over.
func (a *Assembler) checkPending(h *half, ts int64) {
	ev := h.ackEvidence()
	if h.closed || ev <= h.next {
		h.pending = false
		a.pending.remove(h)
		return
	}
	rb := a.cfg.ReorderBytes
	if a.cfg.ReorderWindow >= 0 && ts-h.x.pendingSince < a.cfg.ReorderWindow && h.heldData() <= rb && ev-h.next <= rb {
		return
	}
	h.pending = false
	a.pending.remove(h)
	a.flushTo(h, ev, ReasonAcked, ts)
	a.finCheck(h, ts)
}

// flushTo declares every hole below end (reason, or acked where the peer
// acknowledged it) and delivers the held bytes between them.
func (a *Assembler) flushTo(h *half, end int64, reason Reason, ts int64) {
	for h.next < end && !h.closed {
		f := h.held.first()
		e := end
		if f != nil && f.off < e {
			e = f.off
		}
		if e > h.next {
			a.hole(h, e, reason, ts)
		}
		a.drain(h, ts)
	}
}

// hole declares [next, end), a range no held piece covers, as a gap: the part
// the peer acknowledged as acked, the rest with reason.
func (a *Assembler) hole(h *half, end int64, reason Reason, ts int64) {
	if reason != ReasonAcked && reason != ReasonTruncated {
		if ev := max(h.ackEvidence(), min(h.extra().sackedTo, h.Extent)); ev > h.next {
			a.gap(h, min(end, ev), ReasonAcked, ts)
		}
	}
	a.gap(h, end, reason, ts)
}

// gap reports [next, end) as a gap and remembers it for Late.
func (a *Assembler) gap(h *half, end int64, reason Reason, ts int64) {
	n := end - h.next
	if n <= 0 {
		return
	}
	if u := a.oob(h); u != nil {
		if o, k := mapRange(u, h.next, n); k > 0 {
			a.h.Gap(&h.Stream, o, k, reason, ts)
			h.Stats.Gaps++
			h.Stats.GapBytes += k
		}
	} else {
		a.h.Gap(&h.Stream, h.next, n, reason, ts)
		h.Stats.Gaps++
		h.Stats.GapBytes += n
	}
	if h.past == nil {
		a.newPast(h)
	}
	if k := len(h.past.gapRanges); k > 0 && h.past.gapRanges[k-1].end == h.next {
		h.past.gapRanges[k-1].end = end
	} else {
		if k == maxGapRanges {
			h.forgetGap()
		}
		if h.past.gapRanges == nil {
			h.past.gapRanges = make([]span, 0, 2) // most streams have few gaps
		}
		h.past.gapRanges = append(h.past.gapRanges, span{h.next, end})
	}
	h.next = end
}

// forgetGap drops the oldest remembered gap range: bytes that arrive for it
// later are counted (Stats.LateDropped), not delivered.
func (h *half) forgetGap() {
	g := h.past.gapRanges[0]
	copy(h.past.gapRanges, h.past.gapRanges[1:])
	h.past.gapRanges = h.past.gapRanges[:len(h.past.gapRanges)-1]
	if h.past.window != nil && h.past.window.from < g.end {
		h.past.window.from = g.end
	}
	if h.past.forgottenEnd < g.end {
		h.past.forgottenEnd = g.end
	}
}

// limit declares the lowest holes until the bytes held are within the
// per-stream limit.
func (a *Assembler) limit(h *half, ts int64) {
	for h.heldCost() > a.cfg.MaxHeldPerStream && !h.closed {
		f := h.held.first()
		if f == nil {
			break
		}
		if f.off > h.next {
			a.hole(h, f.off, ReasonLimit, ts)
		}
		a.drain(h, ts)
	}
}

// old handles bytes below next: inside a remembered gap they are Late, else
// they were seen before and are compared with the retained bytes. It reports
// whether any were seen before.
func (a *Assembler) old(h *half, off int64, b []byte, seg *Segment, whole span) bool {
	if h.past == nil {
		a.newPast(h)
	}
	end := off + int64(len(b))
	seen := false
	cur := off
	if cur < h.past.forgottenEnd {
		k := min(h.past.forgottenEnd, end) - cur
		a.st.LateDropped += k // may also be retransmitted bytes: cannot tell any more
		cur += k
	}
	i := 0
	for i < len(h.past.gapRanges) && h.past.gapRanges[i].end <= cur {
		i++
	}
	for cur < end {
		if i < len(h.past.gapRanges) && h.past.gapRanges[i].off < end {
			g := h.past.gapRanges[i]
			if g.off > cur {
				a.compareOld(h, cur, b[cur-off:g.off-off], seg, whole)
				seen = true
				cur = g.off
			}
			le := min(end, g.end)
			data := b[cur-off : le-off]
			a.h.Late(&h.Stream, cur-below(a.oob(h), cur), data, seg.Timestamp)
			k := le - cur
			h.Stats.LateBytes += k
			h.Stats.GapBytes -= k
			if a.cfg.ConflictWindow > 0 {
				a.retainWrite(h, cur, data, seg.Index, seg.Timestamp, true)
			}
			// Take [cur, le) out of the remembered range.
			switch {
			case cur == g.off && le == g.end:
				h.past.gapRanges = slices.Delete(h.past.gapRanges, i, i+1)
			case cur == g.off:
				h.past.gapRanges[i].off = le
			case le == g.end:
				h.past.gapRanges[i].end = cur
				i++
			default:
				h.past.gapRanges[i].end = cur
				h.past.gapRanges = slices.Insert(h.past.gapRanges, i+1, span{le, g.end})
				i++
				if len(h.past.gapRanges) > maxGapRanges {
					h.forgetGap()
					i--
				}
			}
			cur = le
			continue
		}
		a.compareOld(h, cur, b[cur-off:], seg, whole)
		seen = true
		cur = end
	}
	return seen
}
