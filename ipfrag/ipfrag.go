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

// maxFreeBuffers is the most released buffers kept for reuse.
const maxFreeBuffers = 64

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
	// Stats.Stale) before the next fragment of its identity, which starts
	// a new datagram. 0 means DefaultMaxDist, a negative value never.
	MaxDist int
}

// Fragment is one IP fragment as decoded from a packet. Add copies what it
// keeps; the caller may reuse the fragment and its bytes afterwards.
type Fragment struct {
	LinkType layers.LinkType
	Encap    *layers.Encap // copied; part of the datagram's identity (nil: none)
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
}

// Datagram is a datagram Next returned, complete or partial.
type Datagram struct {
	LinkType layers.LinkType
	Encap    layers.Encap
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
	// Timestamp: the completing fragment's time (complete); the expiry
	// time (partial: Expire's now, the evicting fragment's time, or for
	// Flush the latest time Add saw). Index: the packet number of the
	// fragment at offset 0, else of the first fragment that arrived.
	Timestamp, Index int64
	// Buf holds the bytes of IP and Runs: give it back with Release once
	// they are no longer read.
	Buf *Buffer
}

// Buffer holds one datagram's bytes. It is pooled by the Reassembler that
// returned it.
type Buffer struct {
	b      []byte  // MaxHeader of header room, then the payload at its offsets
	pieces []piece // the fragments held, sorted by offset
	runs   []Run   // a partial datagram's runs
	lent   bool    // returned by Next and not yet released
}

// piece is one fragment held: it claimed payload [off, end) and the capture
// holds [off, capEnd) of it.
type piece struct {
	off, end, capEnd int32
	more             bool
}

// Stats counts what a Reassembler did.
type Stats struct {
	Fragments        int64 // fragments given to Add
	Datagrams        int64 // complete datagrams made ready
	Partial          int64 // partial datagrams made ready (TimedOut + Evicted + Reused + Stale + flushed)
	Evicted          int64 // partial because of MaxBytes
	TimedOut         int64 // partial because of Expire
	Reused           int64 // IPv4: partial because a fragment conflicting with it started a new datagram
	Stale            int64 // partial because more than MaxDist fragments of its addresses passed it by
	Duplicates       int64 // fragments that repeated an earlier one exactly
	Overlaps         int64 // fragments overlapping an earlier one (not duplicates)
	OverlapConflicts int64 // IPv6 overlapping fragments whose overlapping bytes differed (IPv4: Reused)
	Discarded        int64 // IPv6 datagrams discarded (overlap, or a malformed end)
	Malformed        int64 // fragments dropped as malformed
	AfterDiscard     int64 // fragments dropped because their datagram was discarded
	Pending          int64 // datagrams (and tombstones) waiting now
	BytesHeld        int64 // bytes held by pending datagrams now
	PeakBytes        int64 // the most BytesHeld was
}

// key is the part of a datagram's identity that hashes; entries whose keys
// are equal but whose Encap differs are chained.
type key struct {
	tag      uint64
	link     layers.LinkType
	id       uint32
	v6       bool
	proto    uint8
	src, dst [16]byte
}

// pairKey is what the staleness counter counts by: the capture point and the
// addresses.
type pairKey struct {
	tag      uint64
	v6       bool
	src, dst [16]byte
}

// pair counts the fragments of one pairKey while it has pending entries.
type pair struct {
	n    int64 // fragments counted
	refs int   // pending entries (and tombstones) of the pair
}

// entry is one pending datagram, a tombstone (buf nil) or a ready datagram.
type entry struct {
	key      key
	encap    layers.Encap
	next     *entry  // the next entry of the same key
	buf      *Buffer // nil: a discarded IPv6 datagram's tombstone
	deadline int64
	seq      int64 // arrival order, to break deadline ties
	heapIdx  int
	end      int // payload length, fixed by the last fragment; -1 until then
	maxEnd   int // the largest end a fragment claimed
	held     int // captured payload bytes held
	hdrLen   int // the header's length; 0 until the fragment at offset 0
	index    int64
	pair     *pair // the staleness counter of its addresses (pending only)
	mark     int64 // pair.n when its identity last had a fragment
	complete bool  // ready: whether complete
	ts       int64 // ready: Datagram.Timestamp
}

// Reassembler reassembles the IP fragments of a capture into datagrams.
//
// Invariants: every pending entry is in table (chained by key) and in
// pending, a min-heap by (deadline, seq); a live entry's buf.pieces are
// sorted by offset, and held is the size of the union of their captured
// ranges, all of whose bytes sit in buf at MaxHeader+offset; IPv6 pieces never
// overlap; BytesHeld is BufferBytes per live entry plus TombstoneBytes per
// tombstone. Ready entries are in ready only.
type Reassembler struct {
	timeout  int64
	maxBytes int64
	maxDist  int64 // < 0: never stale
	table    map[key]*entry
	pairs    map[pairKey]*pair
	freePair []*pair
	pending  []*entry // min-heap by (deadline, seq)
	ready    []*entry // FIFO from readyHead
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
		table: make(map[key]*entry), pairs: make(map[pairKey]*pair)}
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
	if len(r.pending) == 0 {
		return math.MaxInt64
	}
	return r.pending[0].deadline
}

// Expire makes ready, as partial datagrams, those whose deadline is at or
// before now, earliest deadline first.
func (r *Reassembler) Expire(now int64) {
	for len(r.pending) > 0 && r.pending[0].deadline <= now {
		e := r.pending[0]
		r.heapRemove(e)
		r.retire(e, now, &r.stats.TimedOut)
	}
}

// Flush makes every pending datagram ready (partial), earliest deadline
// first, as at the end of the input.
func (r *Reassembler) Flush() {
	for len(r.pending) > 0 {
		e := r.pending[0]
		r.heapRemove(e)
		r.retire(e, r.latest, nil)
	}
}

// Add takes one fragment, copying the bytes it keeps. It may make datagrams
// ready: the fragment's own when it completes it, and the oldest pending ones
// when a new datagram needs room under MaxBytes.
func (r *Reassembler) Add(f *Fragment) {
	r.stats.Fragments++
	if r.stats.Fragments == 1 || f.Timestamp > r.latest {
		r.latest = f.Timestamp
	}
	if !wellFormed(f) {
		r.stats.Malformed++
		return
	}
	var k key
	k.tag, k.link, k.id, k.v6 = f.Tag, f.LinkType, f.ID, f.V6
	if f.V6 {
		copy(k.src[:], f.Header[8:24])
		copy(k.dst[:], f.Header[24:40])
	} else {
		k.proto = f.Protocol
		copy(k.src[:], f.Header[12:16])
		copy(k.dst[:], f.Header[16:20])
	}
	var noEncap layers.Encap
	encap := f.Encap
	if encap == nil {
		encap = &noEncap
	}
	pk := pairKey{tag: k.tag, v6: k.v6, src: k.src, dst: k.dst}
	pr := r.pairs[pk]
	if pr != nil {
		pr.n++
	}
	e := r.lookup(&k, encap)
	if e != nil && e.buf == nil {
		r.stats.AfterDiscard++
		return
	}
	if e != nil {
		// Staleness: more than maxDist fragments of the addresses passed
		// since its identity last had one.
		if r.maxDist >= 0 && pr.n-e.mark-1 > r.maxDist {
			r.heapRemove(e)
			r.retire(e, f.Timestamp, &r.stats.Stale)
			e = nil
		} else {
			e.mark = pr.n
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
	if e != nil {
		// A fragment past the end the last fragment fixed, or a last
		// fragment with another end.
		endBad := (e.end >= 0 && (end > e.end || !f.More && end != e.end)) || (e.end < 0 && !f.More && e.maxEnd > end)
		if endBad && f.V6 {
			r.stats.Malformed++
			r.discard(e)
			return
		}
		for i, p := range e.buf.pieces {
			if int(p.off) == off && int(p.end) == end && p.more == f.More {
				dup = i
			} else if int(p.off) < end && off < int(p.end) {
				overlap = true
			}
		}
		conflict := e.conflicts(off, capEnd, f.Data)
		switch {
		case !f.V6 && (endBad || conflict):
			// IPv4 identification reuse: the fragment cannot be of
			// this datagram, which is given up with only its own
			// bytes; the fragment starts a new one.
			r.heapRemove(e)
			r.retire(e, f.Timestamp, &r.stats.Reused)
			e, dup, overlap = nil, -1, false
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
	if e == nil {
		e = r.create(&k, &pk, encap, f)
	}

	// Copy the captured bytes no piece holds yet; those held are equal.
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
			copy(b[cur:p.off], f.Data[cur-off:])
			e.held += int(p.off) - cur
		}
		cur = max(cur, min(int(p.capEnd), capEnd))
	}
	if cur < capEnd {
		copy(b[cur:capEnd], f.Data[cur-off:])
		e.held += capEnd - cur
	}

	if dup >= 0 {
		// The bytes copied past the first copy's snaplen are held now.
		p := &e.buf.pieces[dup]
		p.capEnd = max(p.capEnd, int32(capEnd))
		r.stats.Duplicates++
	} else if overlap {
		r.stats.Overlaps++
	}
	if dup < 0 {
		e.insert(piece{off: int32(off), end: int32(end), capEnd: int32(capEnd), more: f.More})
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
	if e.hdrLen > 0 && e.end >= 0 && e.held == e.end {
		r.heapRemove(e)
		r.unlink(e)
		r.stats.BytesHeld -= BufferBytes
		r.stats.Datagrams++
		e.complete, e.ts = true, f.Timestamp
		r.ready = append(r.ready, e)
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

// create starts a pending datagram for f, first making room under MaxBytes.
func (r *Reassembler) create(k *key, pk *pairKey, encap *layers.Encap, f *Fragment) *entry {
	for r.stats.BytesHeld+BufferBytes > r.maxBytes && len(r.pending) > 0 {
		old := r.pending[0]
		r.heapRemove(old)
		r.retire(old, f.Timestamp, &r.stats.Evicted)
	}
	var e *entry
	if n := len(r.freeEnts); n > 0 {
		e = r.freeEnts[n-1]
		r.freeEnts = r.freeEnts[:n-1]
	} else {
		e = new(entry)
	}
	*e = entry{key: *k, encap: *encap, end: -1, index: f.Index, seq: r.seq, buf: r.getBuffer()}
	r.seq++
	// The pair's counter lives while the pair has entries (this one
	// included), so the map holds at most one pair per entry.
	pr := r.pairs[*pk]
	if pr == nil {
		if n := len(r.freePair); n > 0 {
			pr = r.freePair[n-1]
			r.freePair = r.freePair[:n-1]
		} else {
			pr = new(pair)
		}
		*pr = pair{n: 1}
		r.pairs[*pk] = pr
	}
	pr.refs++
	e.pair, e.mark = pr, pr.n
	e.deadline = math.MaxInt64
	if r.timeout >= 0 && f.Timestamp <= math.MaxInt64-r.timeout {
		e.deadline = f.Timestamp + r.timeout
	}
	e.next = r.table[*k]
	r.table[*k] = e
	r.heapPush(e)
	r.stats.BytesHeld += BufferBytes
	r.stats.PeakBytes = max(r.stats.PeakBytes, r.stats.BytesHeld)
	return e
}

// lookup finds the entry of a key and Encap.
func (r *Reassembler) lookup(k *key, encap *layers.Encap) *entry {
	for e := r.table[*k]; e != nil; e = e.next {
		if e.encap == *encap {
			return e
		}
	}
	return nil
}

// unlink removes e from the table, and its pair's counter with its last
// entry.
func (r *Reassembler) unlink(e *entry) {
	if pr := e.pair; pr != nil {
		e.pair = nil
		if pr.refs--; pr.refs == 0 {
			delete(r.pairs, pairKey{tag: e.key.tag, v6: e.key.v6, src: e.key.src, dst: e.key.dst})
			r.freePair = append(r.freePair, pr)
		}
	}
	head := r.table[e.key]
	if head == e {
		if e.next == nil {
			delete(r.table, e.key)
		} else {
			r.table[e.key] = e.next
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
	r.putBuffer(e.buf)
	e.buf = nil
	r.stats.BytesHeld += TombstoneBytes - BufferBytes
}

// retire ends an entry taken off the heap: a tombstone is forgotten, a
// datagram becomes ready as partial at time ts, counted in why.
func (r *Reassembler) retire(e *entry, ts int64, why *int64) {
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
	*d = Datagram{LinkType: e.key.link, Encap: e.encap, Tag: e.key.tag, V6: e.key.v6, Complete: e.complete,
		Timestamp: e.ts, Index: e.index, Buf: buf, HeaderLen: e.hdrLen}
	b := buf.b
	if e.complete {
		n := MaxHeader + e.end
		d.IP = b[MaxHeader-e.hdrLen : n : n]
		rewriteHeader(b[MaxHeader-e.hdrLen:MaxHeader], e.key.v6, e.end)
	} else {
		// The maximal captured ranges, from the pieces sorted by offset.
		runs := buf.runs[:0]
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
		buf.runs = runs
		if e.hdrLen > 0 {
			n0 := 0
			if len(runs) > 0 && runs[0].Offset == 0 {
				n0 = len(runs[0].Data)
				runs = runs[1:]
			}
			end := MaxHeader + n0
			d.IP = b[MaxHeader-e.hdrLen : end : end]
			rewriteHeader(b[MaxHeader-e.hdrLen:MaxHeader], e.key.v6, n0)
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
	return &Buffer{b: make([]byte, BufferBytes), pieces: make([]piece, 0, MaxFragments), runs: make([]Run, 0, MaxFragments)}
}

func (r *Reassembler) putBuffer(b *Buffer) {
	b.pieces = b.pieces[:0]
	b.runs = b.runs[:0]
	if len(r.freeBufs) < maxFreeBuffers {
		r.freeBufs = append(r.freeBufs, b)
	}
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

// The pending heap, by (deadline, seq).

func (r *Reassembler) less(i, j int) bool {
	a, b := r.pending[i], r.pending[j]
	return a.deadline < b.deadline || a.deadline == b.deadline && a.seq < b.seq
}

func (r *Reassembler) swap(i, j int) {
	h := r.pending
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}

func (r *Reassembler) heapPush(e *entry) {
	e.heapIdx = len(r.pending)
	r.pending = append(r.pending, e)
	r.up(e.heapIdx)
	r.stats.Pending++
}

func (r *Reassembler) heapRemove(e *entry) {
	i, last := e.heapIdx, len(r.pending)-1
	if i != last {
		r.swap(i, last)
	}
	r.pending[last] = nil
	r.pending = r.pending[:last]
	if i != last {
		r.down(i)
		r.up(i)
	}
	e.heapIdx = -1
	r.stats.Pending--
}

func (r *Reassembler) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !r.less(i, p) {
			return
		}
		r.swap(i, p)
		i = p
	}
}

func (r *Reassembler) down(i int) {
	n := len(r.pending)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && r.less(c+1, c) {
			c++
		}
		if !r.less(c, i) {
			return
		}
		r.swap(i, c)
		i = c
	}
}
