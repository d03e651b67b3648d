package ipfrag

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/reseq/reseq/layers"
)

// Limits of one datagram.
const (
	// MaxHeader is the room kept in every buffer for the first fragment's
	// header (IPv4 with options; IPv6 with its extension headers up to and
	// including the Fragment header). A longer header is malformed.
	MaxHeader = 1024
	// MaxPayload is the most payload bytes a datagram can hold; the IP
	// length fields lower it by the header (see the package doc).
	MaxPayload = 65535
	// MaxFragments is the most distinct fragments one datagram tracks, so a
	// partial datagram has at most MaxFragments runs. A further fragment
	// that is not a duplicate is malformed.
	MaxFragments = 256
	// TombstoneBytes is what a discarded IPv6 datagram's tombstone counts in
	// Stats.BytesHeld until its deadline.
	TombstoneBytes = 256
	// BufferBytes is the capacity of every buffer, what a pending datagram
	// counts in Stats.BytesHeld.
	BufferBytes = MaxHeader + MaxPayload
)

// Defaults of Config.
const (
	DefaultTimeout  = 30e9     // Linux's ipfrag_time
	DefaultMaxBytes = 32 << 20 // 32 MiB
	DefaultMaxDist  = 64       // Linux's ipfrag_max_dist
)

// maxFreeBuffers is the most released buffers kept for reuse; a reader holds
// the buffers of a batch of datagrams at once.
const maxFreeBuffers = 512

// Config bounds a Reassembler. The zero value uses the defaults.
type Config struct {
	// Timeout is the capture time (ns) a datagram may wait for its
	// fragments from its first fragment's arrival; 0 means DefaultTimeout,
	// a negative value never.
	Timeout int64
	// MaxBytes bounds the bytes held by pending datagrams (their buffers'
	// capacity and tombstones); 0 or less means DefaultMaxBytes. Before a
	// new datagram's buffer would pass it, the oldest pending datagrams are
	// made ready early (Stats.Evicted).
	MaxBytes int64
	// MaxDist: a pending datagram that has received none of its fragments
	// while more than MaxDist other fragments of the same (Tag, source,
	// destination) arrived is stale: it is made ready (partial,
	// Stats.Stale) as that fragment arrives, and the next fragment of its
	// identity starts a new datagram. It also bounds how far apart in
	// arrival the pieces of one partial datagram may be (see the package
	// doc). 0 means DefaultMaxDist, a negative value never.
	MaxDist int
}

// Fragment is one IP fragment as decoded from a packet. Add copies what it
// keeps; the caller may reuse the fragment and its bytes afterwards.
type Fragment struct {
	LinkType layers.LinkType
	Encap    *layers.Encap // copied once per datagram; part of the datagram's identity (nil: none)
	Tag      uint64        // the caller's identity (a capture point); part of the identity
	V6       bool
	// Header: IPv4: the fragment's IPv4 header with options. IPv6: the
	// fixed header and every extension header up to and including the
	// Fragment header (the last 8 bytes of Header).
	Header   []byte
	ID       uint32 // IPv4 identification / IPv6 fragment identification
	Protocol uint8  // upper-layer protocol (IPv4 protocol; IPv6 Fragment header's next header)
	Offset   int    // fragment offset in bytes
	More     bool   // more fragments follow
	Data     []byte // captured fragment payload
	Length   int    // claimed payload length (>= len(Data); the rest was cut by the snaplen)
	// Timestamp is the capture time (ns), Index the packet number.
	Timestamp, Index int64
}

// Run is captured bytes of a datagram's payload starting at Offset.
type Run struct {
	Offset int
	Data   []byte
	// Cut is how many bytes right after Data a captured fragment claimed
	// but the snaplen cut: they were sent, at these offsets, and are not
	// held. The bytes after those (up to the next run) were not claimed by
	// any captured fragment.
	Cut int
}

// Datagram is a datagram Next returned, complete or partial.
type Datagram struct {
	LinkType layers.LinkType
	// Encap is the encapsulation the fragments shared (never nil; the zero
	// Encap when none). It points into Buf: valid until Release(Buf).
	Encap    *layers.Encap
	Tag      uint64
	V6       bool
	Complete bool
	// IP: a complete datagram: the first fragment's header rewritten as a
	// whole datagram (IPv4: total length, fragment fields zero, header
	// checksum recomputed; IPv6: payload length, the Fragment header's
	// offset and M flag zeroed so it reads as an atomic fragment) followed
	// by the whole payload, contiguous. A partial one: the same header
	// followed by the captured run that starts at payload offset 0 (header
	// lengths rewritten to match), or nil when the fragment at offset 0 was
	// not captured.
	IP []byte
	// HeaderLen is the length of the header at the start of IP (IPv6: the
	// fixed header and the extension headers up to the Fragment header);
	// IP[HeaderLen:] is the payload from offset 0.
	HeaderLen int
	// Runs: partial only: the other captured runs of the payload, in
	// offset order, maximal (two runs never touch).
	Runs []Run
	// Length is the payload length the last fragment fixed, or -1 when no
	// last fragment was kept.
	Length int
	// Cut0 is Run.Cut of the run at offset 0 (IP[HeaderLen:]), when IP is
	// not nil.
	Cut0 int
	// Train: complete, and its fragments were a train: each given to Add
	// right after the one before it (no other fragment in between, of any
	// datagram), in offset order from 0, each starting where the one
	// before ended, one copy each, none cut by the snaplen. Only the head
	// of one datagram and the tail of the next one that the sender gave
	// the same identification, each sent back to back and each having
	// lost the other part, make a train that mixes two datagrams (see the
	// package doc).
	Train bool
	// Timestamp: the completing fragment's time (complete); the time it
	// was given up (partial: Expire's now, the time of the fragment that
	// made it ready, or for Flush the latest time Add saw). Index: the
	// packet number of the fragment at offset 0, else of the first
	// fragment that arrived of those it holds.
	Timestamp, Index int64
	// Buf holds the bytes of IP and Runs and the Encap: give it back with
	// Release once they are no longer read.
	Buf *Buffer
}

// Buffer holds one datagram's bytes. It is pooled by the Reassembler that
// returned it.
type Buffer struct {
	b      []byte  // MaxHeader of header room, then the payload at its offsets
	pieces []piece // the fragments held, sorted by offset; in inline while they fit
	inline [4]piece
	runs   []Run   // a partial datagram's runs
	order  []int32 // scratch: pieces in arrival order
	encap  layers.Encap
	lent   bool // returned by Next and not yet released
}

// piece is one fragment held: it claimed payload [off, end) and the capture
// holds [off, capEnd) of it. at and own place its latest copy's arrival: the
// pair's counter and the entry's own-fragment counter then; index is its
// first copy's packet number.
type piece struct {
	off, end, capEnd int32
	more             bool
	index            int64
	at, own          int64
}

// Stats counts what a Reassembler did.
type Stats struct {
	Fragments        int64 // fragments given to Add
	Datagrams        int64 // complete datagrams made ready
	Partial          int64 // partial datagrams made ready (TimedOut + Evicted + Reused + Stale + Truncated + flushed)
	Evicted          int64 // partial because of MaxBytes
	TimedOut         int64 // partial because of Expire
	Reused           int64 // IPv4: partial because a fragment conflicting with it started a new datagram
	Stale            int64 // partial because more than MaxDist fragments of its addresses passed it by
	Truncated        int64 // partial because every byte was claimed but the snaplen cut some
	Moved            int64 // IPv4 reuse: fragments moved from the given-up datagram to the new one
	Dropped          int64 // fragments held but not delivered: their arrival could not tell their datagram
	Duplicates       int64 // fragments that repeated an earlier one exactly
	Overlaps         int64 // fragments overlapping an earlier one (not duplicates)
	OverlapConflicts int64 // overlapping fragments whose overlapping bytes differed: IPv6 (discarded), IPv4 taken as overlaps because they completed a datagram with a good checksum (else Reused)
	Discarded        int64 // IPv6 datagrams discarded (overlap, or a malformed end)
	Malformed        int64 // fragments dropped as malformed
	AfterDiscard     int64 // fragments dropped because their datagram was discarded
	Pending          int64 // datagrams (and tombstones) waiting now
	BytesHeld        int64 // bytes held by pending datagrams now
	PeakBytes        int64 // the most BytesHeld was
}

// pairKey is what the staleness counter counts by: the capture point and the
// addresses.
type pairKey struct {
	tag      uint64
	v6       bool
	src, dst [16]byte
}

// pair counts the fragments of one pairKey while it has pending entries; it
// lists its live pending entries by their identity's last fragment (mark),
// oldest first.
type pair struct {
	n          int64  // fragments counted
	refs       int    // pending entries (and tombstones) of the pair
	serial     uint64 // names the pair in entry keys
	gen        uint64 // counts the times it went idle
	freed      bool   // forgotten, in freePair
	hash       uint64 // key.hash()
	next       *pair  // the next pair of the same hash
	key        pairKey
	head, tail *entry
}

// idlePair is a pair that went idle; stale when pr.gen moved on.
type idlePair struct {
	pr  *pair
	gen uint64
}

// maxIdlePairs is the most pairs kept with no pending entry.
const maxIdlePairs = 1024

// key is the rest of a datagram's identity, under its pair; entries whose
// keys are equal but whose Encap differs are chained.
type key struct {
	pair  uint64
	id    uint32
	ehash uint32 // encapHash
	link  layers.LinkType
	proto uint8
}

// entry is one pending datagram, a tombstone (buf nil) or a ready datagram.
type entry struct {
	key          key
	hash         uint64        // key.hash(), set when it enters the table
	inTable      bool          // in table (see Reassembler)
	encap        *layers.Encap // buf.encap; a tombstone's own copy
	tomb         *layers.Encap
	next         *entry  // the next entry of the same key
	older, newer *entry  // the pair's list by mark
	buf          *Buffer // nil: a discarded IPv6 datagram's tombstone
	deadline     int64
	seq          int64 // arrival order, to break deadline ties
	heapIdx      int   // index in the heap, or -1
	fifoPos      int64 // position in the FIFO, or -1
	end          int   // payload length, fixed by the last fragment; -1 until then
	maxEnd       int   // the largest end a fragment claimed
	held         int   // captured payload bytes held
	claimed      int   // payload bytes the pieces claimed
	hdrLen       int   // the header's length; 0 until the fragment at offset 0
	index        int64
	pair         *pair // the staleness counter of its addresses (pending only)
	mark         int64 // pair.n when its identity last had a fragment
	own          int64 // fragments of its identity it received
	train        bool  // its fragments form a train so far (see Datagram.Train)
	trainAt      int64 // stats.Fragments when its latest fragment arrived
	tag          uint64
	v6           bool
	complete     bool  // ready: whether complete
	ts           int64 // ready: Datagram.Timestamp
}

// Reassembler reassembles the IP fragments of a capture into datagrams.
//
// Invariants: every pending entry is in table (chained by key) or is hot
// (or both), and is in the pending order: the FIFO (sorted by (deadline, seq), the common case) or
// the heap (a min-heap by (deadline, seq), for deadlines that went back);
// every live pending entry is in its pair's list, sorted by mark; a live
// entry's buf.pieces are sorted by offset, held and claimed are the sizes of
// the unions of their captured and claimed ranges, all captured bytes sit in
// buf at MaxHeader+offset; IPv6 pieces never overlap; BytesHeld is
// BufferBytes per live entry plus TombstoneBytes per tombstone. Ready entries
// are in ready only.
type Reassembler struct {
	timeout  int64
	maxBytes int64
	maxDist  int64             // < 0: never stale
	table    map[uint64]*entry // by key.hash, chained
	// hot is the pending entry that had the latest fragment, or nil. It
	// enters the table only once another entry becomes hot, so a datagram
	// whose fragments arrive back to back is found without hashing its key
	// and completes without a map insert and delete.
	hot *entry
	// lastPair is the pair of the latest fragment that had one, or nil;
	// while not freed it is in pairs, under its key.
	lastPair *pair
	pairs    map[uint64]*pair // by pairKey.hash, chained
	freePair []*pair
	idle     []idlePair // pairs with no entries, oldest first (or no longer idle)
	serial   uint64
	heap     []*entry // min-heap by (deadline, seq)
	fifo     []*entry // sorted by (deadline, seq) from fifoAt; nil: removed
	fifoAt   int
	fifoBase int64 // the position of fifo[0]
	fifoLive int   // entries in fifo
	fifoDL   int64 // the last (deadline, seq) appended to the FIFO
	fifoSeq  int64
	scratch  []piece
	ready    []*entry // FIFO from readyAt
	readyAt  int
	freeEnts []*entry
	freeBufs []*Buffer
	seq      int64
	latest   int64 // the latest Timestamp Add saw
	stats    Stats
}

// New returns a Reassembler bounded by cfg.
func New(cfg Config) *Reassembler {
	r := &Reassembler{timeout: cfg.Timeout, maxBytes: cfg.MaxBytes, maxDist: int64(cfg.MaxDist),
		table: make(map[uint64]*entry), pairs: make(map[uint64]*pair), fifoDL: math.MinInt64}
	if r.maxDist == 0 {
		r.maxDist = DefaultMaxDist
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if r.maxBytes <= 0 {
		r.maxBytes = DefaultMaxBytes
	}
	return r
}

// Stats returns the counts so far.
func (r *Reassembler) Stats() Stats { return r.stats }

// Deadline returns the earliest deadline of a pending datagram, or
// math.MaxInt64 when none is pending.
func (r *Reassembler) Deadline() int64 {
	if e := r.oldest(); e != nil {
		return e.deadline
	}
	return math.MaxInt64
}

// Expire makes ready, as partial datagrams, those whose deadline is at or
// before now, earliest deadline first.
func (r *Reassembler) Expire(now int64) {
	for e := r.oldest(); e != nil && e.deadline <= now; e = r.oldest() {
		r.retire(e, now, &r.stats.TimedOut)
	}
}

// Flush makes every pending datagram ready (partial), earliest deadline
// first, as at the end of the input.
func (r *Reassembler) Flush() {
	for e := r.oldest(); e != nil; e = r.oldest() {
		r.retire(e, r.latest, nil)
	}
}

// Add takes one fragment, copying the bytes it keeps. It may make datagrams
// ready: the fragment's own when it completes it or can no longer complete
// (truncated), the one it shows an identification reuse of, those of its
// addresses it makes stale, and the oldest pending ones when a new datagram
// needs room under MaxBytes.
func (r *Reassembler) Add(f *Fragment) {
	r.stats.Fragments++
	if r.stats.Fragments == 1 || f.Timestamp > r.latest {
		r.latest = f.Timestamp
	}
	if !wellFormed(f) {
		r.stats.Malformed++
		return
	}
	var pk pairKey
	pk.tag, pk.v6 = f.Tag, f.V6
	if f.V6 {
		copy(pk.src[:], f.Header[8:24])
		copy(pk.dst[:], f.Header[24:40])
	} else {
		copy(pk.src[:4], f.Header[12:16])
		copy(pk.dst[:4], f.Header[16:20])
	}
	encap := f.Encap
	if encap == nil {
		encap = &noEncap
	}
	var k key
	k.id, k.link, k.ehash = f.ID, f.LinkType, encapHash(encap)
	if !f.V6 {
		k.proto = f.Protocol
	}
	var e *entry
	var pr *pair
	var ph uint64
	if lp := r.lastPair; lp != nil && !lp.freed && lp.key == pk {
		// The pair of the latest fragment (a fragment train, or the
		// next datagram between the same hosts): no hashing, no map
		// lookup.
		pr, ph = lp, lp.hash
	} else {
		ph = pk.hash()
		pr = r.pair(&pk, ph)
	}
	if pr != nil {
		r.lastPair = pr
		pr.n++
		// Staleness: entries of the pair more than maxDist fragments
		// behind are given up now.
		for r.maxDist >= 0 && pr.head != nil && pr.n-pr.head.mark-1 > r.maxDist {
			h := pr.head
			r.retire(h, f.Timestamp, &r.stats.Stale)
		}
	}
	if pr != nil {
		k.pair = pr.serial
		e = r.lookup(&k, encap)
		if e != nil && e.buf == nil {
			r.stats.AfterDiscard++
			return
		}
		if e != nil {
			e.mark = pr.n
			e.own++
			pr.toTail(e)
			r.setHot(e)
		}
	}
	off, end, capEnd := f.Offset, f.Offset+f.Length, f.Offset+len(f.Data)

	// The length fields cap the payload by the header, once it is known.
	own := 0
	if off == 0 {
		own = len(f.Header)
	}
	hdrLen := own
	if e != nil && e.hdrLen > 0 {
		hdrLen = e.hdrLen
	}
	limit := payloadLimit(f.V6, hdrLen)
	if end > payloadLimit(f.V6, own) || end > limit || (e != nil && e.maxEnd > limit) {
		r.stats.Malformed++
		return
	}

	dup, overlap := -1, false
	// train: the fragment continues e's train (see Datagram.Train), or
	// starts one in the datagram it creates.
	train, reused := false, false
	// filled: completesGood already copied the fragment's bytes into e's
	// holes.
	filled := false
	if e != nil {
		// A fragment past the end the last fragment fixed, or a last
		// fragment with another end.
		endBad := (e.end >= 0 && (end > e.end || !f.More && end != e.end)) || (e.end < 0 && !f.More && e.maxEnd > end)
		if endBad && f.V6 {
			r.stats.Malformed++
			r.discard(e)
			return
		}
		if !endBad && off >= e.maxEnd && (end > off || off > e.maxEnd) {
			// In order (the common case): past every piece, so no
			// duplicate, overlap or conflict. An empty fragment where
			// the pieces end may repeat an empty piece there: scanned.
			if len(e.buf.pieces) == MaxFragments {
				r.stats.Malformed++
				return
			}
			train = e.train && off == e.maxEnd && e.trainAt == r.stats.Fragments-1
		} else {
			dup, overlap = e.scan(off, end, f.More)
			conflict := e.conflicts(off, capEnd, f.Data)
			switch {
			case !f.V6 && !endBad && conflict && r.completesGood(e, f, off, end, capEnd):
				// An overlap after all (see the package doc): its
				// bytes already fill e's holes, first copy wins, and
				// e completes below.
				r.stats.Overlaps++
				r.stats.OverlapConflicts++
				dup, overlap, filled = -1, true, true
			case !f.V6 && (endBad || conflict):
				// IPv4 identification reuse: the fragment cannot be
				// of this datagram, which is given up with only its
				// own bytes; the fragment starts a new one, with the
				// pieces that arrived after the old ones.
				e = r.reuse(e, f, off, end, capEnd, pr.n)
				dup, overlap, reused = -1, false, true
				if e != nil {
					dup, overlap = e.scan(off, end, f.More)
				}
			case f.V6 && (dup < 0 && overlap || conflict):
				r.stats.Overlaps++
				if conflict {
					r.stats.OverlapConflicts++
				}
				r.discard(e)
				return
			case dup < 0 && len(e.buf.pieces) == MaxFragments:
				r.stats.Malformed++
				return
			}
		}
	}
	if e == nil {
		e = r.create(&k, &pk, ph, pr, encap, f)
		pr = e.pair
		train = off == 0 && !reused
	}
	e.train, e.trainAt = train && capEnd == end, r.stats.Fragments

	if dup >= 0 {
		// The bytes copied past the first copy's snaplen are held now.
		e.copyIn(off, capEnd, f.Data)
		p := &e.buf.pieces[dup]
		p.capEnd = max(p.capEnd, int32(capEnd))
		p.at, p.own = pr.n, e.own
		r.stats.Duplicates++
	} else {
		if overlap {
			if !filled {
				r.stats.Overlaps++
				e.copyIn(off, capEnd, f.Data)
			}
			e.claimed += e.uncovered(off, end)
		} else {
			copy(e.buf.b[MaxHeader+off:MaxHeader+capEnd], f.Data)
			e.held += capEnd - off
			e.claimed += end - off
		}
		e.insert(piece{off: int32(off), end: int32(end), capEnd: int32(capEnd), more: f.More, index: f.Index, at: pr.n, own: e.own})
	}
	if off == 0 && e.hdrLen == 0 {
		e.hdrLen = len(f.Header)
		copy(e.buf.b[MaxHeader-e.hdrLen:], f.Header)
		e.index = f.Index
	}
	if !f.More {
		e.end = end
	}
	e.maxEnd = max(e.maxEnd, end)
	if e.end >= 0 && e.claimed == e.end {
		if e.held == e.end {
			r.pendingRemove(e)
			r.unlink(e)
			r.stats.BytesHeld -= BufferBytes
			r.stats.Datagrams++
			e.complete, e.ts = true, f.Timestamp
			r.ready = append(r.ready, e)
		} else {
			// Every byte was claimed and the snaplen cut some: it can
			// never complete.
			r.retire(e, f.Timestamp, &r.stats.Truncated)
		}
	}
}

var noEncap layers.Encap

// encapHash hashes what encapEqual compares.
func encapHash(x *layers.Encap) uint32 {
	if x.NumVLANs == 0 && x.NumTunnels == 0 && x.LinkVLANs == 0 {
		return 0
	}
	h := uint64(x.LinkVLANs)<<32 | uint64(uint32(x.NumVLANs))<<8 | uint64(uint8(x.NumTunnels))
	mix := func(v uint64) {
		h ^= v
		h *= 0x9e3779b97f4a7c15
		h ^= h >> 29
	}
	mix(0)
	for i := range min(max(x.NumVLANs, 0), layers.MaxVLANs) {
		v := &x.VLANs[i]
		d := uint64(0)
		if v.DEI {
			d = 1
		}
		mix(uint64(v.TPID)<<32 | uint64(v.ID)<<16 | uint64(v.Priority)<<8 | d)
	}
	le := binary.LittleEndian
	for i := range min(max(x.NumTunnels, 0), layers.MaxTunnels) {
		t := &x.Tunnels[i]
		d := uint64(0)
		if t.HasID {
			d = 1
		}
		mix(uint64(t.Type)<<48 | uint64(t.Network)<<40 | d<<32 | uint64(t.ID))
		mix(le.Uint64(t.Src[:8]))
		mix(le.Uint64(t.Src[8:]))
		mix(le.Uint64(t.Dst[:8]))
		mix(le.Uint64(t.Dst[8:]))
	}
	return uint32(h ^ h>>32)
}

// copyEncap makes dst the Encap src, copying only the VLAN and tunnel slots
// in use (a decoder keeps the others zero; the Encap is some 500 bytes, the
// slots of one tunnel 48) and clearing those dst used beyond them, so that
// the slots of dst past its counts stay zero.
func copyEncap(dst, src *layers.Encap) {
	nv, nt := min(max(src.NumVLANs, 0), layers.MaxVLANs), min(max(src.NumTunnels, 0), layers.MaxTunnels)
	if ov := min(max(dst.NumVLANs, 0), layers.MaxVLANs); ov > nv {
		clear(dst.VLANs[nv:ov])
	}
	if ot := min(max(dst.NumTunnels, 0), layers.MaxTunnels); ot > nt {
		clear(dst.Tunnels[nt:ot])
	}
	copy(dst.VLANs[:nv], src.VLANs[:nv])
	copy(dst.Tunnels[:nt], src.Tunnels[:nt])
	dst.LinkVLANs, dst.NumVLANs, dst.NumTunnels = src.LinkVLANs, src.NumVLANs, src.NumTunnels
}

// encapEqual compares the parts of two Encaps in use.
func encapEqual(a, b *layers.Encap) bool {
	if a == b {
		return true
	}
	if a.LinkVLANs != b.LinkVLANs || a.NumVLANs != b.NumVLANs || a.NumTunnels != b.NumTunnels {
		return false
	}
	nv, nt := min(max(a.NumVLANs, 0), layers.MaxVLANs), min(max(a.NumTunnels, 0), layers.MaxTunnels)
	for i := range nv {
		if a.VLANs[i] != b.VLANs[i] {
			return false
		}
	}
	for i := range nt {
		if a.Tunnels[i] != b.Tunnels[i] {
			return false
		}
	}
	return true
}

// toTail moves e, which just had a fragment, to the end of its pair's list.
func (pr *pair) toTail(e *entry) {
	if pr.tail == e {
		return
	}
	pr.remove(e)
	pr.push(e)
}

func (pr *pair) push(e *entry) {
	e.older, e.newer = pr.tail, nil
	if pr.tail != nil {
		pr.tail.newer = e
	} else {
		pr.head = e
	}
	pr.tail = e
}

func (pr *pair) remove(e *entry) {
	if e.older != nil {
		e.older.newer = e.newer
	} else if pr.head == e {
		pr.head = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else if pr.tail == e {
		pr.tail = e.older
	}
	e.older, e.newer = nil, nil
}

// scan finds the piece f repeats exactly (-1: none) and whether f overlaps
// another.
func (e *entry) scan(off, end int, more bool) (dup int, overlap bool) {
	dup = -1
	for i, p := range e.buf.pieces {
		// An empty fragment repeats an empty piece at its offset, which
		// starts where the fragment ends.
		if int(p.off) > end || int(p.off) == end && off < end {
			break
		}
		if int(p.off) == off && int(p.end) == end && p.more == more {
			dup = i
		} else if off < int(p.end) && int(p.off) < end {
			overlap = true
		}
	}
	return dup, overlap
}

// conflicts reports whether captured bytes [off, capEnd) of a fragment differ
// from captured bytes e holds at the same offsets.
func (e *entry) conflicts(off, capEnd int, data []byte) bool {
	b := e.buf.b[MaxHeader:]
	for _, p := range e.buf.pieces {
		if int(p.off) >= capEnd {
			break
		}
		lo, hi := max(int(p.off), off), min(int(p.capEnd), capEnd)
		if lo < hi && !bytes.Equal(b[lo:hi], data[lo-off:hi-off]) {
			return true
		}
	}
	return false
}

// copyIn copies the captured bytes [off, capEnd) no piece holds yet; those
// held are equal.
func (e *entry) copyIn(off, capEnd int, data []byte) {
	b := e.buf.b[MaxHeader:]
	cur := off
	for _, p := range e.buf.pieces {
		if int(p.off) >= capEnd {
			break
		}
		if int(p.capEnd) <= cur {
			continue
		}
		if int(p.off) > cur {
			copy(b[cur:p.off], data[cur-off:])
			e.held += int(p.off) - cur
		}
		cur = max(cur, min(int(p.capEnd), capEnd))
	}
	if cur < capEnd {
		copy(b[cur:capEnd], data[cur-off:])
		e.held += capEnd - cur
	}
}

// completesGood reports whether the IPv4 fragment f, whose captured bytes
// differ from some e holds, completes e when only its bytes at offsets no
// piece holds are taken (first copy wins) and the completed datagram's TCP
// or UDP checksum is good (see the package doc). It needs room for one more
// piece. When it reports true it has copied those bytes into e's holes and
// counted them in e.held; when false, e.held is as before and any bytes it
// copied sit at offsets no piece holds, so no delivery shows them.
func (r *Reassembler) completesGood(e *entry, f *Fragment, off, end, capEnd int) bool {
	total := e.end
	if total < 0 && !f.More {
		total = end
	}
	if total < 0 || (e.hdrLen == 0 && off != 0) || len(e.buf.pieces) == MaxFragments ||
		e.claimed+e.uncovered(off, end) != total {
		return false
	}
	held := e.held
	e.copyIn(off, capEnd, f.Data)
	if e.held != total || layers.IPv4TransportChecksum(f.Header, e.key.proto, e.buf.b[MaxHeader:MaxHeader+total]) != layers.ChecksumGood {
		e.held = held
		return false
	}
	return true
}

// uncovered is how many bytes of [off, end) no piece claimed.
func (e *entry) uncovered(off, end int) int {
	n, cur := 0, off
	for _, p := range e.buf.pieces {
		if int(p.off) >= end {
			break
		}
		if int(p.end) <= cur {
			continue
		}
		if int(p.off) > cur {
			n += int(p.off) - cur
		}
		cur = max(cur, min(int(p.end), end))
	}
	if cur < end {
		n += end - cur
	}
	return n
}

// insert adds p to the pieces, after those with the same offset.
func (e *entry) insert(p piece) {
	ps := e.buf.pieces
	i := len(ps)
	for i > 0 && ps[i-1].off > p.off {
		i--
	}
	ps = append(ps, piece{})
	copy(ps[i+1:], ps[i:])
	ps[i] = p
	e.buf.pieces = ps
}

// recount sets e's fields from its pieces (after some were taken away);
// hdrLen must already be 0 if the header's piece went.
func (e *entry) recount() {
	e.end, e.maxEnd, e.held, e.claimed = -1, 0, 0, 0
	capCur, claimCur := 0, 0
	first, hdrIdx := int64(math.MaxInt64), int64(-1)
	for _, p := range e.buf.pieces {
		lo, hi, end := int(p.off), int(p.capEnd), int(p.end)
		if hi > capCur {
			e.held += hi - max(lo, capCur)
			capCur = hi
		}
		if end > claimCur {
			e.claimed += end - max(lo, claimCur)
			claimCur = end
		}
		if !p.more {
			e.end = end
		}
		e.maxEnd = max(e.maxEnd, end)
		first = min(first, p.index)
		if lo == 0 && (hdrIdx < 0 || p.index < hdrIdx) {
			hdrIdx = p.index
		}
	}
	e.index = first
	if e.hdrLen > 0 {
		e.index = hdrIdx
	}
}

// headerPiece is the index in pieces of the piece whose fragment gave the
// header (the first fragment at offset 0 to arrive), or -1.
func (e *entry) headerPiece() int {
	h := -1
	if e.hdrLen == 0 {
		return h
	}
	for i, p := range e.buf.pieces {
		if p.off != 0 {
			break
		}
		if h < 0 || p.index < e.buf.pieces[h].index {
			h = i
		}
	}
	return h
}

// byArrival fills buf.order with the indexes of the pieces in arrival order.
func (e *entry) byArrival() []int32 {
	ps := e.buf.pieces
	o := e.buf.order[:0]
	for i := range ps {
		j := len(o)
		o = append(o, int32(i))
		for j > 0 && ps[o[j-1]].at > ps[i].at {
			o[j] = o[j-1]
			j--
		}
		o[j] = int32(i)
	}
	e.buf.order = o
	return o
}

// foreign is how many fragments of the pair not of e's identity arrived
// between a and b.
func foreign(aAt, aOwn, bAt, bOwn int64) int64 { return (bAt - aAt) - (bOwn - aOwn) }

// Piece fates in a split.
const (
	keep = iota
	move
	drop
)

// reuse gives e up for the IPv4 fragment f (arrival at), which conflicts
// with it, and returns the new datagram f starts: nil, or one holding the
// pieces that arrived after the old ones (see the package doc).
func (r *Reassembler) reuse(e *entry, f *Fragment, off, end, capEnd int, at int64) *entry {
	ps := e.buf.pieces
	order := e.byArrival()
	// c: the last arrival that conflicts with f; what came after it may be
	// either datagram's.
	c := -1
	b := e.buf.b[MaxHeader:]
	for i, pi := range order {
		p := &ps[pi]
		lo, hi := max(int(p.off), off), min(int(p.capEnd), capEnd)
		if lo < hi && !bytes.Equal(b[lo:hi], f.Data[lo-off:hi-off]) ||
			!p.more && (end > int(p.end) || !f.More && end != int(p.end)) ||
			!f.More && int(p.end) > end {
			c = i
		}
	}
	if c < 0 || c == len(order)-1 {
		r.retire(e, f.Timestamp, &r.stats.Reused)
		return nil
	}
	// The gaps from c to f; the largest, if unique, splits them.
	after := order[c+1:]
	best, bestAt, tie := int64(-1), 0, false
	prevAt, prevOwn := ps[order[c]].at, ps[order[c]].own
	for i := 0; i <= len(after); i++ {
		nAt, nOwn := at, e.own
		if i < len(after) {
			nAt, nOwn = ps[after[i]].at, ps[after[i]].own
		}
		g := foreign(prevAt, prevOwn, nAt, nOwn)
		switch {
		case g > best:
			best, bestAt, tie = g, i, false
		case g == best:
			tie = true
		}
		prevAt, prevOwn = nAt, nOwn
	}
	var fate [MaxFragments]uint8
	nMove := 0
	for i, pi := range after {
		switch {
		case tie:
			fate[pi] = drop
		case i >= bestAt:
			fate[pi] = move
			nMove++
		}
	}
	// Pieces at offset 0 go with the header's piece, else nowhere.
	newHdr := 0
	if h := e.headerPiece(); h >= 0 {
		for i := range ps {
			if ps[i].off == 0 && fate[i] != fate[h] {
				if fate[i] == move {
					nMove--
				}
				fate[i] = drop
			}
		}
		if fate[h] == move {
			newHdr = e.hdrLen
		}
		if fate[h] != keep {
			e.hdrLen = 0
		}
	}
	// The pieces that leave, then the old datagram with the rest.
	moved := r.scratch[:0]
	j := 0
	for i, p := range ps {
		switch fate[i] {
		case keep:
			ps[j] = p
			j++
		case move:
			moved = append(moved, p)
		case drop:
			r.stats.Dropped++
		}
	}
	r.scratch = moved
	e.buf.pieces = ps[:j]
	e.recount()
	old := e.buf
	pr := e.pair
	r.retire(e, f.Timestamp, &r.stats.Reused)
	if len(moved) == 0 {
		return nil
	}
	n := r.create(&e.key, &pr.key, pr.hash, pr, e.encap, f)
	n.own = e.own
	if newHdr > 0 {
		n.hdrLen = newHdr
		copy(n.buf.b[MaxHeader-newHdr:MaxHeader], old.b[MaxHeader-newHdr:MaxHeader])
	}
	for _, p := range moved {
		copy(n.buf.b[MaxHeader+int(p.off):MaxHeader+int(p.capEnd)], old.b[MaxHeader+int(p.off):])
	}
	n.buf.pieces = append(n.buf.pieces, moved...)
	n.recount()
	r.stats.Moved += int64(len(moved))
	return n
}

// suspect drops from a partial e the pieces that arrived too far from its
// piece at offset 0 (else its first to arrive): a datagram's fragments are
// sent back to back, so those pieces hold another datagram's bytes.
func (r *Reassembler) suspect(e *entry) {
	ps := e.buf.pieces
	if r.maxDist < 0 || len(ps) < 3 {
		return
	}
	o := e.byArrival()
	first, last := &ps[o[0]], &ps[o[len(o)-1]]
	if foreign(first.at, first.own, last.at, last.own) <= r.maxDist {
		return
	}
	pos := 0
	if h := e.headerPiece(); h >= 0 {
		for i, pi := range o {
			if int(pi) == h {
				pos = i
			}
		}
	}
	lo, hi, sum := pos, pos, int64(0)
	gap := func(a, b int) int64 {
		pa, pb := &ps[o[a]], &ps[o[b]]
		return foreign(pa.at, pa.own, pb.at, pb.own)
	}
	for {
		gl, gr := int64(-1), int64(-1)
		if lo > 0 {
			gl = gap(lo-1, lo)
		}
		if hi < len(o)-1 {
			gr = gap(hi, hi+1)
		}
		if gl >= 0 && (gr < 0 || gl <= gr) {
			if sum+gl > r.maxDist {
				break
			}
			sum += gl
			lo--
		} else if gr >= 0 {
			if sum+gr > r.maxDist {
				break
			}
			sum += gr
			hi++
		} else {
			break
		}
	}
	if lo == 0 && hi == len(o)-1 {
		return
	}
	var in [MaxFragments]bool
	for _, pi := range o[lo : hi+1] {
		in[pi] = true
	}
	j := 0
	for i, p := range ps {
		if in[i] {
			ps[j] = p
			j++
		} else {
			r.stats.Dropped++
		}
	}
	e.buf.pieces = ps[:j]
	e.recount()
}

// create starts a pending datagram for f, first making room under MaxBytes;
// pr is the pair of pk if known.
func (r *Reassembler) create(k *key, pk *pairKey, ph uint64, pr *pair, encap *layers.Encap, f *Fragment) *entry {
	for r.stats.BytesHeld+BufferBytes > r.maxBytes {
		old := r.oldest()
		if old == nil {
			break
		}
		r.retire(old, f.Timestamp, &r.stats.Evicted)
	}
	var e *entry
	if n := len(r.freeEnts); n > 0 {
		e = r.freeEnts[n-1]
		r.freeEnts = r.freeEnts[:n-1]
	} else {
		e = new(entry)
	}
	buf := r.getBuffer()
	if encap != &buf.encap {
		copyEncap(&buf.encap, encap)
	}
	*e = entry{end: -1, index: f.Index, seq: r.seq, buf: buf, encap: &buf.encap, heapIdx: -1, fifoPos: -1,
		tag: pk.tag, v6: pk.v6, tomb: e.tomb}
	r.seq++
	// The pair's counter lives while the pair has entries (this one
	// included), so the map holds at most one pair per entry.
	if pr != nil && pr.freed {
		pr = nil // forgotten while idle (not expected: it is the newest idle)
	}
	if pr == nil {
		pr = r.pair(pk, ph)
	}
	if pr == nil {
		if n := len(r.freePair); n > 0 {
			pr = r.freePair[n-1]
			r.freePair = r.freePair[:n-1]
		} else {
			pr = new(pair)
		}
		r.serial++
		*pr = pair{n: 1, serial: r.serial, key: *pk, hash: ph, gen: pr.gen, next: r.pairs[ph]}
		r.pairs[ph] = pr
	}
	pr.refs++
	r.lastPair = pr
	pr.push(e)
	e.key = *k
	e.key.pair = pr.serial
	e.pair, e.mark = pr, pr.n
	e.deadline = math.MaxInt64
	if r.timeout >= 0 && f.Timestamp <= math.MaxInt64-r.timeout {
		e.deadline = f.Timestamp + r.timeout
	}
	r.setHot(e)
	r.pendingPush(e)
	r.stats.BytesHeld += BufferBytes
	r.stats.PeakBytes = max(r.stats.PeakBytes, r.stats.BytesHeld)
	return e
}

// setHot makes e, pending, the hot entry; the one it replaces, pending
// too, enters the table.
func (r *Reassembler) setHot(e *entry) {
	if h := r.hot; h != e && h != nil && !h.inTable {
		h.hash = h.key.hash()
		h.next = r.table[h.hash]
		r.table[h.hash] = h
		h.inTable = true
	}
	r.hot = e
}

// lookup finds the entry of a key and Encap.
func (r *Reassembler) lookup(k *key, encap *layers.Encap) *entry {
	if h := r.hot; h != nil && h.key == *k && encapEqual(h.encap, encap) {
		return h
	}
	for e := r.table[k.hash()]; e != nil; e = e.next {
		if e.key == *k && encapEqual(e.encap, encap) {
			return e
		}
	}
	return nil
}

// pair finds the pair of pk (hash ph), or nil.
func (r *Reassembler) pair(pk *pairKey, ph uint64) *pair {
	for pr := r.pairs[ph]; pr != nil; pr = pr.next {
		if pr.key == *pk {
			return pr
		}
	}
	return nil
}

// forgetPair removes an idle pair from the map.
func (r *Reassembler) forgetPair(pr *pair) {
	head := r.pairs[pr.hash]
	switch {
	case head == pr && pr.next == nil:
		delete(r.pairs, pr.hash)
	case head == pr:
		r.pairs[pr.hash] = pr.next
	default:
		for p := head; p != nil; p = p.next {
			if p.next == pr {
				p.next = pr.next
				break
			}
		}
	}
	pr.next = nil
}

// hash mixes a pair key into 64 bits; the map hashes those again.
func (pk *pairKey) hash() uint64 {
	le := binary.LittleEndian
	h := pk.tag*0x9e3779b97f4a7c15 ^ le.Uint64(pk.src[:8])
	h = (h^h>>29)*0xbf58476d1ce4e5b9 ^ le.Uint64(pk.dst[:8])
	if pk.v6 {
		h = (h^h>>29)*0xbf58476d1ce4e5b9 ^ le.Uint64(pk.src[8:]) ^ 1
		h = (h^h>>29)*0xbf58476d1ce4e5b9 ^ le.Uint64(pk.dst[8:])
	}
	return (h ^ h>>31) * 0x94d049bb133111eb
}

// hash mixes an entry key into 64 bits.
func (k *key) hash() uint64 {
	h := k.pair*0x9e3779b97f4a7c15 ^ uint64(k.id)<<32 ^ uint64(k.ehash)
	h = (h^h>>29)*0xbf58476d1ce4e5b9 ^ uint64(k.link)<<8 ^ uint64(k.proto)
	return (h ^ h>>31) * 0x94d049bb133111eb
}

// idlePair keeps a pair with no entry left for its next datagram (a map
// insert and delete per datagram otherwise), forgetting the pairs idle
// longest beyond maxIdlePairs.
func (r *Reassembler) idlePair(pr *pair) {
	pr.gen++
	r.idle = append(r.idle, idlePair{pr, pr.gen})
	if len(r.idle) < 2*maxIdlePairs {
		return
	}
	n := 0
	for _, ip := range r.idle {
		if ip.pr.refs == 0 && ip.pr.gen == ip.gen {
			r.idle[n] = ip
			n++
		}
	}
	drop := max(n-maxIdlePairs, 0)
	for _, ip := range r.idle[:drop] {
		r.forgetPair(ip.pr)
		ip.pr.gen++
		ip.pr.freed = true
		r.freePair = append(r.freePair, ip.pr)
	}
	m := copy(r.idle, r.idle[drop:n])
	clear(r.idle[m:])
	r.idle = r.idle[:m]
}

// unlink removes e from the table and its pair, and its pair's counter with
// its last entry.
func (r *Reassembler) unlink(e *entry) {
	if pr := e.pair; pr != nil {
		e.pair = nil
		if e.buf != nil {
			pr.remove(e)
		}
		if pr.refs--; pr.refs == 0 {
			r.idlePair(pr)
		}
	}
	if r.hot == e {
		r.hot = nil
	}
	if !e.inTable {
		return
	}
	e.inTable = false
	head := r.table[e.hash]
	if head == e {
		if e.next == nil {
			delete(r.table, e.hash)
		} else {
			r.table[e.hash] = e.next
		}
		e.next = nil
		return
	}
	for p := head; p != nil; p = p.next {
		if p.next == e {
			p.next = e.next
			break
		}
	}
	e.next = nil
}

// discard turns a pending IPv6 datagram into a tombstone.
func (r *Reassembler) discard(e *entry) {
	r.stats.Discarded++
	e.pair.remove(e)
	if e.tomb == nil {
		e.tomb = new(layers.Encap)
	}
	*e.tomb = *e.encap
	e.encap = e.tomb
	r.putBuffer(e.buf)
	e.buf = nil
	r.stats.BytesHeld += TombstoneBytes - BufferBytes
}

// retire ends a pending entry: a tombstone is forgotten, a datagram becomes
// ready as partial at time ts, counted in why.
func (r *Reassembler) retire(e *entry, ts int64, why *int64) {
	r.pendingRemove(e)
	r.unlink(e)
	if e.buf == nil {
		r.stats.BytesHeld -= TombstoneBytes
		r.freeEnts = append(r.freeEnts, e)
		return
	}
	r.stats.BytesHeld -= BufferBytes
	r.stats.Partial++
	if why != nil {
		*why++
	}
	r.suspect(e)
	e.complete, e.ts = false, ts
	r.ready = append(r.ready, e)
}

// Next fills d with the next ready datagram, in the order they became ready,
// and reports whether there was one. d's bytes stay valid until
// Release(d.Buf).
func (r *Reassembler) Next(d *Datagram) bool {
	if r.readyAt == len(r.ready) {
		r.ready, r.readyAt = r.ready[:0], 0
		return false
	}
	e := r.ready[r.readyAt]
	r.ready[r.readyAt] = nil
	r.readyAt++

	buf := e.buf
	buf.lent = true
	*d = Datagram{LinkType: e.key.link, Encap: &buf.encap, Tag: e.tag, V6: e.v6, Complete: e.complete, Train: e.complete && e.train,
		Timestamp: e.ts, Index: e.index, Buf: buf, HeaderLen: e.hdrLen, Length: e.end}
	b := buf.b
	if e.complete {
		n := MaxHeader + e.end
		d.IP = b[MaxHeader-e.hdrLen : n : n]
		rewriteHeader(b[MaxHeader-e.hdrLen:MaxHeader], e.v6, e.end)
	} else {
		// The maximal captured ranges, from the pieces sorted by offset;
		// a header with no byte captured at 0 gets an empty run there.
		runs := buf.runs[:0]
		if e.hdrLen > 0 {
			runs = append(runs, Run{Data: b[MaxHeader:MaxHeader:MaxHeader]})
		}
		for _, p := range buf.pieces {
			lo, hi := int(p.off), int(p.capEnd)
			if hi <= lo {
				continue
			}
			if n := len(runs); n > 0 && lo <= runs[n-1].Offset+len(runs[n-1].Data) {
				last := &runs[n-1]
				if top := last.Offset + len(last.Data); hi > top {
					end := MaxHeader + hi
					last.Data = b[MaxHeader+last.Offset : end : end]
				}
				continue
			}
			end := MaxHeader + hi
			runs = append(runs, Run{Offset: lo, Data: b[MaxHeader+lo : end : end]})
		}
		// Each run's Cut: the claimed bytes after it up to the next run.
		ps := buf.pieces
		pi, cLo, cHi := 0, -1, -1
		for i := range runs {
			top := runs[i].Offset + len(runs[i].Data)
			for cHi < top {
				if pi == len(ps) {
					cLo, cHi = math.MaxInt, math.MaxInt
					break
				}
				cLo, cHi = int(ps[pi].off), int(ps[pi].end)
				for pi++; pi < len(ps) && int(ps[pi].off) <= cHi; pi++ {
					cHi = max(cHi, int(ps[pi].end))
				}
			}
			if cLo <= top && top < cHi {
				nx := cHi
				if i+1 < len(runs) {
					nx = min(nx, runs[i+1].Offset)
				}
				runs[i].Cut = nx - top
			}
		}
		buf.runs = runs
		if e.hdrLen > 0 {
			n0 := len(runs[0].Data)
			d.Cut0 = runs[0].Cut
			runs = runs[1:]
			end := MaxHeader + n0
			d.IP = b[MaxHeader-e.hdrLen : end : end]
			rewriteHeader(b[MaxHeader-e.hdrLen:MaxHeader], e.v6, n0)
		}
		if len(runs) > 0 {
			d.Runs = runs
		}
	}
	e.buf = nil
	r.freeEnts = append(r.freeEnts, e)
	return true
}

// Release gives a datagram's buffer back for reuse; the bytes of the datagram
// that held it become invalid. Releasing nil or a buffer twice does nothing.
func (r *Reassembler) Release(b *Buffer) {
	if b == nil || !b.lent {
		return
	}
	b.lent = false
	r.putBuffer(b)
}

func (r *Reassembler) getBuffer() *Buffer {
	if n := len(r.freeBufs); n > 0 {
		b := r.freeBufs[n-1]
		r.freeBufs = r.freeBufs[:n-1]
		return b
	}
	// Every buffer holds the largest datagram from the start, so a byte
	// is copied once, when its fragment arrives: a buffer that grew would
	// copy what it held again. Buffers are pooled (maxFreeBuffers), so
	// one is made, and zeroed, only when more datagrams are in flight
	// than ever before; MaxBytes counts BufferBytes for every one.
	b := &Buffer{b: make([]byte, BufferBytes)}
	b.pieces = b.inline[:0]
	return b
}

func (r *Reassembler) putBuffer(b *Buffer) {
	b.pieces = b.pieces[:0]
	b.runs = b.runs[:0]
	if len(r.freeBufs) < maxFreeBuffers {
		r.freeBufs = append(r.freeBufs, b)
	}
}

// wellFormed checks what a fragment says of itself.
func wellFormed(f *Fragment) bool {
	if f.Offset < 0 || f.Offset%8 != 0 || f.Offset > MaxPayload ||
		f.Length < len(f.Data) || f.Length > MaxPayload ||
		f.More && (f.Length == 0 || f.Length%8 != 0) {
		return false
	}
	h := f.Header
	if f.V6 {
		return len(h) >= layers.IPv6Len+8 && len(h) <= MaxHeader && h[0]>>4 == 6
	}
	return len(h) >= layers.IPv4MinLen && h[0]>>4 == 4 && int(h[0]&0x0f)*4 == len(h)
}

// payloadLimit is the most payload a datagram with a hdrLen-byte header can
// have (hdrLen 0: the header is not known yet, assume the shortest).
func payloadLimit(v6 bool, hdrLen int) int {
	if v6 {
		return MaxPayload - max(hdrLen, layers.IPv6Len+8) + layers.IPv6Len
	}
	return MaxPayload - max(hdrLen, layers.IPv4MinLen)
}

// rewriteHeader makes h the header of a whole datagram of n payload bytes.
func rewriteHeader(h []byte, v6 bool, n int) {
	be := binary.BigEndian
	if v6 {
		be.PutUint16(h[4:], uint16(len(h)-layers.IPv6Len+n))
		fh := h[len(h)-8:]
		fh[2] = 0
		fh[3] &= 0x06 // keep the reserved bits, zero the offset and M
		return
	}
	be.PutUint16(h[2:], uint16(len(h)+n))
	be.PutUint16(h[6:], 0)
	be.PutUint16(h[10:], 0)
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(be.Uint16(h[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	be.PutUint16(h[10:], ^uint16(s))
}

// The pending order: a FIFO while deadlines come in order (the common
// case: they are arrival time plus the timeout), a min-heap by (deadline,
// seq) for the others.

func less(a, b *entry) bool {
	return a.deadline < b.deadline || a.deadline == b.deadline && a.seq < b.seq
}

// oldest is the pending entry with the earliest (deadline, seq), or nil.
func (r *Reassembler) oldest() *entry {
	for r.fifoAt < len(r.fifo) && r.fifo[r.fifoAt] == nil {
		r.fifoAt++
	}
	var e *entry
	if r.fifoAt < len(r.fifo) {
		e = r.fifo[r.fifoAt]
	} else if r.fifoAt > 0 {
		r.fifo, r.fifoBase, r.fifoAt = r.fifo[:0], r.fifoBase+int64(r.fifoAt), 0
	}
	if len(r.heap) > 0 && (e == nil || less(r.heap[0], e)) {
		e = r.heap[0]
	}
	return e
}

func (r *Reassembler) pendingPush(e *entry) {
	r.stats.Pending++
	for r.fifoAt < len(r.fifo) && r.fifo[r.fifoAt] == nil {
		r.fifoAt++
	}
	if r.fifoAt == len(r.fifo) {
		r.fifoDL = math.MinInt64 // empty: any deadline is in order
	}
	if e.deadline > r.fifoDL || e.deadline == r.fifoDL && e.seq > r.fifoSeq {
		r.fifoDL, r.fifoSeq = e.deadline, e.seq
		if n := len(r.fifo); n >= 64 && (r.fifoAt*2 > n || r.fifoLive*4 < n) {
			// Mostly removed (completed datagrams behind one that
			// waits): keep the live ones only.
			j := 0
			for _, x := range r.fifo[r.fifoAt:] {
				if x != nil {
					x.fifoPos = r.fifoBase + int64(n) + int64(j)
					r.fifo[j] = x
					j++
				}
			}
			clear(r.fifo[j:])
			r.fifo, r.fifoBase, r.fifoAt = r.fifo[:j], r.fifoBase+int64(n), 0
		}
		r.fifoLive++
		e.fifoPos = r.fifoBase + int64(len(r.fifo))
		r.fifo = append(r.fifo, e)
		return
	}
	e.heapIdx = len(r.heap)
	r.heap = append(r.heap, e)
	r.up(e.heapIdx)
}

func (r *Reassembler) pendingRemove(e *entry) {
	r.stats.Pending--
	if e.fifoPos >= 0 {
		r.fifo[e.fifoPos-r.fifoBase] = nil
		e.fifoPos = -1
		r.fifoLive--
		return
	}
	i, last := e.heapIdx, len(r.heap)-1
	if i != last {
		r.swap(i, last)
	}
	r.heap[last] = nil
	r.heap = r.heap[:last]
	if i != last {
		r.down(i)
		r.up(i)
	}
	e.heapIdx = -1
}

func (r *Reassembler) swap(i, j int) {
	h := r.heap
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}

func (r *Reassembler) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(r.heap[i], r.heap[p]) {
			return
		}
		r.swap(i, p)
		i = p
	}
}

func (r *Reassembler) down(i int) {
	n := len(r.heap)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && less(r.heap[c+1], r.heap[c]) {
			c++
		}
		if !less(r.heap[c], r.heap[i]) {
			return
		}
		r.swap(i, c)
		i = c
	}
}
