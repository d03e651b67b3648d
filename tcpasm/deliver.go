package tcpasm

// This file holds the delivery of a segment's bytes: in order to the
// handler, above a hole to the held store.

// deliver hands bytes at next to the handler.
//
// stable says data is the segment's own payload (valid for the whole batch in
// AssembleBatch), not bytes of the held store, so its retention copy may be
// deferred.
func (a *Assembler) deliver(h *half, data []byte, index, ts int64, stable bool) {
	off := h.next
	if u := a.oob(h); u != nil && u[len(u)-1] >= off {
		h.Stats.Bytes += a.dataOOB(h, u, off, data, ts)
	} else {
		a.h.Data(&h.Stream, off-int64(len(u)), data, ts)
		h.Stats.Bytes += int64(len(data))
	}
	h.next = off + int64(len(data))
	if a.cfg.ConflictWindow > 0 {
		a.retainWrite(h, off, data, index, ts, stable)
	}
}

func (a *Assembler) retainWrite(h *half, off int64, data []byte, index, ts int64, stable bool) {
	if h.past == nil {
		a.newPast(h)
	}
	r := h.past.window
	if r == nil {
		size := min(int64(minRetain), a.cfg.ConflictWindow)
		if a.retained+size > a.cfg.MaxMemory {
			h.past.unretainedEnd = max(h.past.unretainedEnd, off+int64(len(data)))
			return
		}
		// Bytes delivered before retention started cannot be compared.
		r = a.fl.getRetain()
		r.buf, r.from, r.top = a.fl.getRing(int(size)), h.past.unretainedEnd, h.past.unretainedEnd
		h.past.window = r
		a.retained += size
	}
	if a.inBatch && stable {
		if r.deferWrite(off, data, index, ts) {
			a.deferred = append(a.deferred, r)
		}
	} else {
		r.flush() // keep the writes in order
		r.write(off, data, index, ts)
	}
	if r.top-r.from >= int64(len(r.buf)) && int64(len(r.buf)) < a.cfg.ConflictWindow &&
		a.retained+int64(len(r.buf)) <= a.cfg.MaxMemory {
		a.retained += r.grow(a.cfg.ConflictWindow, &a.fl)
	}
}

// drain delivers the held pieces that start at next (and declares the
// truncation markers there), then closes the direction if its FIN is reached.
func (a *Assembler) drain(h *half, ts int64) {
	for {
		f := h.held.first()
		if f == nil || f.off > h.next {
			if h.held != nil && h.held.pages.n != 0 {
				a.slidePages(h)
			}
			return
		}
		pc := *f
		h.held.popFirst(&a.fl)
		a.unhold(h, a.fl.cost(&pc), pc.n, pc.isData())
		if pc.end() <= h.next {
			if pc.inBuf() {
				a.fl.release(pc.ref)
			}
			continue
		}
		if !pc.isData() {
			a.gap(h, pc.end(), ReasonTruncated, ts)
			continue
		}
		if pc.isPaged() {
			a.deliver(h, h.held.pages.bytes(&pc)[h.next-pc.off:], pc.index, pc.ts, false)
			continue
		}
		// One delivery per run of one segment (the piece's own, then each
		// seam's), so each carries its segment's time and index.
		b := a.fl.bytes(pc.ref)
		ri, rt := pc.index, pc.ts
		for k := a.fl.seamsOf(pc.ref); k != 0; k = a.fl.seamPool[k].next {
			sm := a.fl.seamPool[k].seam
			if sm.off > h.next {
				a.deliver(h, b[h.next-pc.off:sm.off-pc.off], ri, rt, false)
			}
			ri, rt = sm.index, sm.ts
		}
		a.deliver(h, b[h.next-pc.off:], ri, rt, false)
		a.fl.release(pc.ref)
	}
}

// data processes the payload of a segment at offset off, claiming n bytes.
func (a *Assembler) data(h *half, seg *Segment, off int64, n int, ts int64) {
	p := seg.Payload
	if len(p) > n {
		p = p[:n]
	}
	cend := off + int64(n)
	// Keep-alive: zero or one byte just below everything the peer acknowledged,
	// after the direction was quiet for a while (a quick one-byte
	// retransmission is not a keep-alive).
	if n <= 1 && off == h.next-1 && h.ackEvidence() >= h.next && seg.Flags&(SYN|FIN|RST) == 0 &&
		(n == 0 || ts-h.prevTime >= keepAliveIdle) {
		h.Stats.KeepAlives++
		return
	}
	if n == 1 && h.peer().haveAdvertised && h.peer().advertised == 0 && seg.Flags&(SYN|FIN|RST) == 0 {
		switch off {
		case h.next:
			h.Stats.KeepAlives++ // a zero-window probe: its byte is real, deliver it
		case h.next - 1:
			h.Stats.KeepAlives++ // the probe again while the window stays shut
			return
		}
	}
	if h.rstKnown && cend > h.x.rstOff {
		// Sent after the RST: counted, not delivered.
		k := min(cend-h.x.rstOff, int64(n))
		a.st.AfterClose += k
		n -= int(k)
		cend = off + int64(n)
		if len(p) > n {
			p = p[:max(n, 0)]
		}
		if n <= 0 {
			return
		}
	}
	if cend > h.dataEnd {
		h.dataEnd = cend
		h.updateExtent()
		if f := cend - h.ackedTo; f > int64(h.inflight) {
			h.inflight = uint32(min(f, maxJump))
		}
	}
	whole := span{off, cend} // the segment's claim, N for the overlap policy
	if off < 0 {
		k := min(-off, int64(len(p)))
		h.Stats.BeforeBase += k
		if cend <= 0 {
			return
		}
		p = p[k:]
		off = 0
	}
	seen := false
	if off < h.next {
		e := min(off+int64(len(p)), h.next)
		if off < e {
			seen = a.old(h, off, p[:e-off], seg, whole)
		}
		if cend <= h.next {
			if seen {
				h.Stats.Retransmitted++
			}
			return
		}
		k := min(h.next-off, int64(len(p)))
		p = p[k:]
		off = h.next
	}
	if len(p) > 0 && off == h.next && !h.held.empty() {
		// Fill the hole at next straight from the payload; only what overlaps
		// the held pieces goes through the store.
		if k := h.held.first().off - off; k > 0 && k < int64(len(p)) {
			a.deliver(h, p[:k], seg.Index, ts, true)
			p = p[k:]
			off = h.next
		}
	}
	if len(p) > 0 {
		if off == h.next && (h.held.empty() || h.held.first().off >= off+int64(len(p))) {
			a.deliver(h, p, seg.Index, ts, true)
		} else {
			if off > h.next {
				h.Stats.OutOfOrder++
			}
			if a.insert(h, off, p, seg, whole) {
				seen = true
			}
		}
	}
	if t := max(off+int64(len(p)), h.next); cend > t {
		if t == h.next {
			// Cut bytes at next: a gap now, up to anything held.
			e := cend
			if f := h.held.first(); f != nil && f.off < e {
				e = f.off
			}
			a.gap(h, e, ReasonTruncated, ts)
			t = e
		}
		if cend > t {
			a.mark(h, t, cend, seg)
		}
	}
	if seen {
		h.Stats.Retransmitted++
	}
	a.drain(h, ts)
	if h.heldCost() > a.cfg.MaxHeldPerStream {
		a.limit(h, ts)
	}
	if h.pending && h.heldData() > a.cfg.ReorderBytes {
		a.checkPending(h, ts)
	}
}
