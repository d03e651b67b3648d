package tcpasm

import "unsafe"

// This file holds the memory budget (Config.MaxMemory): what counts in it,
// and what is evicted over it.

// ConnCost is what a connection costs the Assembler while it carries no data
// and has seen one packet: its record and its share of the table (measured by
// TestConnCost: 880 bytes on amd64). A connection takes sigRingCost more with
// its second packet, extraCost more for each direction that sees a FIN, a
// RST, a SACK, a far (suspect) packet or an acked hole, and listCost more
// with its first held byte (see Config.MaxMemory).
const ConnCost = int64(unsafe.Sizeof(conn{})) + 48

// MinConns connections are kept whatever MaxMemory says: the budget evicts
// connections only beyond them.
const MinConns = 64

const (
	sigRingCost = int64(unsafe.Sizeof(sigRing{}))
	listCost    = int64(unsafe.Sizeof(heldList{}))
	extraCost   = int64(unsafe.Sizeof(extra{}))
	pastCost    = int64(unsafe.Sizeof(past{})) + 32 // and its gap ranges' array, about
)

// memory is what counts in MaxMemory: held bytes, retention windows, and the
// connection table with what its connections took.
func (a *Assembler) memory() int64 {
	return a.held + a.retained + a.suspectBytes + int64(a.flows.n)*(ConnCost+a.cfg.ConnOverhead) + int64(len(a.reuse))*reuseCost +
		int64(a.fl.sigRingsOut)*sigRingCost + int64(a.fl.listsOut)*listCost + int64(a.fl.pastsOut)*pastCost +
		int64(a.fl.extrasOut)*extraCost
}

// shed closes connections, least recently active first (lingering finished
// ones before live ones), while memory exceeds MaxMemory and more than
// MinConns are left.
func (a *Assembler) shed(ts int64) {
	for a.flows.n > MinConns && a.memory() > a.cfg.MaxMemory {
		if c := a.done.front; c != nil {
			a.finish(c, ReasonEOF, ts)
			continue
		}
		if c := a.dormant.front; c != nil {
			a.st.IdleClosed++
			a.finish(c, ReasonIdle, ts)
			continue
		}
		c := a.live.front
		if c == nil {
			return
		}
		a.st.ConnEvictions++
		a.finish(c, ReasonEvicted, ts)
	}
}

// relieve evicts the oldest holders until the bytes held are within MaxMemory:
// their holes become gaps (ReasonEvicted) and their held bytes are delivered.
func (a *Assembler) relieve(ts int64) {
	for a.held > a.cfg.MaxMemory {
		h := a.holders.front
		if h == nil {
			break
		}
		a.st.Evictions++
		if l := h.held.last(); l != nil {
			a.flushTo(h, l.end(), ReasonEvicted, ts)
		}
		a.finCheck(h, ts)
		if h.holding() { // cannot happen: flushTo empties the store
			a.holders.remove(h)
		}
	}
}
