package tcpasm

import (
	"slices"

	"github.com/reseq/reseq/layers"
)

// This file holds the connections and their lifecycle: opening, reuse of a
// tuple, finishing, closing, expiry and the tuples' next connection index.

// conn is a connection and its two directions.
//
// Invariant: it is in exactly one of Assembler.live (open, least recently
// active first), Assembler.done (both directions finished or reset,
// lingering, in order of doneAt) and Assembler.dormant (idle longer than
// Config.IdleTimeout, its held bytes flushed, in order of doneAt), and in
// Assembler.flows under hash, until drop takes it out of all of them.
type conn struct {
	Conn
	h          [2]half
	hash       uint64 // Key.SymmetricHash(): its slot in Assembler.flows
	prev, next *conn
	doneAt     int64
	lastCP     int32
	in         connListID // the list c is in (Assembler.live, done or dormant), if any
	sigs       sigMemory  // recent packets of both directions, for duplicate detection
}

// norm is the tuple, lower endpoint first (the key of Assembler.reuse).
func (c *conn) norm() layers.FlowKey {
	k, _ := c.Key.Normalize()
	return k
}

func (c *conn) ended() bool {
	return (c.h[0].FIN && c.h[1].FIN) || c.h[0].RST || c.h[1].RST || (c.h[0].closed && c.h[1].closed)
}

// connListID names the list a connection is in (conn.in): a byte instead
// of a pointer to the list keeps conn small (ConnCost).
type connListID uint8

const (
	inNoList connListID = iota
	inLive
	inDone
	inDormant
)

// connList is an intrusive list of connections; id is what its members'
// conn.in says.
type connList struct {
	front, back *conn
	id          connListID
}

// listOf is the list c is in, nil if none.
func (a *Assembler) listOf(c *conn) *connList {
	switch c.in {
	case inLive:
		return &a.live
	case inDone:
		return &a.done
	case inDormant:
		return &a.dormant
	}
	return nil
}

func (l *connList) pushBack(c *conn) {
	c.in = l.id
	c.prev, c.next = l.back, nil
	if l.back != nil {
		l.back.next = c
	} else {
		l.front = c
	}
	l.back = c
}

func (l *connList) remove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.front = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.back = c.prev
	}
	c.prev, c.next, c.in = nil, nil, inNoList
}

// startsNew reports whether a SYN (or data on a finished connection) belongs to
// a new connection on the tuple.
func (a *Assembler) startsNew(c *conn, d Direction, seg *Segment) bool {
	h := &c.h[d]
	if seg.Flags&SYN == 0 {
		// Data on a finished connection, far from where it ended.
		if !h.HaveBase {
			return false
		}
		o := h.unwrap(seg.Seq)
		return o < -reuseWindow || o > h.Extent+reuseWindow
	}
	if h.ownSYN(seg.Seq) {
		return false // the connection's own SYN again, even after its end
	}
	if c.in == inDone && continuesHandshake(c, d, seg) {
		return false // the handshake goes on after a RST (see survives)
	}
	if c.ended() {
		return true
	}
	if h.synSeen {
		return seg.Seq != h.isn
	}
	if h.HaveBase {
		o := h.unwrap(seg.Seq + 1)
		return o < -reuseWindow || o > h.Extent+reuseWindow
	}
	return false
}

// continuesHandshake reports whether seg, of direction d, is the SYN-ACK
// that answers the connection's own SYN: it acknowledges the peer's captured
// ISN+1, and its direction had no SYN of another ISN (nor a stream it lies
// far from).
func continuesHandshake(c *conn, d Direction, seg *Segment) bool {
	h, p := &c.h[d], &c.h[(d^1)&1]
	if seg.Flags&(SYN|ACK) != SYN|ACK || !p.synSeen || seg.Ack != p.isn+1 {
		return false
	}
	if h.synSeen {
		return seg.Seq == h.isn
	}
	if h.HaveBase {
		o := h.unwrap(seg.Seq + 1)
		return o >= -reuseWindow && o <= h.Extent+reuseWindow
	}
	return true
}

// survives reports whether seg, of direction d of c, shows that the
// connection went on after the RST that ended it (c lingers in
// Assembler.done): the RST was forged in an endpoint's name (an injection,
// an evasion) or a middlebox's, and did not end the connection. The
// evidence is either
//
//   - the handshake goes on: the SYN-ACK that answers the connection's own
//     SYN (continuesHandshake);
//   - the RST's sender goes on: a segment without RST from a direction that
//     sent one, in its sequence (not far from its stream, as startsNew
//     judges: the capture may have missed a segment between), that carries
//     something new: bytes at or beyond the RST's number (beyond everything
//     its stream reached when that number is unknown), or an acknowledgment
//     beyond its last. A stack that reset a connection sends nothing on it
//     but RSTs; its segments the capture reordered behind the RST carry
//     nothing beyond the RST's number.
//
// Data of the RST's receiver alone is no evidence: it may have been in
// flight when the RST passed the capture point. It is delivered all the
// same while the connection lingers.
func (a *Assembler) survives(c *conn, d Direction, seg *Segment, n int) bool {
	h, p := &c.h[d], &c.h[(d^1)&1]
	if h.closed || p.closed || h.rsts == 0 && p.rsts == 0 || (h.FIN && p.FIN) {
		return false
	}
	if seg.Flags&SYN != 0 {
		return continuesHandshake(c, d, seg)
	}
	if seg.Flags&RST != 0 || h.rsts == 0 || !h.HaveBase {
		return false
	}
	if n > 0 {
		f := h.frontier()
		if h.rstKnown {
			f = h.x.rstOff // bytes from the RST's number on were sent after it
		}
		if o := h.unwrap(seg.Seq); o < h.frontier()+reuseWindow && o+int64(n) > f && o >= h.next-reuseWindow {
			return true
		}
	}
	if seg.Flags&ACK != 0 && p.HaveBase && p.haveAckSeq {
		o := p.unwrap(seg.Ack)
		return seqNum(seg.Ack).after(seqNum(p.ackSeq)) && o <= p.frontier()
	}
	return false
}

// survive takes c back among the live connections: it survived the RSTs
// that had ended it (counted, StreamStats.RSTSurvived). It keeps its
// number, roles and streams; the holes the RSTs declared stay declared
// (bytes that fill them later are Late); its directions are no longer
// reset, and their bytes beyond a RST's number are data again.
func (a *Assembler) survive(c *conn) {
	for d := range c.h {
		h := &c.h[d]
		h.Stats.RSTSurvived += int64(h.rsts)
		a.st.RSTSurvived += int64(h.rsts)
		h.rsts = 0
		h.RST, h.rstKnown = false, false
	}
	a.done.remove(c)
	a.live.pushBack(c)
}

// ownSYN reports whether a SYN numbered seq is the direction's own: its
// captured SYN's ISN, or one below the base a SYN-less start set.
func (h *half) ownSYN(seq uint32) bool {
	if h.synSeen {
		return seq == h.isn
	}
	return h.HaveBase && seq+1 == h.BaseSeq
}

func (a *Assembler) newConn(norm layers.FlowKey, hash uint64, seg *Segment, index int) *conn {
	if a.cfg.NoMidstream && seg.Flags&SYN == 0 {
		return nil
	}
	for a.flows.n >= a.cfg.MaxConns {
		if v := a.done.front; v != nil {
			a.finish(v, ReasonEOF, a.now)
			continue
		}
		if v := a.dormant.front; v != nil {
			a.st.IdleClosed++
			a.finish(v, ReasonIdle, a.now)
			continue
		}
		v := a.live.front
		if v == nil {
			break
		}
		a.st.ConnEvictions++
		a.finish(v, ReasonEvicted, a.now)
	}
	c := a.fl.newConn()
	c.hash, c.lastCP = hash, NoCapturePoint
	c.Key = seg.Key
	if seg.Flags&(SYN|ACK) == SYN|ACK {
		c.Key = seg.Key.Reverse() // the SYN-ACK's receiver is the client
	}
	c.Index = index
	c.Seq = a.seq
	c.FirstIndex = seg.Index
	c.Filtered = seg.Filtered
	a.seq++
	c.First, c.Last = seg.Timestamp, seg.Timestamp
	for d := range c.h {
		h := &c.h[d]
		h.Conn = &c.Conn
		h.Dir = Direction(d)
		h.c = c
		c.Streams[d] = &h.Stream
	}
	a.flows.put(hash, c)
	a.live.pushBack(c)
	a.st.ConnsTotal++
	a.h.Open(&c.Conn)
	return c
}

// finCheck notes a direction whose FIN has been reached (every byte below it
// delivered or declared). Once both directions have reached theirs, the
// connection is finished: it lingers (Config.Linger) to absorb late copies and
// retransmissions, then its directions are closed (ReasonFIN) and it leaves
// the table.
func (a *Assembler) finCheck(h *half, ts int64) {
	if h.finKnown && !h.finReached && h.next >= h.x.finOff {
		h.finReached = true
	}
	if c := h.c; h.finReached && (h.peer().finReached || h.peer().closed) && c.in == inLive {
		a.live.remove(c)
		c.doneAt = ts
		a.done.pushBack(c)
	}
}

// closeHalf accounts every byte of the direction up to its extent (holes as
// gaps with reason, or acked/closed where evidence says so), delivers what is
// held, and calls Close.
func (a *Assembler) closeHalf(h *half, gapReason, closeReason Reason, ts int64) {
	if h.closed {
		return
	}
	a.dropSuspects(h)
	// The capture missed this direction's FIN but the connection closed
	// gracefully (the peer's FIN was seen) and the peer ACKed exactly one unit
	// beyond everything captured: that unit is taken to be the FIN, not a
	// byte.
	if !h.FIN && h.peer().FIN && h.HaveBase && h.ackedTo > h.dataEnd && h.ackedTo > h.next && h.extra().sackedTo < h.ackedTo {
		a.setFin(h, h.ackedTo-1)
	}
	h.closing = true
	end := h.Extent
	if l := h.held.last(); l != nil && l.end() > end {
		end = l.end()
	}
	r := gapReason
	if (r == ReasonEOF || r == ReasonIdle) && h.finKnown && h.next < h.x.finOff {
		r = ReasonClosed // the FIN fixed the extent: the capture missed these bytes
	}
	a.flushTo(h, end, r, ts)
	a.releaseHeld(h)
	h.Extent = max(h.Extent, h.next)
	if u := a.oob(h); u != nil {
		h.Extent -= below(u, h.Extent) // the offsets the handler was given
	}
	h.closed = true
	h.pending = false
	a.pending.remove(h)
	if p := h.past; p != nil {
		if p.window != nil {
			a.retained -= int64(len(p.window.buf))
			a.fl.putRetain(p.window)
		}
		h.past = nil
		a.fl.putPast(p)
	}
	a.h.Close(&h.Stream, closeReason, ts)
	if c := h.c; h.peer().closed && c.in == inLive {
		a.live.remove(c)
		c.doneAt = ts
		a.done.pushBack(c)
	}
}

// reset ends both directions of c (a RST was seen).
//
// Every hole below what the evidence covers becomes a gap (acked or closed)
// and the held bytes are delivered, but the directions are closed only when
// the connection leaves the table (Config.Linger): packets the capture
// reordered behind the RST still fill their gaps (Late). Bytes the RST's
// sender sends at or beyond the RST's number are counted, not delivered.
func (a *Assembler) reset(c *conn, ts int64) {
	for d := range c.h {
		h := &c.h[d]
		if h.closed {
			continue
		}
		end := h.dataEnd
		if h.finKnown {
			end = max(end, h.x.finOff)
		}
		end = max(end, h.ackEvidence())
		if l := h.held.last(); l != nil {
			end = max(end, l.end())
		}
		a.flushTo(h, end, ReasonClosed, ts)
		h.pending = false
		a.pending.remove(h)
	}
	if c.in == inLive {
		a.live.remove(c)
		c.doneAt = ts
		a.done.pushBack(c)
	}
}

// finish closes both directions of c with reason and takes it out of the table.
func (a *Assembler) finish(c *conn, reason Reason, ts int64) {
	for d := range c.h {
		h := &c.h[d]
		cr, gr := reason, reason
		switch {
		case h.RST || h.peer().RST:
			cr, gr = ReasonRST, ReasonClosed
		case h.FIN && reason == ReasonEOF:
			cr = ReasonFIN
		}
		a.closeHalf(h, gr, cr, ts)
	}
	a.drop(c)
}

// drop takes c out of the table.
func (a *Assembler) drop(c *conn) {
	if l := a.listOf(c); l != nil {
		l.remove(c)
	}
	if a.flows.del(c.hash, c) {
		n := c.norm()
		r := reuseRec{next: c.Index + 1}
		if c.ended() {
			r.ended = true
			r.client = c.Key.Hash()
			for d := range c.h {
				h := &c.h[d]
				e := &r.end[d]
				e.isn, e.synSeen = h.isn, h.synSeen
				e.base, e.haveBase = h.BaseSeq, h.HaveBase
				e.extent = h.Extent
				if h.finKnown {
					e.extent = max(e.extent, h.x.finOff+1)
				}
			}
		}
		a.remember(n.Hash(), r)
	}
	if a.last == c {
		a.last = nil
	}
	c.sigs.release(&a.fl)
	// Give back the directions' extra records. finish closed both
	// directions, so no suspect is left and neither is pending: the two
	// calls below do nothing then, and keep a recycled record from ever
	// being linked should that change.
	for d := range c.h {
		if h := &c.h[d]; h.x != nil {
			a.dropSuspects(h)
			h.pending = false
			a.pending.remove(h)
			a.fl.putExtra(h.x)
			h.x = nil
		}
	}
}

// reuseRec is the next connection index of a tuple, and when it was set;
// for a connection that ended (FINs or a RST), what identifies its late
// packets (see closedJoins).
type reuseRec struct {
	next   int
	at     int64
	ended  bool
	client uint64 // Conn.Key.Hash() of the ended connection
	end    [2]endRec
}

// endRec is what an ended connection's direction leaves to recognise its
// late packets by.
type endRec struct {
	isn, base         uint32
	synSeen, haveBase bool
	extent            int64 // the stream's end, its FIN included
}

// closedJoins reports whether seg belongs to the ended connection r
// remembers, which has left the table: a retransmitted FIN, RST, ACK or
// data that carries nothing beyond the stream's end, or a SYN with the
// direction's own (captured) ISN. Such a packet never opens a new connection.
func closedJoins(r *reuseRec, seg *Segment, n int) bool {
	if !r.ended {
		return false
	}
	d := 0
	if seg.Key.Hash() != r.client {
		d = 1
	}
	e := &r.end[d]
	if seg.Flags&SYN != 0 {
		// Only a captured SYN's ISN identifies the ended connection: a
		// base set without a SYN is where capture began, not ISN+1, and
		// a new connection's SYN may fall just below it.
		return e.synSeen && seg.Seq == e.isn
	}
	if !e.haveBase {
		return false
	}
	o := seqNum(seg.Seq).sub(seqNum(e.base))
	return o >= -reuseWindow && o+int64(n) <= e.extent
}

// reuseKeep is how long (capture time) a tuple's next connection index is
// kept after its connection left the table.
const reuseKeep = 600e9

// reuseCost is what an entry of Assembler.reuse costs, about (counted in
// MaxMemory); the map takes at most a sixteenth of MaxMemory.
const reuseCost = 96

// remember records the next connection index of a tuple. The map is pruned of
// entries older than reuseKeep whenever it doubles, so it holds about the
// tuples that closed recently: a tuple reused after longer starts again at 0.
// Once it would outgrow its share of MaxMemory, the older half of its entries
// is pruned instead, whatever their age.
func (a *Assembler) remember(h uint64, r reuseRec) {
	if a.reuseCap == 0 {
		a.reuseCap = 1 << 12
	}
	if len(a.reuse) >= a.reuseCap {
		for k, r := range a.reuse {
			if a.now-r.at > reuseKeep {
				delete(a.reuse, k)
			}
		}
		if len(a.reuse) >= a.reuseCap/2 {
			if int64(2*a.reuseCap)*reuseCost <= a.cfg.MaxMemory/16 {
				a.reuseCap *= 2
			} else {
				a.pruneReuse()
			}
		}
	}
	r.at = a.now
	a.reuse[h] = r
}

// pruneReuse drops the older half of the reuse entries.
func (a *Assembler) pruneReuse() {
	at := make([]int64, 0, len(a.reuse))
	for _, r := range a.reuse {
		at = append(at, r.at)
	}
	slices.Sort(at)
	cut := at[len(at)/2]
	for k, r := range a.reuse {
		if r.at < cut || (r.at == cut && len(a.reuse) > a.reuseCap/4) {
			delete(a.reuse, k)
		}
	}
}

// dormantKeep is how long (capture time) a dormant connection stays in the
// table beyond the idle timeout: a segment in its sequence resumes it until
// then.
const dormantKeep = reuseKeep

// expire drops the finished connections whose linger time is over, makes
// dormant the connections idle for longer than the idle timeout (see
// sleep), and closes the dormant ones after dormantKeep. The lists are
// ordered by time, so this looks at their fronts only.
func (a *Assembler) expire() {
	now := a.now
	for c := a.done.front; c != nil && now-c.doneAt >= a.cfg.Linger; c = a.done.front {
		a.finish(c, ReasonEOF, now)
	}
	if a.cfg.IdleTimeout < 0 {
		return
	}
	for c := a.live.front; c != nil && now-c.Last >= a.cfg.IdleTimeout; c = a.live.front {
		a.sleep(c, now)
	}
	// dormant is in the order of Last, as live was.
	for c := a.dormant.front; c != nil && now-c.Last >= a.cfg.IdleTimeout+dormantKeep; c = a.dormant.front {
		a.st.IdleClosed++
		a.finish(c, ReasonIdle, now)
	}
}

// sleep makes c dormant: it went quiet for longer than the idle timeout.
// Every hole of its open directions becomes a gap (ReasonIdle) and the bytes
// held above them are delivered, so that it holds no bytes; but its streams
// stay open and it keeps its place in the table (counted in MaxConns and
// MaxMemory as any connection without data), with its number, its roles and
// where each direction's sequence is. A later segment in that sequence
// resumes it (Stats.Resumed, see Assemble); a SYN with another ISN or a
// segment far from its sequence closes it (ReasonIdle) and opens a new
// connection. A connection still dormant dormantKeep after the idle
// timeout, or evicted
// first under MaxConns or MaxMemory (dormant connections go before live
// ones), is closed with ReasonIdle.
func (a *Assembler) sleep(c *conn, ts int64) {
	a.st.Idled++
	for d := range c.h {
		h := &c.h[d]
		if h.closed {
			continue
		}
		a.dropSuspects(h)
		end := h.next
		if l := h.held.last(); l != nil && l.end() > end {
			end = l.end()
		}
		if end > h.next {
			a.flushTo(h, end, ReasonIdle, ts)
		}
		a.releaseHeld(h)
		h.pending = false
		a.pending.remove(h)
	}
	a.live.remove(c)
	c.doneAt = ts
	a.dormant.pushBack(c)
}

// wake resumes a dormant connection: a segment in its sequence arrived.
func (a *Assembler) wake(c *conn) {
	a.st.Resumed++
	a.dormant.remove(c)
	a.live.pushBack(c)
}

// reveal makes visible a connection opened by a Filtered segment, at its
// first segment that is not (see RevealHandler): the handler is told, then
// given, for each direction, what was assembled of it as a gap of reason
// ReasonFiltered. (Its directions are open: closeHalf runs only as a
// connection leaves the table.)
func (a *Assembler) reveal(c *conn, ts int64) {
	c.Filtered = false
	c.First = ts
	if rh, ok := a.h.(RevealHandler); ok {
		rh.Reveal(&c.Conn)
	}
	for d := range c.h {
		h := &c.h[d]
		h.Stats = StreamStats{}
		h.First, h.Last = 0, 0
		n := h.next
		if u := a.oob(h); u != nil {
			_, n = mapRange(u, 0, n)
		}
		if n > 0 {
			a.h.Gap(&h.Stream, 0, n, ReasonFiltered, ts)
			h.Stats.Gaps++
			h.Stats.GapBytes += n
		}
	}
}
