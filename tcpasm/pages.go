package tcpasm

// This file holds the in-place store for tiny out-of-order segments.
//
// A stream that holds many pieces above a hole (tiny segments arriving out of
// order: interactive traffic, a capture that reordered a burst of small
// writes) copies further small segments straight to their place in pages of
// the stream's byte range, instead of into a buffer each. Such a piece (ref
// winRef) is still one record of the ordered held list, with its own packet
// index and time, but it owns no buffer, no handle and no seams: holding it
// costs a search, an insertion and a copy of its bytes, and nothing for the
// collector. A page is counted whole in the held-bytes accounting while it
// is in use, and is given back as soon as the stream delivered past it.

const (
	// winRef is the ref of a piece whose bytes are in its stream's pages.
	winRef = ^uint32(0)

	pageShift = 12
	pageSize  = 1 << pageShift

	// winPieceMax: segments up to this many bytes are candidates for pages.
	winPieceMax = 512
	// winMinPieces: a stream uses pages once it holds this many pieces; the
	// first few stay in buffers of their own size (a single held tiny
	// segment costs its bytes, not a page).
	winMinPieces = 16
	// winMaxPages bounds the pages' span above the stream's next byte (4 MiB);
	// segments further up are held in buffers.
	winMaxPages = 1024
	// winMinLimit: pages are used only when the per-stream limit and the
	// memory cap can take this many of them.
	winMinLimit = 4 * pageSize
)

// pageStore is a stream direction's pages: a ring indexed by page number
// (offset>>pageShift), holding the pages in [lo, lo+len(ring)).
type pageStore struct {
	ring [][]byte // len a power of two; nil entries: pages not in use
	lo   int64    // the page number of the ring's first slot's page
	n    int      // pages in use
}

// isWin reports whether p's bytes are in its stream's pages.
func (p *piece) isWin() bool { return p.ref == winRef }

// inBuf reports whether p's bytes are in a buffer of its own (freeLists).
func (p *piece) inBuf() bool { return p.ref != 0 && p.ref != winRef }

// page returns the page of offset off (which must be in use).
func (w *pageStore) page(off int64) []byte {
	return w.ring[(off>>pageShift)&int64(len(w.ring)-1)]
}

// bytes returns the bytes of the window piece pc (pieces never cross a page).
func (w *pageStore) bytes(pc *piece) []byte {
	o := pc.off & (pageSize - 1)
	return w.page(pc.off)[o : o+pc.n]
}

// useWin reports whether the len(b) bytes at off go to h's pages.
func (a *Assembler) useWin(h *half, off int64, n int) bool {
	if n > winPieceMax || a.pagesFrom < 0 || h.held.n < a.pagesFrom {
		return false
	}
	w := &h.pages
	if w.n == 0 {
		w.lo = h.next >> pageShift
	}
	// A segment that would cross a page boundary is held in a buffer: a
	// piece's bytes are contiguous, and one segment stays one piece.
	p := off >> pageShift
	return p >= w.lo && p-w.lo < winMaxPages && (off+int64(n)-1)>>pageShift == p
}

// holdWin copies b, at off, into h's pages (useWin said yes) and inserts its
// piece at ps.
func (a *Assembler) holdWin(h *half, ps pos, off int64, b []byte, seg *Segment) {
	w := &h.pages
	p := off >> pageShift
	if need := p - w.lo + 1; need > int64(len(w.ring)) {
		a.growWin(w, need)
	}
	slot := p & int64(len(w.ring)-1)
	if w.ring[slot] == nil {
		w.ring[slot] = a.fl.get(pageSize)
		w.n++
		h.heldCost += pageSize
		a.held += pageSize
	}
	copy(w.ring[slot][off&(pageSize-1):], b)
	pc := piece{off: off, n: int64(len(b)), ref: winRef, index: seg.Index, ts: seg.Timestamp}
	h.held.insert(ps, pc, &a.fl)
	a.addHeld(h, pc)
}

// growWin makes w's ring at least need slots long, keeping its pages.
func (a *Assembler) growWin(w *pageStore, need int64) {
	size := max(len(w.ring), 16)
	for int64(size) < need {
		size *= 2
	}
	ring := a.fl.getWinRing(size)
	if w.n > 0 {
		om, nm := int64(len(w.ring)-1), int64(size-1)
		for p := w.lo; p < w.lo+int64(len(w.ring)); p++ {
			if pg := w.ring[p&om]; pg != nil {
				ring[p&nm] = pg
				w.ring[p&om] = nil
			}
		}
	}
	if w.ring != nil {
		a.fl.putWinRing(w.ring)
	}
	w.ring = ring
}

// slideWin gives back the pages h no longer needs (it has some): those below
// its next byte's page, and all of them once nothing is held.
func (a *Assembler) slideWin(h *half) {
	w := &h.pages
	m := int64(len(w.ring) - 1)
	np := h.next >> pageShift
	if h.held.empty() {
		np = w.lo + int64(len(w.ring))
	}
	for k := int64(0); k < min(np-w.lo, int64(len(w.ring))) && w.n > 0; k++ {
		slot := (w.lo + k) & m
		if pg := w.ring[slot]; pg != nil {
			a.fl.put(pg)
			w.ring[slot] = nil
			w.n--
			h.heldCost -= pageSize
			a.held -= pageSize
		}
	}
	if np > w.lo {
		w.lo = np
	}
	if h.heldCost == 0 && h.holding() {
		a.holders.remove(h)
	}
}

// releaseWin gives back h's ring (its pages are already back: nothing is
// held when a direction closes).
func (a *Assembler) releaseWin(h *half) {
	if h.pages.ring != nil && h.pages.n == 0 {
		a.fl.putWinRing(h.pages.ring)
		h.pages.ring = nil
	}
}

// splitWin gives the bytes [from, to) of the window piece at ps to packet
// index at ts (last-wins replaced them): the piece becomes up to three.
func (a *Assembler) splitWin(h *half, ps pos, from, to, index, ts int64) {
	m := *h.held.at(ps)
	h.held.remove(ps, &a.fl)
	parts := [3]piece{
		{off: m.off, n: from - m.off, ref: winRef, index: m.index, ts: m.ts},
		{off: from, n: to - from, ref: winRef, index: index, ts: ts},
		{off: to, n: m.end() - to, ref: winRef, index: m.index, ts: m.ts},
	}
	added := int64(-1)
	for _, p := range parts {
		if p.n > 0 {
			h.held.insert(h.held.find(p.off), p, &a.fl)
			added++
		}
	}
	h.heldCost += added * pieceOverhead
	a.held += added * pieceOverhead
}

// getWinRing returns a ring of size slots, all nil.
func (f *freeLists) getWinRing(size int) [][]byte {
	for i, r := range f.winRings {
		if len(r) == size {
			last := len(f.winRings) - 1
			f.winRings[i] = f.winRings[last]
			f.winRings[last] = nil
			f.winRings = f.winRings[:last]
			return r
		}
	}
	return make([][]byte, size)
}

// putWinRing keeps a ring (all nil) for another stream.
func (f *freeLists) putWinRing(r [][]byte) {
	if len(f.winRings) < maxFreeBlock {
		f.winRings = append(f.winRings, r)
	}
}
