package tcpasm

import (
	"encoding/binary"
	"slices"
	"unsafe"

	"github.com/reseq/reseq/layers"
)

// Defaults of Config (see its fields).
const (
	DefaultMaxHeldPerStream = 4 << 20
	DefaultMaxMemory        = 64 << 20
	DefaultMaxConns         = 1 << 20
	DefaultIdleTimeout      = 120e9
	DefaultReorderWindow    = 5e6
	DefaultReorderBytes     = 256 << 10
	DefaultDupWindow        = 10e6
	DefaultConflictWindow   = 16 << 10
	DefaultLinger           = 2e9
)

const (
	// maxJump: a segment claiming bytes more than this above a stream's
	// frontier, or an ACK or SACK that far ahead, is suspect (see suspect).
	// No real connection has that much in flight beyond everything the
	// capture saw of it; a stray or corrupt packet, or a capture of random
	// sequence numbers, does.
	maxJump = 4 << 20
	// corroborateSlack: how far beyond a suspect ACK a corroborating one may
	// lie (see believeAck).
	corroborateSlack = 64 << 10
	// reuseWindow: a SYN whose sequence number lies this far from a live
	// connection's stream (and whose direction's SYN was not captured) starts
	// a new connection on the tuple.
	reuseWindow = 1 << 24
	// maxGapRanges is how many declared gap ranges a stream remembers for Late.
	maxGapRanges = 64
	// keepAliveIdle: a one-byte segment below the acknowledged point is a
	// keep-alive only after the direction was quiet this long (capture time).
	keepAliveIdle = 500e6
	// nSig is how many recent packets per connection duplicate detection keeps.
	nSig = 16
)

// ConnCost is what a connection costs the Assembler while it carries no data
// and has seen one packet: its record and its share of the table (measured by
// TestConnCost). A connection takes sigRingCost more with its second packet
// and listCost more with its first held byte (see Config.MaxMemory).
const ConnCost = int64(unsafe.Sizeof(conn{})) + 48

// MinConns connections are kept whatever MaxMemory says: the budget evicts
// connections only beyond them.
const MinConns = 64

const (
	sigRingCost = int64(unsafe.Sizeof(sigRing{}))
	listCost    = int64(unsafe.Sizeof(heldList{}))
)

// DefaultConfig returns the default policies and limits.
func DefaultConfig() Config {
	return Config{
		Overlap:          FirstWins,
		MaxHeldPerStream: DefaultMaxHeldPerStream,
		MaxMemory:        DefaultMaxMemory,
		MaxConns:         DefaultMaxConns,
		IdleTimeout:      DefaultIdleTimeout,
		ReorderWindow:    DefaultReorderWindow,
		ReorderBytes:     DefaultReorderBytes,
		DupWindow:        DefaultDupWindow,
		ConflictWindow:   DefaultConflictWindow,
		Linger:           DefaultLinger,
	}
}

func (c *Config) withDefaults() Config {
	d := DefaultConfig()
	r := *c
	if r.MaxHeldPerStream <= 0 {
		r.MaxHeldPerStream = d.MaxHeldPerStream
	}
	if r.MaxMemory <= 0 {
		r.MaxMemory = d.MaxMemory
	}
	if r.MaxConns <= 0 {
		r.MaxConns = d.MaxConns
	}
	if r.IdleTimeout == 0 {
		r.IdleTimeout = d.IdleTimeout
	}
	if r.ReorderWindow == 0 {
		r.ReorderWindow = d.ReorderWindow
	}
	if r.ReorderBytes <= 0 {
		r.ReorderBytes = d.ReorderBytes
	}
	if r.DupWindow == 0 {
		r.DupWindow = d.DupWindow
	}
	if r.ConflictWindow == 0 {
		r.ConflictWindow = d.ConflictWindow
	}
	if r.ConflictWindow > 0 {
		// A power of two, at least minRetain.
		w := int64(minRetain)
		for w < r.ConflictWindow && w < 1<<40 {
			w <<= 1
		}
		r.ConflictWindow = w
	}
	if r.Linger == 0 {
		r.Linger = d.Linger
	}
	return r
}

// Stats are the Assembler's own counters.
type Stats struct {
	Packets       int64 // segments given to Assemble
	Conns         int   // connections in the table now (live and lingering)
	ConnsTotal    int64 // connections opened
	Held          int64 // bytes held now (MemoryHeld)
	PeakHeld      int64 // the most bytes held between two calls of Assemble (within one, a segment's bytes may be held before the limits are applied)
	Retained      int64 // bytes of the delivered-bytes windows kept for Conflict detection
	Memory        int64 // what counts in MaxMemory now: held bytes, windows and the connection table
	PeakMemory    int64 // the most Memory between two calls of Assemble
	Evictions     int64 // streams flushed under global memory pressure (ReasonEvicted)
	ConnEvictions int64 // connections evicted at MaxConns or under MaxMemory
	IdleClosed    int64 // connections closed by the idle timeout
	Ignored       int64 // segments dropped: NoMidstream, or no usable direction
	AfterClose    int64 // payload bytes that arrived for a stream direction already closed (data after RST, ...)
	OutOfWindow   int64 // suspects dropped: data, ACKs or SACKs far beyond their stream that nothing corroborated (see StreamStats.OutOfWindow)
	LateDropped   int64 // bytes that arrived again below the end of a forgotten gap range (late or retransmitted, no longer known which): counted, not delivered
}

// Assembler reassembles the TCP streams of a capture. It is not safe for
// concurrent use: shard by layers.FlowKey.SymmetricHash and run one Assembler
// per goroutine for parallelism.
type Assembler struct {
	cfg Config
	h   Handler

	flows    flowTable           // live and lingering connections
	reuse    map[uint64]reuseRec // next connection index of a tuple whose connection left the table
	reuseCap int                 // prune reuse when it reaches this size
	live     connList            // open connections, least recently active first
	done     connList            // finished connections lingering, oldest first

	holders halfList // stream directions holding bytes, oldest holder first
	pending halfList // stream directions with an acked hole waiting for its allowance, oldest first
	fl      freeLists

	now    int64
	nowSet bool
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
	return s
}

// memory is what counts in MaxMemory: held bytes, retention windows, and the
// connection table with what its connections took.
func (a *Assembler) memory() int64 {
	return a.held + a.retained + a.suspectBytes + int64(a.flows.n)*(ConnCost+a.cfg.ConnOverhead) + int64(len(a.reuse))*reuseCost +
		int64(a.fl.sigRingsOut)*sigRingCost + int64(a.fl.listsOut)*listCost
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
		c := a.live.front
		if c == nil {
			return
		}
		a.st.ConnEvictions++
		a.finish(c, ReasonEvicted, ts)
	}
}

// conn is a connection and its two directions.
type conn struct {
	Conn
	h          [2]half
	hash       uint64 // Key.SymmetricHash(): its slot in Assembler.flows
	prev, next *conn
	list       *connList
	doneAt     int64
	lastCP     int32
	sigs       sigMemory // recent packets of both directions, for duplicate detection
}

// norm is the tuple, lower endpoint first (the key of Assembler.reuse).
func (c *conn) norm() layers.FlowKey {
	k, _ := c.Key.Normalize()
	return k
}

func (c *conn) ended() bool {
	return (c.h[0].FIN && c.h[1].FIN) || c.h[0].RST || c.h[1].RST || (c.h[0].closed && c.h[1].closed)
}

type connList struct{ front, back *conn }

func (l *connList) pushBack(c *conn) {
	c.list = l
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
	c.prev, c.next, c.list = nil, nil, nil
}

// halfLink is a stream direction's place in one of the half lists.
type halfLink struct {
	prev, next *half
	in         bool
}

// The half lists; each uses its own link of the half.
const (
	holdersList = iota // directions holding bytes
	pendingList        // directions with an acked hole waiting for its allowance
	numHalfLists
)

// halfList is an intrusive list of stream directions through their link k.
type halfList struct {
	front, back *half
	k           int
}

func (l *halfList) pushBack(h *half) {
	lk := &h.links[l.k]
	lk.in = true
	lk.prev, lk.next = l.back, nil
	if l.back != nil {
		l.back.links[l.k].next = h
	} else {
		l.front = h
	}
	l.back = h
}

// remove takes h out of the list; it does nothing when h is not in it.
func (l *halfList) remove(h *half) {
	lk := &h.links[l.k]
	if !lk.in {
		return
	}
	if lk.prev != nil {
		lk.prev.links[l.k].next = lk.next
	} else {
		l.front = lk.next
	}
	if lk.next != nil {
		lk.next.links[l.k].prev = lk.prev
	} else {
		l.back = lk.prev
	}
	*lk = halfLink{}
}

// sig identifies a packet's headers and payload for duplicate detection.
type sig struct {
	seq, ack, tsval uint32
	length          int32
	win, ipid       uint16
	flags           uint8
	hasTS           bool
	dir             uint8
	fp              uint64 // payload fingerprint: first and last 8 bytes
}

type sigRec struct {
	sig
	cp int32
	ts int64
}

// sigMemory is a connection's memory of its latest nSig packets. The first
// packet's record lives inline; the ring is taken with the second packet, so
// a connection of a single packet (a SYN scan) costs one record, not nSig.
// Records are written in turn: packet i (0-based) is at ring slot i%nSig.
type sigMemory struct {
	first    sigRec
	firstKey uint64
	ring     *sigRing
	n        int // packets recorded
}

// sigRing holds the records of the latest nSig packets and their keys (the
// keys apart: two cache lines to scan instead of twelve).
type sigRing struct {
	recs [nSig]sigRec
	keys [nSig]uint64
}

// next returns the record and key slot for the next packet.
func (m *sigMemory) next(fl *freeLists) (*sigRec, *uint64) {
	i := m.n
	m.n++
	if i == 0 {
		return &m.first, &m.firstKey
	}
	if m.ring == nil {
		m.ring = fl.getSigRing()
		m.ring.recs[0], m.ring.keys[0] = m.first, m.firstKey
	}
	i %= nSig
	return &m.ring.recs[i], &m.ring.keys[i]
}

// release gives the ring back once the connection left the table.
func (m *sigMemory) release(fl *freeLists) {
	if m.ring != nil {
		fl.putSigRing(m.ring)
		m.ring = nil
	}
}

// key hashes every field of s: equal sigs have equal keys, and differing
// ones almost never do.
func (s *sig) key() uint64 {
	var ts uint64
	if s.hasTS {
		ts = 1
	}
	x := uint64(s.seq)<<32 | uint64(s.ack)
	y := uint64(s.tsval)<<32 | uint64(uint32(s.length))
	z := uint64(s.win)<<48 | uint64(s.ipid)<<32 | uint64(s.flags)<<16 | uint64(s.dir)<<8 | ts
	// Four independent multiplies (they run in parallel), one fold: a
	// collision costs only a full compare.
	k := x*0x9E3779B97F4A7C15 ^ y*0xC2B2AE3D27D4EB4F ^ z*0x165667B19E3779F9 ^ s.fp*0xD6E8FEB86659FD93
	return k ^ k>>29
}

// makeSig returns the signature of seg's headers; its payload fingerprint is
// set by fingerprint.
func makeSig(seg *Segment, n int) sig {
	return sig{seq: seg.Seq, ack: seg.Ack, tsval: seg.TSVal, length: int32(n), win: seg.Window,
		ipid: seg.IPID, flags: seg.Flags, hasTS: seg.HasTS}
}

// fingerprint is the payload part of a sig: its first and last 8 bytes.
// fingerprint returns the payload's fingerprint, the one FromPacket noted when
// the payload is still the slice it was taken of.
func (s *Segment) fingerprint() uint64 {
	if len(s.Payload) > 0 && s.fpOf == &s.Payload[0] && s.fpLen == len(s.Payload) {
		return s.fp
	}
	return fingerprint(s.Payload)
}

func fingerprint(p []byte) uint64 {
	if len(p) >= 8 {
		return binary.LittleEndian.Uint64(p) ^ (binary.LittleEndian.Uint64(p[len(p)-8:]) * 0x9E3779B97F4A7C15)
	}
	var fp uint64
	for _, b := range p {
		fp = fp<<8 | uint64(b)
	}
	return fp
}

// span is a remembered gap range whose bytes have not (all) arrived late.
type span struct{ off, end int64 }

// half is the reassembly state of one stream direction.
type half struct {
	Stream
	c *conn

	isn    uint32 // the SYN's sequence number (synSeen)
	finRaw uint32 // the FIN's end in sequence numbers, while the base is unknown

	// The peer's acknowledgments of this direction: raw (kept from before
	// the base is known) and as offsets.
	ackRaw, sackRaw uint32
	ackHi, sackHi   int64

	win uint16 // the window this direction last advertised (for the peer's zero-window probes)

	synSeen    bool
	haveWin    bool
	haveAckRaw bool
	haveSackR  bool
	finKnown   bool // FIN offset known
	finReached bool // every byte below the FIN is accounted
	settled    bool // closing: an ACK's last unit without a FIN seen is a byte
	rstKnown   bool // this direction sent a RST at rstOff
	pending    bool // the peer ACKed past next: an acked gap awaits its allowance
	closed     bool

	next   int64 // every byte below is delivered or in a gap
	hiData int64 // one past the highest byte a data segment (or RST) claimed
	rstOff int64
	finOff int64 // the FIN's offset (FIN seen, finKnown)

	pendSince int64

	susData, susAck *suspect // far evidence waiting to be corroborated

	held     *heldList // nil until the direction holds bytes
	heldCost int64
	heldData int64

	ret    *retain
	gaps   []span
	forgot int64 // end of the newest gap range forgotten
	unret  int64 // end of the bytes delivered while no retention window could be had

	prevLast int64 // capture time of the direction's packet before this one

	links [numHalfLists]halfLink // in Assembler.holders and Assembler.pending
}

// peer is the other direction of h's connection.
func (h *half) peer() *half { return &h.c.h[1-h.Dir] }

// holding reports whether h is in Assembler.holders.
func (h *half) holding() bool { return h.links[holdersList].in }

// unwrap turns a sequence number into a stream offset, by serial arithmetic
// around the stream's frontier (its extent).
func (h *half) unwrap(seq uint32) int64 {
	ref := h.Extent
	return ref + int64(int32(seq-(h.BaseSeq+uint32(ref))))
}

// ackEvidence is the offset up to which the peer has acknowledged bytes.
//
// Without a captured FIN, the last unit of an ACK beyond every byte the
// capture saw may be the FIN's: it is only declared when the direction closes
// (see closeHalf).
func (h *half) ackEvidence() int64 {
	e := h.ackHi
	if h.finKnown {
		e = min(e, h.finOff)
	} else if e > h.hiData && e > 0 && !h.settled {
		e--
	}
	return e
}

func (h *half) updateExtent() {
	if h.closed {
		return
	}
	e := max(h.hiData, h.next)
	a := max(h.ackHi, h.sackHi)
	if h.finKnown {
		e = max(e, h.finOff)
		a = min(a, h.finOff)
	}
	h.Extent = max(e, a)
}

func (h *half) setBase(seq uint32) {
	h.BaseSeq = seq
	h.HaveBase = true
	if h.FIN && !h.finKnown {
		h.setFin(h.unwrap(h.finRaw))
	}
	if h.haveAckRaw {
		if o := h.unwrap(h.ackRaw); o > h.ackHi && o <= maxJump {
			h.ackHi = o
		}
	}
	if h.haveSackR {
		if o := h.unwrap(h.sackRaw); o > h.sackHi && o <= maxJump {
			h.sackHi = o
		}
	}
	h.updateExtent()
}

func (h *half) setFin(off int64) {
	if off < h.next {
		off = h.next
	}
	h.finKnown = true
	h.finOff = off
	h.updateExtent()
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
	a.inBatch = false
	for i, r := range a.deferred {
		r.flush()
		a.deferred[i] = nil
	}
	a.deferred = a.deferred[:0]
}

// Assemble takes one captured segment. It calls the Handler for what the
// segment makes known, in stream order; the segment's payload is not retained
// (out-of-order bytes are copied).
func (a *Assembler) Assemble(seg *Segment) {
	ts := seg.Timestamp
	if !a.nowSet || ts > a.now {
		a.now = ts
		a.nowSet = true
	}
	a.st.Packets++
	n := max(seg.Length, len(seg.Payload))
	for h := a.pending.front; h != nil && a.cfg.ReorderWindow >= 0 && a.now-h.pendSince >= a.cfg.ReorderWindow; h = a.pending.front {
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
			c = a.newConn(norm, hash, seg, a.reuse[norm.Hash()].next)
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
	if seg.Flags&SYN != 0 || (c.list == &a.done && n > 0) {
		if a.startsNew(c, d, seg) {
			idx := c.Index + 1
			norm, hash := c.norm(), c.hash
			a.finish(c, ReasonEOF, ts)
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
	a.last = c
	a.segment(c, d, seg, n)
	if a.held > a.cfg.MaxMemory {
		a.relieve(ts)
	}
	a.expire()
	if a.flows.n > MinConns {
		if m := a.memory(); m > a.cfg.MaxMemory {
			a.shed(ts)
		}
	}
	if a.held > a.st.PeakHeld {
		a.st.PeakHeld = a.held
	}
	if m := a.memory(); m > a.st.PeakMemory {
		a.st.PeakMemory = m
	}
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

func (a *Assembler) newConn(norm layers.FlowKey, hash uint64, seg *Segment, index int) *conn {
	if a.cfg.NoMidstream && seg.Flags&SYN == 0 {
		return nil
	}
	for a.flows.n >= a.cfg.MaxConns {
		if v := a.done.front; v != nil {
			a.finish(v, ReasonEOF, a.now)
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

// segment processes one segment of direction d of c.
func (a *Assembler) segment(c *conn, d Direction, seg *Segment, n int) {
	h := &c.h[d]
	p := h.peer()
	ts := seg.Timestamp
	c.Last = ts
	if c.list == &a.live && a.live.back != c {
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
	h.prevLast = h.Last
	if h.Stats.Packets == 1 {
		h.First = ts
		h.prevLast = ts
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
		above := int64(seg.Seq - (h.BaseSeq + uint32(h.next))) // off - next, when below maxJump
		fresh = above < maxJump && above+int64(n) <= max(h.Extent, h.next)-h.next+maxJump &&
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
	r, rk := c.sigs.next(&a.fl)
	r.sig, r.cp, r.ts = sg, seg.CapturePoint, seg.Timestamp
	*rk = sk

	if flags&SYN != 0 && !h.closed {
		if !h.HaveBase {
			h.SYN = true
			h.setBase(seg.Seq + 1)
		}
		if !h.synSeen {
			h.synSeen = true
			h.isn = seg.Seq
		}
	}
	if flags&RST != 0 {
		h.RST = true
	}
	if !h.closed {
		if n > 0 && !h.HaveBase && flags&RST == 0 {
			h.setBase(seg.Seq)
		}
		if h.HaveBase {
			off := h.unwrap(seg.Seq)
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
			h.finRaw = seg.Seq + uint32(n)
		}
	} else if n > 0 {
		a.st.AfterClose += int64(n)
	}
	if fresh {
		r.fp = seg.fingerprint()
		*rk = r.sig.key()
	}
	if flags&ACK != 0 {
		a.ack(p, seg, ts)
	}
	if !h.haveWin || seg.Window != h.win {
		h.win, h.haveWin = seg.Window, true
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
	if h.susData != nil || h.susAck != nil {
		a.recheck(h, ts)
	}
	if p.susData != nil || p.susAck != nil {
		a.recheck(p, ts)
	}
	a.finCheck(h, ts)
	a.finCheck(p, ts)
}

// recheck applies h's suspects that its frontier has come within reach of
// (other evidence moved it): they are no longer far.
func (a *Assembler) recheck(h *half, ts int64) {
	if h.closed {
		return
	}
	reach := h.frontier() + maxJump
	if s := h.susAck; s != nil && s.lo <= reach {
		a.confirmAck(h, ts)
	}
	if s := h.susData; s != nil && s.hi <= reach {
		a.confirmData(h)
	}
}

// apply takes the RST, data and FIN of seg (n bytes claimed at off) into h.
func (a *Assembler) apply(h *half, seg *Segment, off int64, n int, ts int64) {
	flags := seg.Flags
	switch {
	case flags&RST != 0:
		// The RST's number is the sender's next: bytes below it existed.
		e := off + int64(n)
		if h.finKnown {
			e = min(e, h.finOff)
		}
		if e > h.hiData && e <= max(h.Extent, h.next)+maxJump {
			h.hiData = e
			h.updateExtent()
		}
		if !h.rstKnown || e < h.rstOff {
			h.rstKnown, h.rstOff = true, max(e, h.next)
		}
		if n > 0 {
			a.st.AfterClose += int64(n)
		}
	case n > 0:
		a.data(h, seg, off, n, ts)
	case off == h.next-1 && flags&(SYN|FIN) == 0:
		h.Stats.KeepAlives++ // a zero-length keep-alive
	}
	if flags&FIN != 0 && !h.FIN {
		h.FIN = true
		h.setFin(off + int64(n))
	}
}

// dup reports whether seg is an identical copy of a recent packet.
func (a *Assembler) dup(h *half, s *sig, key uint64, seg *Segment) bool {
	m := &h.c.sigs
	if m.ring == nil {
		return m.n > 0 && m.firstKey == key && a.sameCopy(&m.first, s, seg)
	}
	k := min(m.n, nSig)
	for i, sk := range m.ring.keys[:k] {
		if sk == key && a.sameCopy(&m.ring.recs[i], s, seg) {
			return true
		}
	}
	return false
}

// sameCopy reports whether seg, of signature s, is a copy of the packet r
// recorded: another capture point, or the same within the DupWindow.
func (a *Assembler) sameCopy(r *sigRec, s *sig, seg *Segment) bool {
	return r.sig == *s && (r.cp != seg.CapturePoint || seg.Timestamp-r.ts <= a.cfg.DupWindow)
}

// ack applies the acknowledgment (and SACK blocks) of seg to the stream it
// acknowledges.
func (a *Assembler) ack(p *half, seg *Segment, ts int64) {
	if !p.haveAckRaw || int32(seg.Ack-p.ackRaw) > 0 {
		p.ackRaw, p.haveAckRaw = seg.Ack, true
	}
	for i := 0; i < seg.NumSACK && i < MaxSACK; i++ {
		r := seg.SACK[i].Right
		if !p.haveSackR || int32(r-p.sackRaw) > 0 {
			p.sackRaw, p.haveSackR = r, true
		}
	}
	if !p.HaveBase || p.closed {
		return
	}
	changed := false
	if o := p.unwrap(seg.Ack); o > p.ackHi && a.believeAck(p, o, false, ts) {
		p.ackHi = o
		changed = true
	}
	for i := 0; i < seg.NumSACK && i < MaxSACK; i++ {
		if o := p.unwrap(seg.SACK[i].Right); o > p.sackHi && a.believeAck(p, o, true, ts) {
			p.sackHi = o
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
		p.pendSince = ts
		a.pending.pushBack(p)
	}
}

// suspect is evidence far beyond a stream direction's frontier (more than
// maxJump above everything known of it): a data segment (its bytes and FIN),
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

// frontier is the highest offset h's evidence reached.
func (h *half) frontier() int64 { return max(h.Extent, h.next) }

// believe reports whether the data (or FIN) of seg, [lo, hi) of h, may be
// applied: it is within maxJump of h's frontier, or it corroborates one of
// h's suspects (which is applied first): it starts where the suspect data
// ends (or is a copy of it), or it holds the suspect ACK's number. Otherwise
// it becomes h's data suspect.
func (a *Assembler) believe(h *half, lo, hi int64, seg *Segment, n int) bool {
	if hi <= h.frontier()+maxJump {
		return true
	}
	if s := h.susData; s != nil && (lo == s.hi || lo == s.lo) {
		a.confirmData(h)
		return true
	}
	if s := h.susAck; s != nil && lo <= s.lo && s.lo <= hi {
		a.confirmAck(h, seg.Timestamp)
		return true
	}
	a.dropSuspect(h, &h.susData)
	s := &suspect{lo: lo, hi: hi, seg: *seg, n: n}
	s.seg.Payload = append([]byte(nil), seg.Payload[:min(len(seg.Payload), n)]...)
	s.seg.fpOf = nil
	h.susData = s
	a.suspectBytes += int64(len(s.seg.Payload))
	return false
}

// believeAck is believe for the ACK (or SACK right edge) o of p: it
// corroborates p's suspect data when it acknowledges some of its bytes, and
// p's suspect ACK when it is the second later ACK at or at most
// corroborateSlack beyond the one before (a receiver's ACKs after a
// blackout; two random numbers agree so by a chance of 2^-32).
func (a *Assembler) believeAck(p *half, o int64, sack bool, ts int64) bool {
	if o <= p.frontier()+maxJump {
		return true
	}
	if s := p.susData; s != nil && o > s.lo && o <= s.hi {
		a.confirmData(p)
		return true
	}
	if s := p.susAck; s != nil && o >= s.lo && o <= s.lo+corroborateSlack {
		s.votes++
		s.lo, s.hi, s.sack = o, o, sack
		if s.votes < 2 {
			return false
		}
		p.susAck = nil
		return true
	}
	a.dropSuspect(p, &p.susAck)
	p.susAck = &suspect{lo: o, hi: o, sack: sack}
	return false
}

// confirmData applies h's suspect data: a later packet corroborated it.
func (a *Assembler) confirmData(h *half) {
	s := h.susData
	h.susData = nil
	a.suspectBytes -= int64(len(s.seg.Payload))
	a.apply(h, &s.seg, s.lo, s.n, s.seg.Timestamp)
}

// confirmAck applies h's suspect ACK: a later packet corroborated it.
func (a *Assembler) confirmAck(h *half, ts int64) {
	s := h.susAck
	h.susAck = nil
	switch {
	case s.sack && s.lo > h.sackHi:
		h.sackHi = s.lo
	case !s.sack && s.lo > h.ackHi:
		h.ackHi = s.lo
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
	if a.cfg.ReorderWindow >= 0 && ts-h.pendSince < a.cfg.ReorderWindow && h.heldData <= rb && ev-h.next <= rb {
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
		if ev := max(h.ackEvidence(), min(h.sackHi, h.Extent)); ev > h.next {
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
	a.h.Gap(&h.Stream, h.next, n, reason, ts)
	h.Stats.Gaps++
	h.Stats.GapBytes += n
	if k := len(h.gaps); k > 0 && h.gaps[k-1].end == h.next {
		h.gaps[k-1].end = end
	} else {
		if k == maxGapRanges {
			h.forgetGap()
		}
		if h.gaps == nil {
			h.gaps = make([]span, 0, 2) // most streams have few gaps
		}
		h.gaps = append(h.gaps, span{h.next, end})
	}
	h.next = end
}

// forgetGap drops the oldest remembered gap range: bytes that arrive for it
// later are counted (Stats.LateDropped), not delivered.
func (h *half) forgetGap() {
	g := h.gaps[0]
	copy(h.gaps, h.gaps[1:])
	h.gaps = h.gaps[:len(h.gaps)-1]
	if h.ret != nil && h.ret.from < g.end {
		h.ret.from = g.end
	}
	if h.forgot < g.end {
		h.forgot = g.end
	}
}

// deliver hands bytes at next to the handler.
//
// stable says data is the segment's own payload (valid for the whole batch in
// AssembleBatch), not bytes of the held store, so its retention copy may be
// deferred.
func (a *Assembler) deliver(h *half, data []byte, index, ts int64, stable bool) {
	off := h.next
	a.h.Data(&h.Stream, off, data, ts)
	h.Stats.Bytes += int64(len(data))
	h.next = off + int64(len(data))
	if a.cfg.ConflictWindow > 0 {
		a.retainWrite(h, off, data, index, ts, stable)
	}
}

func (a *Assembler) retainWrite(h *half, off int64, data []byte, index, ts int64, stable bool) {
	r := h.ret
	if r == nil {
		size := min(int64(minRetain), a.cfg.ConflictWindow)
		if a.retained+size > a.cfg.MaxMemory {
			h.unret = max(h.unret, off+int64(len(data)))
			return
		}
		// Bytes delivered before retention started cannot be compared.
		r = a.fl.getRetain()
		r.buf, r.from, r.top = a.fl.getRing(int(size)), h.unret, h.unret
		h.ret = r
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

func (a *Assembler) unhold(h *half, cost, n int64, isData bool) {
	h.heldCost -= cost
	a.held -= cost
	if isData {
		h.heldData -= n
	}
	if h.heldCost == 0 && h.holding() {
		a.holders.remove(h)
	}
}

func (a *Assembler) addHeld(h *half, pc piece) {
	c := pc.cost()
	h.heldCost += c
	if pc.isData() {
		h.heldData += pc.n
	}
	a.held += c
	if !h.holding() {
		a.holders.pushBack(h)
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
		(n == 0 || ts-h.prevLast >= keepAliveIdle) {
		h.Stats.KeepAlives++
		return
	}
	if n == 1 && h.peer().haveWin && h.peer().win == 0 && seg.Flags&(SYN|FIN|RST) == 0 {
		switch off {
		case h.next:
			h.Stats.KeepAlives++ // a zero-window probe: its byte is real, deliver it
		case h.next - 1:
			h.Stats.KeepAlives++ // the probe again while the window stays shut
			return
		}
	}
	if h.rstKnown && cend > h.rstOff {
		// Sent after the RST: counted, not delivered.
		k := min(cend-h.rstOff, int64(n))
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
	if cend > h.hiData {
		h.hiData = cend
		h.updateExtent()
	}
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
			seen = a.old(h, off, p[:e-off], seg)
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
			if a.insert(h, off, p, seg) {
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
	if h.heldCost > a.cfg.MaxHeldPerStream {
		a.limit(h, ts)
	}
	if h.pending && h.heldData > a.cfg.ReorderBytes {
		a.checkPending(h, ts)
	}
}

// limit declares the lowest holes until the bytes held are within the
// per-stream limit.
func (a *Assembler) limit(h *half, ts int64) {
	for h.heldCost > a.cfg.MaxHeldPerStream && !h.closed {
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

// old handles bytes below next: inside a remembered gap they are Late, else
// they were seen before and are compared with the retained bytes. It reports
// whether any were seen before.
func (a *Assembler) old(h *half, off int64, b []byte, seg *Segment) bool {
	end := off + int64(len(b))
	seen := false
	cur := off
	if cur < h.forgot {
		k := min(h.forgot, end) - cur
		a.st.LateDropped += k // may also be retransmitted bytes: cannot tell any more
		cur += k
	}
	i := 0
	for i < len(h.gaps) && h.gaps[i].end <= cur {
		i++
	}
	for cur < end {
		if i < len(h.gaps) && h.gaps[i].off < end {
			g := h.gaps[i]
			if g.off > cur {
				a.compareOld(h, cur, b[cur-off:g.off-off], seg)
				seen = true
				cur = g.off
			}
			le := min(end, g.end)
			data := b[cur-off : le-off]
			a.h.Late(&h.Stream, cur, data, seg.Timestamp)
			k := le - cur
			h.Stats.LateBytes += k
			h.Stats.GapBytes -= k
			if a.cfg.ConflictWindow > 0 {
				a.retainWrite(h, cur, data, seg.Index, seg.Timestamp, true)
			}
			// Take [cur, le) out of the remembered range.
			switch {
			case cur == g.off && le == g.end:
				h.gaps = slices.Delete(h.gaps, i, i+1)
			case cur == g.off:
				h.gaps[i].off = le
			case le == g.end:
				h.gaps[i].end = cur
				i++
			default:
				h.gaps[i].end = cur
				h.gaps = slices.Insert(h.gaps, i+1, span{le, g.end})
				i++
				if len(h.gaps) > maxGapRanges {
					h.forgetGap()
					i--
				}
			}
			cur = le
			continue
		}
		a.compareOld(h, cur, b[cur-off:], seg)
		seen = true
		cur = end
	}
	return seen
}

// compareOld compares bytes seen before (delivered) with the retained copy
// and reports a Conflict where they differ, one per packet whose bytes differ.
func (a *Assembler) compareOld(h *half, off int64, b []byte, seg *Segment) {
	r := h.ret
	if r == nil {
		return
	}
	r.flush()
	lo, hi := max(off, r.lo()), min(off+int64(len(b)), r.top)
	for rs := lo; rs < hi; {
		first, last := int64(-1), int64(-1)
		re, ki, kt := r.runAt(rs)
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
			a.conflict(h, Conflict{Offset: first, Length: last - first + 1, KeptIndex: ki, KeptTime: kt,
				DroppedIndex: seg.Index, DroppedTime: seg.Timestamp}, seg.Timestamp)
		}
		rs = re
	}
}

func (a *Assembler) conflict(h *half, c Conflict, ts int64) {
	h.Stats.Conflicts++
	a.h.Conflict(&h.Stream, c, ts)
}

// insert stores the bytes b at off (off >= next) into the held store, filling
// only what no held piece covers (first-wins; last-wins overwrites held bytes).
// It reports whether b overlapped held bytes.
func (a *Assembler) insert(h *half, off int64, b []byte, seg *Segment) bool {
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
			re, ki, kt := a.fl.runAt(pc, rs)
			re = min(re, oe)
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
				if a.cfg.Overlap == LastWins {
					copy(ob, nb)
					c.KeptIndex, c.KeptTime, c.DroppedIndex, c.DroppedTime = c.DroppedIndex, c.DroppedTime, c.KeptIndex, c.KeptTime
					// The replaced bytes are delivered with their packet's time.
					if pc.isPaged() {
						a.conflict(h, c, seg.Timestamp)
						a.splitPaged(h, ps, c.Offset, c.Offset+c.Length, seg.Index, seg.Timestamp) // moves pieces: pc is stale
						break                                                                      // a paged piece is one run
					}
					d := a.fl.setRun(pc, c.Offset, c.Offset+c.Length, seg.Index, seg.Timestamp)
					h.heldCost += d
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
		h.heldCost += n
		h.heldData += int64(len(b))
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

// finCheck notes a direction whose FIN has been reached (every byte below it
// delivered or declared). Once both directions have reached theirs, the
// connection is finished: it lingers (Config.Linger) to absorb late copies and
// retransmissions, then its directions are closed (ReasonFIN) and it leaves
// the table.
func (a *Assembler) finCheck(h *half, ts int64) {
	if h.finKnown && !h.finReached && h.next >= h.finOff {
		h.finReached = true
	}
	if c := h.c; h.finReached && (h.peer().finReached || h.peer().closed) && c.list == &a.live {
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
	a.dropSuspect(h, &h.susData)
	a.dropSuspect(h, &h.susAck)
	// The capture missed this direction's FIN but the connection closed
	// gracefully (the peer's FIN was seen) and the peer ACKed exactly one unit
	// beyond everything captured: that unit is taken to be the FIN, not a
	// byte.
	if !h.FIN && h.peer().FIN && h.HaveBase && h.ackHi > h.hiData && h.ackHi > h.next && h.sackHi < h.ackHi {
		h.setFin(h.ackHi - 1)
	}
	h.settled = true
	end := h.Extent
	if l := h.held.last(); l != nil && l.end() > end {
		end = l.end()
	}
	r := gapReason
	if (r == ReasonEOF || r == ReasonIdle) && h.finKnown && h.next < h.finOff {
		r = ReasonClosed // the FIN fixed the extent: the capture missed these bytes
	}
	a.flushTo(h, end, r, ts)
	a.releaseHeld(h)
	h.Extent = max(h.Extent, h.next)
	h.closed = true
	h.pending = false
	a.pending.remove(h)
	if h.ret != nil {
		a.retained -= int64(len(h.ret.buf))
		a.fl.putRetain(h.ret)
		h.ret = nil
	}
	h.gaps = nil
	a.h.Close(&h.Stream, closeReason, ts)
	if c := h.c; h.peer().closed && c.list == &a.live {
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
		end := h.hiData
		if h.finKnown {
			end = max(end, h.finOff)
		}
		end = max(end, h.ackEvidence())
		if l := h.held.last(); l != nil {
			end = max(end, l.end())
		}
		a.flushTo(h, end, ReasonClosed, ts)
		h.pending = false
		a.pending.remove(h)
	}
	if c.list == &a.live {
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
	if c.list != nil {
		c.list.remove(c)
	}
	if a.flows.del(c.hash, c) {
		n := c.norm()
		a.remember(n.Hash(), c.Index+1)
	}
	if a.last == c {
		a.last = nil
	}
	c.sigs.release(&a.fl)
}

// reuseRec is the next connection index of a tuple, and when it was set.
type reuseRec struct {
	next int
	at   int64
}

// reuseKeep is how long (capture time) a tuple's next connection index is
// kept after its connection left the table.
const reuseKeep = 600e9

// reuseCost is what an entry of Assembler.reuse costs, about (counted in
// MaxMemory); the map takes at most a sixteenth of MaxMemory.
const reuseCost = 40

// remember records the next connection index of a tuple. The map is pruned of
// entries older than reuseKeep whenever it doubles, so it holds about the
// tuples that closed recently: a tuple reused after longer starts again at 0.
// Once it would outgrow its share of MaxMemory, the older half of its entries
// is pruned instead, whatever their age.
func (a *Assembler) remember(h uint64, next int) {
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
	a.reuse[h] = reuseRec{next, a.now}
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

// expire closes the connections idle for longer than the idle timeout and
// drops the finished ones whose linger time is over. Both lists are ordered by
// time, so this looks at their fronts only.
func (a *Assembler) expire() {
	now := a.now
	for c := a.done.front; c != nil && now-c.doneAt >= a.cfg.Linger; c = a.done.front {
		a.finish(c, ReasonEOF, now)
	}
	if a.cfg.IdleTimeout < 0 {
		return
	}
	for c := a.live.front; c != nil && now-c.Last >= a.cfg.IdleTimeout; c = a.live.front {
		a.st.IdleClosed++
		a.finish(c, ReasonIdle, now)
	}
}

// FlushOlderThan closes (ReasonIdle) every connection whose last packet is
// older than ts, capture time, whatever the idle timeout.
func (a *Assembler) FlushOlderThan(ts int64) {
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
	slices.SortFunc(all, func(x, y *conn) int {
		switch {
		case x.Seq < y.Seq:
			return -1
		case x.Seq > y.Seq:
			return 1
		}
		return 0
	})
	for _, c := range all {
		a.finish(c, ReasonEOF, a.now)
	}
	a.last = nil
}
