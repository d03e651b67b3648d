package tcpasm

// This file holds the in-place store for tiny out-of-order segments.
//
// A stream that holds many pieces above a hole (tiny segments arriving out of
// order: interactive traffic, a capture that reordered a burst of small
// writes) copies further small segments straight to their place in pages of
// the stream's byte range, instead of into a buffer each. Such a piece (ref
// pagedRef) is still one record of the ordered held list, with its own packet
// index and time, but it owns no buffer, no handle and no seams: holding it
// costs a search, an insertion and a copy of its bytes, and nothing for the
// collector. A page is counted whole in the held-bytes accounting while it
// is in use, and is given back as soon as the stream delivered past it.

const (
	// pagedRef is the ref of a piece whose bytes are in its stream's pages.
	pagedRef = ^uint32(0)

	pageShift = 12
	pageSize  = 1 << pageShift

	// pagedMax: segments up to this many bytes are candidates for pages.
	pagedMax = 512
	// pagesMinPieces: a stream uses pages once it holds this many pieces; the
	// first few stay in buffers of their own size (a single held tiny
	// segment costs its bytes, not a page).
	pagesMinPieces = 16
	// pagesMax bounds the pages' span above the stream's next byte (4 MiB);
	// segments further up are held in buffers.
	pagesMax = 1024
	// pagesMinLimit: pages are used only when the per-stream limit and the
	// memory cap can take this many of them.
	pagesMinLimit = 4 * pageSize
)

// pageStore is a stream direction's pages: a ring indexed by page number
// (offset>>pageShift), holding the pages in [lo, lo+len(ring)).
type pageStore struct {
	ring [][]byte // len a power of two; nil entries: pages not in use
	lo   int64    // the page number of the ring's first slot's page
	n    int      // pages in use
}

// isPaged reports whether p's bytes are in its stream's pages.
func (p *piece) isPaged() bool { return p.ref == pagedRef }

// inBuf reports whether p's bytes are in a buffer of its own (freeLists).
func (p *piece) inBuf() bool { return p.ref != 0 && p.ref != pagedRef }

// page returns the page of offset off (which must be in use).
func (w *pageStore) page(off int64) []byte {
	return w.ring[(off>>pageShift)&int64(len(w.ring)-1)]
}

// bytes returns the bytes of the paged piece pc (pieces never cross a page).
func (w *pageStore) bytes(pc *piece) []byte {
	o := pc.off & (pageSize - 1)
	return w.page(pc.off)[o : o+pc.n]
}

// usePages reports whether the len(b) bytes at off go to h's pages.
func (a *Assembler) usePages(h *half, off int64, n int) bool {
	if n > pagedMax || a.pagesFrom < 0 || h.held.size() < a.pagesFrom {
		return false
	}
	w := &h.held.pages
	if w.n == 0 {
		w.lo = h.next >> pageShift
	}
	// A segment that would cross a page boundary is held in a buffer: a
	// piece's bytes are contiguous, and one segment stays one piece.
	p := off >> pageShift
	return p >= w.lo && p-w.lo < pagesMax && (off+int64(n)-1)>>pageShift == p
}

// holdPaged copies b, at off, into h's pages (usePages said yes) and inserts its
// piece at ps.
func (a *Assembler) holdPaged(h *half, ps pos, off int64, b []byte, seg *Segment) {
	w := &h.held.pages
	p := off >> pageShift
	if need := p - w.lo + 1; need > int64(len(w.ring)) {
		a.growPages(w, need)
	}
	slot := p & int64(len(w.ring)-1)
	if w.ring[slot] == nil {
		w.ring[slot] = a.fl.get(pageSize)
		w.n++
		h.held.cost += pageSize
		a.held += pageSize
	}
	copy(w.ring[slot][off&(pageSize-1):], b)
	pc := piece{off: off, n: int64(len(b)), ref: pagedRef, index: seg.Index, ts: seg.Timestamp}
	h.held.insert(ps, pc, &a.fl)
	a.addHeld(h, pc)
}

// growPages makes w's ring at least need slots long, keeping its pages.
func (a *Assembler) growPages(w *pageStore, need int64) {
	size := max(len(w.ring), 16)
	for int64(size) < need {
		size *= 2
	}
	ring := a.fl.getPageRing(size)
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
		a.fl.putPageRing(w.ring)
	}
	w.ring = ring
}

// slidePages gives back the pages h no longer needs (it has some): those below
// its next byte's page, and all of them once nothing is held.
func (a *Assembler) slidePages(h *half) {
	w := &h.held.pages
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
			h.held.cost -= pageSize
			a.held -= pageSize
		}
	}
	if np > w.lo {
		w.lo = np
	}
	if h.held.cost == 0 && h.holding() {
		a.holders.remove(h)
	}
}

// releaseHeld gives back h's held list and its ring of pages (the pages are
// already back: nothing is held when a direction closes).
func (a *Assembler) releaseHeld(h *half) {
	l := h.held
	if l == nil || l.n != 0 || l.pages.n != 0 || l.cost != 0 || l.data != 0 {
		return
	}
	if l.pages.ring != nil {
		a.fl.putPageRing(l.pages.ring)
	}
	h.held = nil
	a.fl.putList(l)
}

// splitPaged gives the bytes [from, to) of the paged piece at ps to packet
// index at ts (last-wins replaced them): the piece becomes up to three.
func (a *Assembler) splitPaged(h *half, ps pos, from, to, index, ts int64) {
	m := *h.held.at(ps)
	h.held.remove(ps, &a.fl)
	parts := [3]piece{
		{off: m.off, n: from - m.off, ref: pagedRef, index: m.index, ts: m.ts},
		{off: from, n: to - from, ref: pagedRef, index: index, ts: ts},
		{off: to, n: m.end() - to, ref: pagedRef, index: m.index, ts: m.ts},
	}
	added := int64(-1)
	for _, p := range parts {
		if p.n > 0 {
			h.held.insert(h.held.find(p.off), p, &a.fl)
			added++
		}
	}
	h.held.cost += added * pieceOverhead
	a.held += added * pieceOverhead
}

// getPageRing returns a ring of size slots, all nil.
func (f *freeLists) getPageRing(size int) [][]byte {
	for i, r := range f.pageRings {
		if len(r) == size {
			last := len(f.pageRings) - 1
			f.pageRings[i] = f.pageRings[last]
			f.pageRings[last] = nil
			f.pageRings = f.pageRings[:last]
			return r
		}
	}
	return make([][]byte, size)
}

// putPageRing keeps a ring (all nil) for another stream.
func (f *freeLists) putPageRing(r [][]byte) {
	if len(f.pageRings) < maxFreeBlock {
		f.pageRings = append(f.pageRings, r)
	}
}
