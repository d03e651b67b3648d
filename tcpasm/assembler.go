package tcpasm

import (
	"cmp"
	"slices"
)

// This file holds the Assembler and its entry points: Assemble, Close and
// the counters. A segment's path through the rest: segment.go (one packet),
// deliver.go (its bytes), overlap.go (bytes seen before), gaps.go (holes
// declared), plausible.go (far evidence), conns.go (connections' lifecycle).

// Stats are the Assembler's own counters.
type Stats struct {
	Packets       int64 // segments given to Assemble
	Conns         int   // connections in the table now (live and lingering)
	ConnsTotal    int64 // connections opened
	Held          int64 // bytes held now (MemoryHeld)
	PeakHeld      int64 // the most bytes held between two calls of Assemble (within one, a segment's bytes may be held before the limits are applied)
	Retained      int64 // bytes of the delivered-bytes windows kept for Conflict detection
	Memory        int64 // what counts in MaxMemory now: held bytes, windows and the connection table
	PeakMemory    int64 // the most Memory between two calls of Assemble (looked at while bytes are held or more than MinConns connections are in the table)
	Evictions     int64 // streams flushed under global memory pressure (ReasonEvicted)
	ConnEvictions int64 // connections evicted at MaxConns or under MaxMemory
	IdleClosed    int64 // connections closed idle: dormant (see Idled) past their keep time, or evicted while dormant
	Idled         int64 // connections that went quiet longer than the idle timeout: their held bytes were flushed as idle gaps and they turned dormant
	Resumed       int64 // dormant connections that a segment in their sequence resumed (same number, roles and streams)
	Ignored       int64 // segments dropped: NoMidstream, or no usable direction
	AfterClose    int64 // payload bytes that arrived for a stream direction already closed (data after RST, ...)
	OutOfWindow   int64 // suspects dropped: data, ACKs or SACKs far beyond their stream that nothing corroborated (see StreamStats.OutOfWindow)
	ClockLeaps    int64 // segments whose timestamp leapt more than an hour from the capture clock and were assembled at the clock (see Clock)
	TimesBackward int64 // segments whose timestamp is earlier than the one before
	JoinedClosed  int64 // late packets of a connection that ended (FINs or RST) and left the table: retransmitted FINs, RSTs, ACKs or data up to its end, its own SYN; counted, they open no new connection
	RSTSurvived   int64 // RSTs the connection evidently survived (its handshake or its RST's sender went on): they did not end it (see StreamStats.RSTSurvived)
	LateDropped   int64 // bytes that arrived again below the end of a forgotten gap range (late or retransmitted, no longer known which): counted, not delivered
}

// Assembler reassembles the TCP streams of a capture. It is not safe for
// concurrent use: shard by layers.FlowKey.SymmetricHash and run one Assembler
// per goroutine for parallelism.
//
// Invariant: flows holds exactly the connections of live, done and dormant; held is
// the sum of the directions' heldCost, and holders lists exactly the
// directions whose heldCost is not 0, in the order they began to hold;
// pending lists exactly the directions whose pending is set; between calls
// of Assemble, held is within MaxMemory, and so is memory() while more than
// MinConns connections are left.
type Assembler struct {
	cfg Config
	h   Handler

	flows    flowTable           // live, lingering and dormant connections
	reuse    map[uint64]reuseRec // next connection index of a tuple whose connection left the table
	reuseCap int                 // prune reuse when it reaches this size
	live     connList            // open connections, least recently active first
	done     connList            // finished connections lingering, oldest first
	dormant  connList            // connections gone idle, oldest first (see sleep)

	holders halfList // stream directions holding bytes, oldest holder first
	pending halfList // stream directions with an acked hole waiting for its allowance, oldest first
	fl      freeLists

	now    int64
	nowSet bool
	ck     Clock // filters the timestamps' leaps
	seq    int64
	last   *conn // the connection of the previous segment

	held     int64
	retained int64
	st       Stats

	suspectBytes int64 // payload bytes held in suspects

	inBatch  bool      // in AssembleBatch: retention copies are deferred
	deferred []*retain // retains with deferred copies

	pagesFrom int // a stream holding this many pieces puts tiny segments in pages; -1: never (tests set it)
}

// New returns an Assembler that reports to h.
func New(cfg Config, h Handler) *Assembler {
	a := &Assembler{
		cfg:       cfg.withDefaults(),
		h:         h,
		reuse:     make(map[uint64]reuseRec),
		holders:   halfList{k: holdersList},
		pending:   halfList{k: pendingList},
		live:      connList{id: inLive},
		done:      connList{id: inDone},
		dormant:   connList{id: inDormant},
		pagesFrom: pagesMinPieces,
	}
	if a.cfg.MaxHeldPerStream < pagesMinLimit || a.cfg.MaxMemory < pagesMinLimit {
		a.pagesFrom = -1
	}
	return a
}

// MemoryHeld returns the bytes held for out-of-order data across all streams:
// the copies plus a fixed per-piece overhead (see Config.MaxMemory).
func (a *Assembler) MemoryHeld() int64 { return a.held }

// Stats returns the Assembler's counters.
func (a *Assembler) Stats() Stats {
	s := a.st
	s.Conns = a.flows.n
	s.Held = a.held
	s.Retained = a.retained
	s.Memory = a.memory()
	s.ClockLeaps, s.TimesBackward = a.ck.Leaps, a.ck.Backward
	return s
}

// AssembleBatch assembles segs in order, exactly as calling Assemble on each
// would, with the same callbacks. Every payload in segs must stay valid and
// unchanged until AssembleBatch returns (not only during its own segment's
// turn). That lets the assembler defer copying delivered bytes into a
// stream's conflict window (Config.ConflictWindow) to the end of the batch,
// and then copy only what the window still holds: a stream that delivers more
// than the window within a batch has only its tail copied, where Assemble
// copies every byte it delivers.
func (a *Assembler) AssembleBatch(segs []Segment) {
	a.inBatch = true
	for i := range segs {
		a.Assemble(&segs[i])
	}
	a.endBatch()
}

// endBatch ends a batch: the conflict windows whose copies were deferred
// copy what they still hold.
func (a *Assembler) endBatch() {
	a.inBatch = false
	for i, r := range a.deferred {
		r.flush()
		a.deferred[i] = nil
	}
	a.deferred = a.deferred[:0]
}

// Advance moves the capture clock to ts when it is later, as a segment of
// another assembler's share of the capture would have: holes whose reorder
// allowance is over are declared and idle connections are closed. An
// assembler that takes one flow-hash shard of a capture is advanced, before
// each of its segments, to the latest capture time of all the capture's
// segments before it, so that timeouts end as in one assembler that took
// every segment. It may be called between the segments of a batch.
func (a *Assembler) Advance(ts int64) {
	if a.nowSet && ts <= a.now {
		return
	}
	a.now, a.nowSet = ts, true
	for h := a.pending.front; h != nil && a.cfg.ReorderWindow >= 0 && a.now-h.x.pendingSince >= a.cfg.ReorderWindow; h = a.pending.front {
		a.checkPending(h, a.now)
	}
	a.expire()
}

// AssembleShard is AssembleBatch for an assembler that takes one flow-hash
// shard of a capture: before segs[i] the clock is advanced (see Advance) to
// clock[i].
func (a *Assembler) AssembleShard(segs []Segment, clock []int64) {
	a.inBatch = true
	for i := range segs {
		a.Advance(clock[i])
		a.Assemble(&segs[i])
	}
	a.endBatch()
}

// Assemble takes one captured segment. It calls the Handler for what the
// segment makes known, in stream order; the segment's payload is not retained
// (out-of-order bytes are copied).
func (a *Assembler) Assemble(seg *Segment) {
	if !a.clock(seg.Timestamp) {
		// An implausible timestamp: the segment is assembled at the
		// capture clock, so that it neither expires nor splits
		// connections.
		cp := *seg
		cp.Timestamp = a.now
		seg = &cp
	}
	ts := seg.Timestamp
	a.st.Packets++
	n := max(seg.Length, len(seg.Payload))
	for h := a.pending.front; h != nil && a.cfg.ReorderWindow >= 0 && a.now-h.x.pendingSince >= a.cfg.ReorderWindow; h = a.pending.front {
		a.checkPending(h, a.now)
	}

	c := a.last
	var d Direction
	switch {
	case c != nil && keyEq(&seg.Key, &c.Key):
	case c != nil && keyEqRev(&seg.Key, &c.Key):
		d = ServerToClient
	default:
		hash := seg.Key.SymmetricHash()
		c = a.flows.get(hash, &seg.Key)
		if c == nil {
			norm, _ := seg.Key.Normalize()
			r := a.reuse[norm.Hash()]
			if closedJoins(&r, seg, n) {
				// A late packet of a connection that ended and left
				// the table: counted, no new connection.
				a.st.JoinedClosed++
				a.expire()
				return
			}
			c = a.newConn(norm, hash, seg, r.next)
			if c == nil {
				a.st.Ignored++
				a.expire()
				return
			}
		}
		if !keyEq(&seg.Key, &c.Key) {
			d = ServerToClient
		}
	}
	if seg.Flags&SYN != 0 || c.in != inLive && (n > 0 || c.in == inDormant) {
		if a.startsNew(c, d, seg) {
			idx := c.Index + 1
			norm, hash := c.norm(), c.hash
			r := ReasonEOF
			if c.in == inDormant {
				a.st.IdleClosed++
				r = ReasonIdle
			}
			a.finish(c, r, ts)
			c = a.newConn(norm, hash, seg, idx)
			if c == nil {
				a.st.Ignored++
				a.expire()
				return
			}
			d = ClientToServer
			if !keyEq(&seg.Key, &c.Key) {
				d = ServerToClient
			}
		}
	}
	if seg.Filtered && !c.Filtered {
		a.expire() // refused by the caller's filter: it only numbered
		return
	}
	if c.Filtered && !seg.Filtered {
		a.reveal(c, seg.Timestamp)
	}
	if c.in == inDone && a.survives(c, d, seg, n) {
		a.survive(c) // the connection went on after a RST
	}
	if c.in == inDormant {
		a.wake(c)
	}
	a.last = c
	a.segment(c, d, seg, n)
	if a.held > a.cfg.MaxMemory {
		a.relieve(ts)
	}
	a.expire()
	if a.held > a.st.PeakHeld {
		a.st.PeakHeld = a.held
	}
	if a.flows.n > MinConns || a.held > 0 {
		m := a.memory()
		if m > a.cfg.MaxMemory && a.flows.n > MinConns {
			a.shed(ts)
			m = a.memory()
		}
		if m > a.st.PeakMemory {
			a.st.PeakMemory = m
		}
	}
}

// clock moves the capture clock (now) by a segment's timestamp ts (see
// Clock) and reports whether ts is plausible.
func (a *Assembler) clock(ts int64) bool {
	if a.nowSet && a.ck.set && a.ck.now < a.now {
		a.ck.now = a.now // Advance moved it
	}
	ok := a.ck.Observe(ts)
	a.now, a.nowSet = a.ck.now, true
	return ok
}

// FlushOlderThan closes (ReasonIdle) every connection whose last packet is
// older than ts, capture time, whatever the idle timeout.
func (a *Assembler) FlushOlderThan(ts int64) {
	for c := a.dormant.front; c != nil && c.Last < ts; c = a.dormant.front {
		a.st.IdleClosed++
		a.finish(c, ReasonIdle, max(a.now, ts))
	}
	for c := a.live.front; c != nil && c.Last < ts; c = a.live.front {
		a.st.IdleClosed++
		a.finish(c, ReasonIdle, max(a.now, ts))
	}
	for c := a.done.front; c != nil && c.Last < ts; c = a.done.front {
		a.finish(c, ReasonEOF, max(a.now, ts))
	}
}

// Close ends the capture: every open stream direction has its holes declared
// (ReasonEOF; acked where the peer acknowledged the bytes, closed below a FIN),
// its held bytes delivered and its Close called (ReasonEOF, or ReasonFIN/RST
// when those were seen), in the order the connections were first seen. The
// table is empty afterwards; calling Close again does nothing.
func (a *Assembler) Close() {
	all := make([]*conn, 0, a.flows.n)
	a.flows.each(func(c *conn) { all = append(all, c) })
	slices.SortFunc(all, func(x, y *conn) int { return cmp.Compare(x.Seq, y.Seq) })
	for _, c := range all {
		r := ReasonEOF
		if c.in == inDormant {
			r = ReasonIdle // its last event was the idle timeout
		}
		a.finish(c, r, a.now)
	}
	a.last = nil
}
