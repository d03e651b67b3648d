package fuzz

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/reseq/reseq/ipfrag"
	"github.com/reseq/reseq/layers"
)

// The IP fragment model: a byte array and a "have" mask per datagram, the
// Reassembler's policy written the plain way (linear scans, no heap, no
// intervals). The property test and the fuzz target drive both with the same
// script and compare every datagram Next returns, in order, and the stats.
//
// Delivery, precisely: a datagram instance is the set of fragments of one
// identity from the fragment that creates it (none pending for the identity)
// until it is delivered (complete, timed out, evicted or flushed) or discarded;
// each instance is delivered at most once, never after a discard, and a later
// fragment of the identity starts a new instance. An IPv4 fragment that
// conflicts with its pending instance (other bytes where both were captured,
// or another end) delivers it (Reused) and starts a new one, with the pieces
// that arrived after the old ones (split by the largest gap in arrival, or
// dropped when no gap is the only largest); an instance is delivered (Stale)
// as soon as more than MaxDist fragments of the same tag and addresses
// arrived since its identity's last fragment; a partial instance whose
// pieces arrived too far apart keeps only the train around its first piece;
// an instance with every byte claimed and some cut is delivered at once.

// fragIdent is one identity a script's fragments can belong to.
type fragIdent struct {
	v6     bool
	id     uint32
	src    uint8
	tag    uint64
	vlan   bool // Encap with one VLAN
	extLen int  // IPv4 option bytes / IPv6 destination options bytes
}

var fragIdents = [...]fragIdent{
	{v6: false, id: 1, src: 1},
	{v6: false, id: 1, src: 2},
	{v6: false, id: 1, src: 1, vlan: true},
	{v6: true, id: 1, src: 1},
	{v6: true, id: 2, src: 1, extLen: 16},
	{v6: false, id: 2, src: 1, tag: 1, extLen: 8},
}

var vlanEncap = layers.Encap{NumVLANs: 1, VLANs: [layers.MaxVLANs]layers.VLAN{{TPID: 0x8100, ID: 5}}}

// fragOp is one step of a script: a fragment (Expire false) or Expire(Now).
type fragOp struct {
	Expire   bool
	Now      int64
	Ident    int // index in fragIdents
	Off, Len int // claimed payload range
	Cap      int // captured bytes (<= Len)
	More     bool
	Seed     byte // content: byte i of the payload is fragByte(Seed, i)
	TS       int64
}

// maxPayload is the longest payload the identity's header allows.
func (id fragIdent) maxPayload() int {
	if id.v6 {
		return 65535 - 8 - id.extLen
	}
	return 65535 - 20 - id.extLen
}

func fragByte(seed byte, i int) byte { return seed*97 + byte(i*7) + byte(i>>8) }

// header builds the identity's header for a fragment (TTL = seed, so the
// first fragment's header is recognisable).
func (id fragIdent) header(op *fragOp) []byte {
	be := binary.BigEndian
	if id.v6 {
		h := make([]byte, 40+id.extLen+8)
		h[0], h[6], h[7] = 0x60, layers.IPProtoFragment, op.Seed
		h[23], h[39] = id.src, 9
		if id.extLen > 0 {
			h[6], h[40], h[41] = layers.IPProtoDstOpts, layers.IPProtoFragment, uint8(id.extLen/8-1)
		}
		fh := h[len(h)-8:]
		fh[0] = layers.IPProtoUDP
		field := uint16(op.Off) &^ 7
		if op.More {
			field |= 1
		}
		be.PutUint16(fh[2:], field)
		be.PutUint32(fh[4:], id.id)
		be.PutUint16(h[4:], uint16(len(h)-40+op.Len))
		return h
	}
	h := make([]byte, 20+id.extLen)
	h[0] = 0x40 | uint8(len(h)/4)
	be.PutUint16(h[2:], uint16(len(h)+op.Len))
	be.PutUint16(h[4:], uint16(id.id))
	field := uint16(op.Off/8) & 0x1fff
	if op.More {
		field |= 0x2000
	}
	be.PutUint16(h[6:], field)
	h[8], h[9] = op.Seed, layers.IPProtoUDP
	copy(h[12:], []byte{10, 0, 0, id.src, 10, 0, 0, 9})
	return h
}

func (op *fragOp) fragment() *ipfrag.Fragment {
	id := fragIdents[op.Ident]
	data := make([]byte, op.Cap)
	for i := range data {
		data[i] = fragByte(op.Seed, op.Off+i)
	}
	f := &ipfrag.Fragment{LinkType: layers.LinkTypeEthernet, Tag: id.tag, V6: id.v6, Header: id.header(op),
		ID: id.id, Protocol: layers.IPProtoUDP, Offset: op.Off, More: op.More, Data: data, Length: op.Len,
		Timestamp: op.TS}
	if id.vlan {
		f.Encap = &vlanEncap
	}
	return f
}

type mPiece struct {
	off, end, capEnd int
	more             bool
	index            int64  // the first copy's op index
	at               int    // index in fragModel.log of the latest copy
	data             []byte // the captured bytes [off, capEnd)
	hdr              []byte // the header of the first copy
}

type mDgram struct {
	ident         int
	dead          bool
	pieces        []mPiece
	last          int // index in fragModel.log of the identity's last fragment
	deadline, seq int64
	// Derived from pieces (fill): the bytes held, which are held, which
	// were claimed, the end and the largest end.
	data, have, claimed []byte
	end, maxEnd, span   int
}

// mOut is a datagram as the model expects it.
type mOut struct {
	complete  bool
	hdr       []byte // the first fragment's header as it arrived; nil if none
	ident     int
	payload   []byte // complete: all; partial: the run at 0 (only with hdr)
	runs      []ipfrag.Run
	ts, index int64
	length    int
	cut0      int
}

type fragModel struct {
	cfg    ipfrag.Config
	table  map[int]*mDgram
	seq    int64
	latest int64
	stats  ipfrag.Stats
	out    []mOut
	log    []fragLog // every fragment past the first checks
}

// fragPair is what staleness counts by: the tag and addresses.
type fragPair struct {
	tag uint64
	v6  bool
	src uint8
}

type fragLog struct {
	pair  fragPair
	ident int
}

func (id fragIdent) pair() fragPair { return fragPair{id.tag, id.v6, id.src} }

func newFragModel(cfg ipfrag.Config) *fragModel {
	if cfg.Timeout == 0 {
		cfg.Timeout = ipfrag.DefaultTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = ipfrag.DefaultMaxBytes
	}
	if cfg.MaxDist == 0 {
		cfg.MaxDist = ipfrag.DefaultMaxDist
	}
	return &fragModel{cfg: cfg, table: map[int]*mDgram{}}
}

// fill derives d's bytes and masks from its pieces.
func (d *mDgram) fill() {
	if d.data == nil {
		d.data, d.have, d.claimed = make([]byte, 65535), make([]byte, 65535), make([]byte, 65535)
	} else {
		clear(d.data[:d.span])
		clear(d.have[:d.span])
		clear(d.claimed[:d.span])
	}
	d.end, d.maxEnd, d.span = -1, 0, 0
	for _, p := range d.pieces {
		for i := p.off; i < p.end; i++ {
			d.claimed[i] = 1
		}
		for i := p.off; i < p.capEnd; i++ {
			if d.have[i] == 0 {
				d.data[i], d.have[i] = p.data[i-p.off], 1
			}
		}
		if !p.more {
			d.end = p.end
		}
		d.maxEnd = max(d.maxEnd, p.end)
		d.span = max(d.span, p.end)
	}
}

// header is the piece whose fragment gave the header: the first at offset 0
// to arrive (nil: none).
func (d *mDgram) header() *mPiece {
	var h *mPiece
	for i := range d.pieces {
		p := &d.pieces[i]
		if p.off == 0 && (h == nil || p.index < h.index) {
			h = p
		}
	}
	return h
}

// completesGood reports whether the IPv4 fragment op, added to d (the first
// copy of each byte winning), would complete it with a good UDP checksum
// (not zero: none). d is as before when it returns.
func (d *mDgram) completesGood(op *fragOp, index int64, now int) bool {
	id := fragIdents[op.Ident]
	data := make([]byte, op.Cap)
	for i := range data {
		data[i] = fragByte(op.Seed, op.Off+i)
	}
	d.pieces = append(d.pieces, mPiece{off: op.Off, end: op.Off + op.Len, capEnd: op.Off + op.Cap, more: op.More, index: index, at: now, data: data})
	d.fill()
	ok := d.end >= 8 && d.header() != nil && !bytes.Contains(d.claimed[:d.end], []byte{0}) &&
		!bytes.Contains(d.have[:d.end], []byte{0})
	if ok {
		pl := d.data[:d.end]
		// The pseudo-header, then the datagram, as big-endian words.
		sum := append([]byte{10, 0, 0, id.src, 10, 0, 0, 9, 0, layers.IPProtoUDP, byte(d.end >> 8), byte(d.end)}, pl...)
		if len(sum)%2 == 1 {
			sum = append(sum, 0)
		}
		var s uint32
		for i := 0; i < len(sum); i += 2 {
			s += uint32(sum[i])<<8 | uint32(sum[i+1])
		}
		for s > 0xffff {
			s = s>>16 + s&0xffff
		}
		ok = (pl[6] != 0 || pl[7] != 0) && s == 0xffff
	}
	d.pieces = d.pieces[:len(d.pieces)-1]
	d.fill()
	return ok
}

// index is the packet number Datagram.Index has: the header's, else the
// first fragment's.
func (d *mDgram) index() int64 {
	if h := d.header(); h != nil {
		return h.index
	}
	first := int64(math.MaxInt64)
	for _, p := range d.pieces {
		first = min(first, p.index)
	}
	return first
}

// foreign counts the fragments of the identity's pair, not of the identity,
// that arrived between log positions i and j.
func (m *fragModel) foreign(ident, i, j int) int {
	n := 0
	for _, l := range m.log[i+1 : j] {
		if l.pair == fragIdents[ident].pair() && l.ident != ident {
			n++
		}
	}
	return n
}

// byArrival is the pieces' indexes by arrival.
func (d *mDgram) byArrival() []int {
	o := make([]int, len(d.pieces))
	for i := range o {
		o[i] = i
	}
	sort.Slice(o, func(a, b int) bool { return d.pieces[o[a]].at < d.pieces[o[b]].at })
	return o
}

// keepOnly keeps the pieces in (by index), counting the others dropped.
func (m *fragModel) keepOnly(d *mDgram, in map[int]bool) {
	var ps []mPiece
	for i, p := range d.pieces {
		if in[i] {
			ps = append(ps, p)
		} else {
			m.stats.Dropped++
		}
	}
	d.pieces = ps
	d.fill()
}

// suspect: the pieces more than MaxDist foreign fragments from the header's
// piece (else the first to arrive), gathered nearest gap first, are dropped.
func (m *fragModel) suspect(d *mDgram) {
	if m.cfg.MaxDist < 0 || len(d.pieces) < 3 {
		return
	}
	o := d.byArrival()
	gap := func(a, b int) int { return m.foreign(d.ident, d.pieces[o[a]].at, d.pieces[o[b]].at) }
	if gap(0, len(o)-1) <= m.cfg.MaxDist {
		return
	}
	pos := 0
	if h := d.header(); h != nil {
		for i, pi := range o {
			if &d.pieces[pi] == h {
				pos = i
			}
		}
	}
	lo, hi, sum := pos, pos, 0
	for {
		gl, gr := -1, -1
		if lo > 0 {
			gl = gap(lo-1, lo)
		}
		if hi < len(o)-1 {
			gr = gap(hi, hi+1)
		}
		if gl >= 0 && (gr < 0 || gl <= gr) && sum+gl <= m.cfg.MaxDist {
			sum += gl
			lo--
		} else if gl >= 0 && (gr < 0 || gl <= gr) {
			break
		} else if gr >= 0 && sum+gr <= m.cfg.MaxDist {
			sum += gr
			hi++
		} else {
			break
		}
	}
	in := map[int]bool{}
	for _, pi := range o[lo : hi+1] {
		in[pi] = true
	}
	if len(in) < len(d.pieces) {
		m.keepOnly(d, in)
	}
}

// oldest is the pending datagram with the earliest (deadline, seq).
func (m *fragModel) oldest() *mDgram {
	var o *mDgram
	for _, d := range m.table {
		if o == nil || d.deadline < o.deadline || d.deadline == o.deadline && d.seq < o.seq {
			o = d
		}
	}
	return o
}

func (m *fragModel) retire(d *mDgram, ts int64, why *int64) {
	delete(m.table, d.ident)
	m.stats.Pending--
	if d.dead {
		m.stats.BytesHeld -= ipfrag.TombstoneBytes
		return
	}
	m.stats.BytesHeld -= ipfrag.BufferBytes
	m.stats.Partial++
	if why != nil {
		*why++
	}
	m.suspect(d)
	o := mOut{ident: d.ident, ts: ts, index: d.index(), length: d.end}
	if h := d.header(); h != nil {
		o.hdr = h.hdr
	}
	for i := 0; i < len(d.have); {
		if d.have[i] == 0 && !(i == 0 && o.hdr != nil) {
			i++
			continue
		}
		j := i
		for j < len(d.have) && d.have[j] == 1 {
			j++
		}
		cut := 0
		for k := j; k < len(d.have) && d.claimed[k] == 1 && d.have[k] == 0; k++ {
			cut++
		}
		if i == 0 && o.hdr != nil {
			o.payload, o.cut0 = d.data[:j], cut
		} else {
			o.runs = append(o.runs, ipfrag.Run{Offset: i, Data: d.data[i:j], Cut: cut})
		}
		i = max(j, i+1)
	}
	m.out = append(m.out, o)
}

func (m *fragModel) expire(now int64) {
	for d := m.oldest(); d != nil && d.deadline <= now; d = m.oldest() {
		m.retire(d, now, &m.stats.TimedOut)
	}
}

func (m *fragModel) flush() {
	for d := m.oldest(); d != nil; d = m.oldest() {
		m.retire(d, m.latest, nil)
	}
}

func (m *fragModel) discard(d *mDgram) {
	m.stats.Discarded++
	d.dead = true
	m.stats.BytesHeld += ipfrag.TombstoneBytes - ipfrag.BufferBytes
}

// create starts a datagram for op, first evicting for room.
func (m *fragModel) create(op *fragOp, now int) *mDgram {
	for m.stats.BytesHeld+ipfrag.BufferBytes > m.cfg.MaxBytes && len(m.table) > 0 {
		m.retire(m.oldest(), op.TS, &m.stats.Evicted)
	}
	d := &mDgram{ident: op.Ident, seq: m.seq, last: now}
	d.fill()
	m.seq++
	d.deadline = math.MaxInt64
	if m.cfg.Timeout >= 0 && op.TS <= math.MaxInt64-m.cfg.Timeout {
		d.deadline = op.TS + m.cfg.Timeout
	}
	m.table[op.Ident] = d
	m.stats.Pending++
	m.stats.BytesHeld += ipfrag.BufferBytes
	m.stats.PeakBytes = max(m.stats.PeakBytes, m.stats.BytesHeld)
	return d
}

// pieceConflicts: p's captured bytes differ from op's, or their ends
// contradict.
func pieceConflicts(p *mPiece, op *fragOp) bool {
	for i := max(p.off, op.Off); i < min(p.capEnd, op.Off+op.Cap); i++ {
		if p.data[i-p.off] != fragByte(op.Seed, i) {
			return true
		}
	}
	end := op.Off + op.Len
	return !p.more && (end > p.end || !op.More && end != p.end) || !op.More && p.end > end
}

// reuse gives d up for op (log position now), which conflicts with it, and
// returns the datagram op starts with the pieces that arrived after d's own
// (nil: none): after the last piece conflicting with op, the largest gap in
// arrival (foreign fragments) splits, if it is the only largest; else those
// pieces are dropped. Pieces at offset 0 follow the header's.
func (m *fragModel) reuse(d *mDgram, op *fragOp, now int) *mDgram {
	o := d.byArrival()
	c := -1
	for i, pi := range o {
		if pieceConflicts(&d.pieces[pi], op) {
			c = i
		}
	}
	if c < 0 || c == len(o)-1 {
		m.retire(d, op.TS, &m.stats.Reused)
		return nil
	}
	after := o[c+1:]
	best, bestAt, tie := -1, 0, false
	prev := d.pieces[o[c]].at
	for i := 0; i <= len(after); i++ {
		next := now
		if i < len(after) {
			next = d.pieces[after[i]].at
		}
		g := m.foreign(d.ident, prev, next)
		if g > best {
			best, bestAt, tie = g, i, false
		} else if g == best {
			tie = true
		}
		prev = next
	}
	const keep, move, drop = 0, 1, 2
	fate := make([]int, len(d.pieces))
	for i, pi := range after {
		if tie {
			fate[pi] = drop
		} else if i >= bestAt {
			fate[pi] = move
		}
	}
	if h := d.header(); h != nil {
		hf := fate[0]
		for i := range d.pieces {
			if &d.pieces[i] == h {
				hf = fate[i]
			}
		}
		for i, p := range d.pieces {
			if p.off == 0 && fate[i] != hf {
				fate[i] = drop
			}
		}
	}
	var kept, moved []mPiece
	for i, p := range d.pieces {
		switch fate[i] {
		case keep:
			kept = append(kept, p)
		case move:
			moved = append(moved, p)
		default:
			m.stats.Dropped++
		}
	}
	d.pieces = kept
	d.fill()
	m.retire(d, op.TS, &m.stats.Reused)
	if len(moved) == 0 {
		return nil
	}
	n := m.create(op, now)
	n.pieces = moved
	n.fill()
	m.stats.Moved += int64(len(moved))
	return n
}

func (m *fragModel) add(op *fragOp, index int64) {
	m.stats.Fragments++
	if m.stats.Fragments == 1 || op.TS > m.latest {
		m.latest = op.TS
	}
	id := fragIdents[op.Ident]
	hdrLen := 20 + id.extLen
	if id.v6 {
		hdrLen = 48 + id.extLen
	}
	if op.Off%8 != 0 || op.Off > 65535 || op.Len > 65535 || op.More && (op.Len == 0 || op.Len%8 != 0) {
		m.stats.Malformed++
		return
	}
	m.log = append(m.log, fragLog{id.pair(), op.Ident})
	now := len(m.log) - 1
	// Staleness: every datagram of the pair more than MaxDist fragments
	// behind, oldest last fragment first.
	if m.cfg.MaxDist >= 0 {
		var st []*mDgram
		for _, d := range m.table {
			if !d.dead && fragIdents[d.ident].pair() == id.pair() {
				between := 0
				for _, l := range m.log[d.last+1 : now] {
					if l.pair == id.pair() {
						between++
					}
				}
				if between > m.cfg.MaxDist {
					st = append(st, d)
				}
			}
		}
		sort.Slice(st, func(a, b int) bool { return st[a].last < st[b].last })
		for _, d := range st {
			m.retire(d, op.TS, &m.stats.Stale)
		}
	}
	d := m.table[op.Ident]
	if d != nil && d.dead {
		m.stats.AfterDiscard++
		return
	}
	if d != nil {
		d.last = now
	}
	off, end, capEnd := op.Off, op.Off+op.Len, op.Off+op.Cap
	limit := 65535 - 20
	if id.v6 {
		limit = 65535 - 8
	}
	if d != nil && d.header() != nil || op.Off == 0 {
		limit = 65535 - hdrLen
		if id.v6 {
			limit += 40
		}
	}
	if end > limit || d != nil && d.maxEnd > limit {
		m.stats.Malformed++
		return
	}
	scan := func(d *mDgram) (dup int, overlap bool) {
		dup = -1
		for i, p := range d.pieces {
			if p.off == off && p.end == end && p.more == op.More {
				dup = i
			} else if p.off < end && off < p.end {
				overlap = true
			}
		}
		return dup, overlap
	}
	dup, overlap := -1, false
	if d != nil {
		endBad := d.end >= 0 && (end > d.end || !op.More && end != d.end) || d.end < 0 && !op.More && d.maxEnd > end
		if endBad && id.v6 {
			m.stats.Malformed++
			m.discard(d)
			return
		}
		dup, overlap = scan(d)
		conflict := false
		for i := off; i < capEnd; i++ {
			conflict = conflict || d.have[i] == 1 && d.data[i] != fragByte(op.Seed, i)
		}
		switch {
		case !id.v6 && !endBad && conflict && len(d.pieces) < ipfrag.MaxFragments && d.completesGood(op, index, now):
			// It completes d, first copy winning, with a good UDP
			// checksum: an overlap (counted below), not reuse.
			m.stats.OverlapConflicts++
			dup, overlap = -1, true
		case !id.v6 && (endBad || conflict):
			d, dup, overlap = m.reuse(d, op, now), -1, false
			if d != nil {
				dup, overlap = scan(d)
			}
		case id.v6 && (dup < 0 && overlap || conflict):
			m.stats.Overlaps++
			if conflict {
				m.stats.OverlapConflicts++
			}
			m.discard(d)
			return
		case dup < 0 && len(d.pieces) == ipfrag.MaxFragments:
			m.stats.Malformed++
			return
		}
	}
	if d == nil {
		d = m.create(op, now)
	}
	data := make([]byte, op.Cap)
	for i := range data {
		data[i] = fragByte(op.Seed, off+i)
	}
	switch {
	case dup >= 0:
		m.stats.Duplicates++
		p := &d.pieces[dup]
		if capEnd > p.capEnd {
			p.data = append(p.data, data[p.capEnd-off:]...)
			p.capEnd = capEnd
		}
		p.at = now
	case overlap:
		m.stats.Overlaps++
	}
	if dup < 0 {
		d.pieces = append(d.pieces, mPiece{off: off, end: end, capEnd: capEnd, more: op.More, index: index, at: now, data: data, hdr: id.header(op)})
	}
	d.fill()
	if d.end < 0 || bytes.Contains(d.claimed[:d.end], []byte{0}) {
		return
	}
	if bytes.Contains(d.have[:d.end], []byte{0}) {
		m.retire(d, op.TS, &m.stats.Truncated)
		return
	}
	delete(m.table, op.Ident)
	m.stats.Pending--
	m.stats.BytesHeld -= ipfrag.BufferBytes
	m.stats.Datagrams++
	m.out = append(m.out, mOut{complete: true, ident: op.Ident, hdr: d.header().hdr, payload: d.data[:d.end], ts: op.TS,
		index: d.index(), length: d.end})
}

func boolBytes(h []bool) []byte {
	b := make([]byte, len(h))
	for i, v := range h {
		if v {
			b[i] = 1
		}
	}
	return b
}

// fatalf is what the checks need of *testing.T and *rapid.T.
type fatalf interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkIPFrag runs ops through a Reassembler and the model, then Flush, and
// holds every datagram and the stats to the model's.
func checkIPFrag(t fatalf, cfg ipfrag.Config, ops []fragOp) (complete, partial int) {
	t.Helper()
	return checkIPFragEach(t, cfg, ops, nil)
}

// checkIPFragEach is checkIPFrag calling each (if not nil) with every
// datagram before its release.
func checkIPFragEach(t fatalf, cfg ipfrag.Config, ops []fragOp, each func(*ipfrag.Datagram)) (complete, partial int) {
	t.Helper()
	r := ipfrag.New(cfg)
	m := newFragModel(cfg)
	var d ipfrag.Datagram
	drain := func(step int) {
		for r.Next(&d) {
			if len(m.out) == 0 {
				t.Fatalf("step %d: datagram the model does not have (complete %v)", step, d.Complete)
			}
			want := m.out[0]
			m.out = m.out[1:]
			if err := compareDatagram(&d, &want); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if each != nil {
				each(&d)
			}
			if d.Complete {
				complete++
			} else {
				partial++
			}
			r.Release(d.Buf)
		}
		if len(m.out) != 0 {
			t.Fatalf("step %d: %d datagrams the model has are missing (first complete %v)", step, len(m.out), m.out[0].complete)
		}
		s := r.Stats()
		if s != m.stats {
			t.Fatalf("step %d: stats\n got  %+v\n want %+v", step, s, m.stats)
		}
		if s.BytesHeld > max(m.cfg.MaxBytes, ipfrag.BufferBytes) || s.BytesHeld > s.PeakBytes {
			t.Fatalf("step %d: %d bytes held", step, s.BytesHeld)
		}
		if s.Partial < s.TimedOut+s.Evicted || s.Fragments < s.Duplicates+s.Overlaps+s.Malformed+s.AfterDiscard {
			t.Fatalf("step %d: counts %+v", step, s)
		}
	}
	for i := range ops {
		op := &ops[i]
		if op.Expire {
			if dl := r.Deadline(); dl != modelDeadline(m) {
				t.Fatalf("step %d: deadline %d, model %d", i, dl, modelDeadline(m))
			}
			r.Expire(op.Now)
			m.expire(op.Now)
		} else {
			f := op.fragment()
			f.Index = int64(i)
			r.Add(f)
			m.add(op, int64(i))
		}
		drain(i)
	}
	r.Flush()
	m.flush()
	drain(len(ops))
	if s := r.Stats(); s.Pending != 0 || s.BytesHeld != 0 {
		t.Fatalf("after Flush: %+v", s)
	}
	return complete, partial
}

func modelDeadline(m *fragModel) int64 {
	if o := m.oldest(); o != nil {
		return o.deadline
	}
	return math.MaxInt64
}

// compareDatagram holds a returned datagram to the model's.
func compareDatagram(d *ipfrag.Datagram, w *mOut) error {
	id := fragIdents[w.ident]
	if d.Complete != w.complete || d.V6 != id.v6 || d.Tag != id.tag || d.LinkType != layers.LinkTypeEthernet ||
		d.Timestamp != w.ts || d.Index != w.index {
		return fmt.Errorf("datagram %v v6 %v tag %d ts %d index %d, want %v %v %d %d %d",
			d.Complete, d.V6, d.Tag, d.Timestamp, d.Index, w.complete, id.v6, id.tag, w.ts, w.index)
	}
	if d.Encap == nil || (*d.Encap != layers.Encap{}) != id.vlan || id.vlan && *d.Encap != vlanEncap {
		return fmt.Errorf("encap %+v", d.Encap)
	}
	if d.Length != w.length || d.IP != nil && d.Cut0 != w.cut0 {
		return fmt.Errorf("length %d cut0 %d, want %d %d", d.Length, d.Cut0, w.length, w.cut0)
	}
	if len(d.Runs) != len(w.runs) {
		return fmt.Errorf("%d runs, want %d", len(d.Runs), len(w.runs))
	}
	for i, run := range d.Runs {
		if run.Offset != w.runs[i].Offset || !bytes.Equal(run.Data, w.runs[i].Data) || run.Cut != w.runs[i].Cut {
			return fmt.Errorf("run %d at %d+%d cut %d, want %d+%d cut %d or other bytes", i, run.Offset, len(run.Data),
				run.Cut, w.runs[i].Offset, len(w.runs[i].Data), w.runs[i].Cut)
		}
	}
	if w.hdr == nil {
		if d.IP != nil {
			return fmt.Errorf("IP without a first fragment")
		}
		return nil
	}
	hl := len(w.hdr)
	if len(d.IP) != hl+len(w.payload) || !bytes.Equal(d.IP[hl:], w.payload) {
		return fmt.Errorf("IP %d bytes, want %d+%d or other bytes", len(d.IP), hl, len(w.payload))
	}
	h, want := d.IP[:hl], bytes.Clone(w.hdr)
	be := binary.BigEndian
	if id.v6 {
		be.PutUint16(want[4:], uint16(hl-40+len(w.payload)))
		want[hl-6], want[hl-5] = 0, want[hl-5]&6
	} else {
		ip := layers.IPv4(h)
		if !ip.ChecksumValid() {
			return fmt.Errorf("IPv4 checksum")
		}
		be.PutUint16(want[2:], uint16(hl+len(w.payload)))
		want[6], want[7], want[10], want[11] = 0, 0, h[10], h[11]
	}
	if !bytes.Equal(h, want) {
		return fmt.Errorf("header % x, want % x", h, want)
	}
	return nil
}
