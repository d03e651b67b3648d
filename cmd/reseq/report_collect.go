package main

// The collector of 'reseq report' and 'reseq plot': one pass over the
// captures. It is both the tcpasm.Handler (delivered bytes, gaps, late
// bytes, conflicts, the final per-direction records) and an observer wrapped
// around the assembler that sees every tcpasm.Segment after it was assembled
// (times, sequence ranges, ACKs, SACK blocks, windows, capture points).
//
// Memory stays flat: every live connection has counters and, while the
// detail budget allows, a per-direction event list reduced to pixel
// resolution on the fly (reportDetail); a finished connection keeps its
// detail only when it enters the top N (by gap bytes, then captured bytes),
// and the top N is a bounded heap. Time is counted in at most maxBuckets
// buckets whose width doubles as the capture goes on.

import (
	"container/heap"
	"math/bits"

	"github.com/reseq/reseq/layers"
	stages "github.com/reseq/reseq/pipeline"
	"github.com/reseq/reseq/tcpasm"
)

// Gap reasons as indexes of the per-reason counters (tcpasm.Reason values).
const numReasons = 16

// reportDir is the collector's state of one stream direction.
type reportDir struct {
	cursor     int64 // everything below was delivered or declared a gap
	recent     []gapRange
	gapBy      [numReasons]int64 // gap bytes by reason, net of late fills
	gapN       int64             // gaps declared (net of gaps filled whole)
	late       int64
	conflicts  int64
	ackedN     int64 // acked gaps declared (Zeek's gap events)
	hiSeen     int64 // one past the highest offset a captured segment carried
	seen       bool
	ref        int64 // latest offset, reference for unwrapping this stream's seq
	peerAck    int64 // highest offset of this stream the peer acknowledged
	havePeer   bool
	maxInfl    int64 // max of (hiSeen - peerAck): inflight, for the window scale guess
	maxWin     int64
	ackEvents  int64 // ACKs of this stream that advanced peerAck
	closed     bool
	closeR     tcpasm.Reason
	rec        *reportRecord // final record, at Close
	detail     *reportDetail
	detailLost bool
}

// reportConn is the collector's state of one connection.
type reportConn struct {
	c      *tcpasm.Conn
	dirs   [2]reportDir
	cpMask uint64 // capture points (by reportPoint index) that saw it
	closed int
	score  [2]int64 // gap bytes, captured bytes: the ranking
	hidx   int      // index in the top heap, -1 when not in it
}

// reportRecord is one direction of a connection, with the fields of
// flows.jsonl that the report shows.
type reportRecord struct {
	Src           string           `json:"src"`
	Dst           string           `json:"dst"`
	VLAN          []uint16         `json:"vlan,omitempty"`
	CapturePoints []string         `json:"capture_points,omitempty"`
	Conn          int              `json:"conn"`
	Index         int64            `json:"index"`
	Dir           string           `json:"dir"`
	BaseSeq       *uint32          `json:"base_seq,omitempty"`
	SYN           bool             `json:"syn"`
	FIN           bool             `json:"fin"`
	RST           bool             `json:"rst"`
	Close         string           `json:"close"`
	Length        int64            `json:"length"`
	Captured      int64            `json:"captured"`
	Gaps          int64            `json:"gaps"`
	GapBytes      int64            `json:"gap_bytes"`
	GapBy         map[string]int64 `json:"gap_bytes_by_reason,omitempty"`
	Packets       int64            `json:"packets"`
	Retransmitted int64            `json:"retransmitted"`
	Duplicates    int64            `json:"duplicates"`
	OutOfOrder    int64            `json:"out_of_order"`
	Conflicts     int64            `json:"conflicts"`
	Late          int64            `json:"late"`
	BeforeBase    int64            `json:"before_base"`
	First         string           `json:"first,omitempty"`
	Last          string           `json:"last,omitempty"`
	AckEvidence   bool             `json:"ack_evidence"`

	first, last int64
}

// reportBucket counts one time bucket.
type reportBucket struct {
	Packets   int64 `json:"packets"` // TCP segments
	Bytes     int64 `json:"bytes"`   // captured TCP payload bytes
	Delivered int64 `json:"-"`       // bytes delivered (Data + Late)
	AckedGap  int64 `json:"-"`       // acked gap bytes declared
	AckEvents int64 `json:"-"`       // ACKs that advanced
	GapEvents int64 `json:"-"`       // acked gaps declared
}

const maxBuckets = 256

// reportPoint counts one capture point.
type reportPoint struct {
	ID       int32
	Packets  int64 // TCP segments it saw
	Unique   int64 // of which no other point saw a copy
	Missed   int64 // segments of its connections another point saw and it did not
	AckedGap int64 // acked gap bytes in connections it saw
	Conns    int64
}

// reportTotals are the whole run's figures.
type reportTotals struct {
	Conns, Streams      int64
	Captured            int64 // bytes delivered (length - gap bytes, summed)
	GapBy               [numReasons]int64
	Gaps                int64
	Late, Conflicts     int64
	AckEvents, GapEvent int64
	// reseq's estimate: over streams with ACK evidence.
	EvAcked, EvCaptured int64
	EvStreams           int64
	First, Last         int64
	Segments            int64
}

// reportCollector implements tcpasm.Handler and wraps the assembler.
type reportCollector struct {
	asm    *tcpasm.Assembler
	tables *stages.Tables
	topN   int
	// want, when set, selects the only connections whose detail is kept
	// ('reseq plot').
	want   func(c *tcpasm.Conn) bool
	wanted *reportConn // the first connection want selected

	live    map[layers.FlowKey]*reportConn
	lastKey layers.FlowKey
	lastRC  *reportConn
	lastDir tcpasm.Direction

	tot      reportTotals
	t0       int64
	width    int64 // bucket width, ns
	buckets  []reportBucket
	haveT0   bool
	points   []*reportPoint
	pointIx  map[int32]int
	dedup    *dedupRing
	top      topHeap
	events   int64 // detail events held by live connections
	maxEvent int64 // budget of events held by live connections
	detCap   int   // events per direction before it is reduced
}

func newReportCollector(tables *stages.Tables, topN int, detailMemory int64) *reportCollector {
	rc := &reportCollector{
		tables:  tables,
		topN:    topN,
		live:    map[layers.FlowKey]*reportConn{},
		width:   1000, // 1 µs; doubles as needed
		pointIx: map[int32]int{},
		detCap:  detailCap,
	}
	rc.maxEvent = detailMemory / detailEventSize
	return rc
}

// Assemble implements pipeline.Assembler.
func (r *reportCollector) Assemble(seg *tcpasm.Segment) {
	if !r.haveT0 && !seg.Filtered {
		r.bucket(seg.Timestamp)
	}
	r.asm.Assemble(seg)
	r.observe(seg)
}

// AssembleBatch keeps the assembler's batch path (it copies less).
func (r *reportCollector) AssembleBatch(segs []tcpasm.Segment) {
	for i := 0; !r.haveT0 && i < len(segs); i++ {
		if !segs[i].Filtered {
			r.bucket(segs[i].Timestamp) // the assembler's callbacks come first
		}
	}
	r.asm.AssembleBatch(segs)
	for i := range segs {
		r.observe(&segs[i])
	}
}

func (r *reportCollector) bucket(t int64) *reportBucket {
	if !r.haveT0 {
		r.haveT0 = true
		r.t0 = t
	}
	d := t - r.t0
	if d < 0 {
		d = 0
	}
	i := d / r.width
	for i >= maxBuckets {
		// Halve the resolution: merge pairs.
		for k := 0; k < len(r.buckets); k += 2 {
			b := r.buckets[k]
			if k+1 < len(r.buckets) {
				c := r.buckets[k+1]
				b.Packets += c.Packets
				b.Bytes += c.Bytes
				b.Delivered += c.Delivered
				b.AckedGap += c.AckedGap
				b.AckEvents += c.AckEvents
				b.GapEvents += c.GapEvents
			}
			r.buckets[k/2] = b
		}
		r.buckets = r.buckets[:(len(r.buckets)+1)/2]
		r.width *= 2
		i = d / r.width
	}
	for int64(len(r.buckets)) <= i {
		r.buckets = append(r.buckets, reportBucket{})
	}
	return &r.buckets[i]
}

func (r *reportCollector) point(cp int32) int {
	if i, ok := r.pointIx[cp]; ok {
		return i
	}
	i := len(r.points)
	if i >= 64 {
		i = 63 // the 64th and later share the last counters
		return i
	}
	r.points = append(r.points, &reportPoint{ID: cp})
	r.pointIx[cp] = i
	return i
}

// lookup finds the live connection of a segment and its direction.
func (r *reportCollector) lookup(k *layers.FlowKey) (*reportConn, tcpasm.Direction) {
	if r.lastRC != nil && r.lastKey == *k {
		return r.lastRC, r.lastDir
	}
	if c, ok := r.live[*k]; ok {
		r.lastKey, r.lastRC, r.lastDir = *k, c, tcpasm.ClientToServer
		return c, tcpasm.ClientToServer
	}
	if c, ok := r.live[k.Reverse()]; ok {
		r.lastKey, r.lastRC, r.lastDir = *k, c, tcpasm.ServerToClient
		return c, tcpasm.ServerToClient
	}
	return nil, 0
}

// unwrap maps a 32-bit sequence number of stream s to its 64-bit offset,
// near ref (the latest offset seen): wrap-safe.
func unwrap(s *tcpasm.Stream, seq uint32, ref int64) int64 {
	d := int32(seq - (s.BaseSeq + uint32(ref)))
	return ref + int64(d)
}

// observe counts a segment the assembler was given; one the filters refused
// (Filtered, given only to number connections) counts for nothing.
func (r *reportCollector) observe(seg *tcpasm.Segment) {
	if seg.Filtered {
		return
	}
	t := seg.Timestamp
	r.tot.Segments++
	if r.tot.Segments == 1 || t < r.tot.First {
		r.tot.First = t
	}
	if t > r.tot.Last {
		r.tot.Last = t
	}
	b := r.bucket(t)
	b.Packets++
	b.Bytes += int64(len(seg.Payload))
	pi := r.point(seg.CapturePoint)
	r.points[pi].Packets++
	rc, dir := r.lookup(&seg.Key)
	if rc != nil {
		rc.cpMask |= 1 << uint(pi)
	}
	if seg.CapturePoint != tcpasm.NoCapturePoint {
		if r.dedup == nil {
			r.dedup = newDedupRing()
		}
		r.dedup.add(r, seg, pi, rc)
	}
	if rc == nil {
		return
	}
	s := rc.c.Streams[dir]
	ds := &rc.dirs[dir]
	// Data: the segment's range in this direction's stream.
	n := int64(seg.Length)
	if s != nil && s.HaveBase && (n > 0 || seg.Flags&(tcpasm.FIN) != 0) {
		seq := seg.Seq
		if seg.Flags&tcpasm.SYN != 0 {
			seq++
		}
		off := unwrap(s, seq, ds.ref)
		end := off + n
		kind := evData
		if ds.seen && off < ds.hiSeen && n > 0 {
			kind = evRetrans
		}
		if n > 0 {
			if !ds.seen || end > ds.hiSeen {
				ds.hiSeen = end
				ds.seen = true
			}
			ds.ref = off
			r.addEvent(rc, ds, reportEvent{t: t, a: off, b: end, kind: kind})
		}
		if ds.havePeer {
			ds.maxInfl = max(ds.maxInfl, ds.hiSeen-ds.peerAck)
		}
	}
	// ACK: of the peer's stream.
	if seg.Flags&tcpasm.ACK != 0 {
		ps := rc.c.Streams[1-dir]
		pd := &rc.dirs[1-dir]
		if ps != nil && ps.HaveBase {
			ref := pd.ref
			if pd.havePeer {
				ref = pd.peerAck
			}
			a := unwrap(ps, seg.Ack, ref)
			win := int64(seg.Window)
			pd.maxWin = max(pd.maxWin, win)
			if !pd.havePeer || a > pd.peerAck {
				if pd.havePeer || a > 0 {
					pd.ackEvents++
					r.tot.AckEvents++
					b.AckEvents++
				}
				pd.peerAck = a
				pd.havePeer = true
			}
			if pd.detail != nil {
				r.addEvent(rc, pd, reportEvent{t: t, a: a, b: a + win, kind: evAck})
				for i := 0; i < seg.NumSACK && i < tcpasm.MaxSACK; i++ {
					l := unwrap(ps, seg.SACK[i].Left, a)
					rr := l + int64(seg.SACK[i].Right-seg.SACK[i].Left)
					r.addEvent(rc, pd, reportEvent{t: t, a: l, b: rr, kind: evSACK})
				}
			}
		}
	}
}

// Open implements tcpasm.Handler.
func (r *reportCollector) Open(c *tcpasm.Conn) {
	rc := &reportConn{c: c, hidx: -1}
	r.live[c.Key] = rc
	r.lastRC = nil
	r.tot.Conns++
	keep := r.want == nil || r.want(c)
	if r.want != nil && keep && r.wanted == nil {
		r.wanted = rc
	}
	for d := range rc.dirs {
		if s := c.Streams[d]; s != nil {
			s.User = rc
		}
		if keep && (r.maxEvent > 0 || r.want != nil) {
			rc.dirs[d].detail = &reportDetail{}
		}
	}
}

func (r *reportCollector) conn(s *tcpasm.Stream) *reportConn {
	rc, _ := s.User.(*reportConn)
	if rc == nil {
		rc = &reportConn{c: s.Conn, hidx: -1}
		s.User = rc
	}
	return rc
}

// Data implements tcpasm.Handler.
func (r *reportCollector) Data(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	ds := &r.conn(s).dirs[s.Dir]
	if end := off + int64(len(data)); end > ds.cursor {
		ds.cursor = end
	}
	r.bucket(ts).Delivered += int64(len(data))
}

// Gap implements tcpasm.Handler.
func (r *reportCollector) Gap(s *tcpasm.Stream, off, n int64, reason tcpasm.Reason, ts int64) {
	rc := r.conn(s)
	ds := &rc.dirs[s.Dir]
	r.addGap(rc, ds, off, n, reason, ts)
	if off+n > ds.cursor {
		ds.cursor = off + n
	}
}

// maxRecentGaps bounds the gaps kept per direction to take late bytes out of
// (late bytes fill gaps declared a few milliseconds before).
const maxRecentGaps = 1024

func (r *reportCollector) addGap(rc *reportConn, ds *reportDir, off, n int64, reason tcpasm.Reason, ts int64) {
	if n <= 0 {
		return
	}
	ri := int(reason) % numReasons
	ds.gapBy[ri] += n
	merged := false
	if k := len(ds.recent); k > 0 {
		g := &ds.recent[k-1]
		if g.off+g.n == off && g.reason == reason {
			g.n += n
			merged = true
		}
	}
	if !merged {
		ds.gapN++
		if len(ds.recent) >= maxRecentGaps {
			copy(ds.recent, ds.recent[maxRecentGaps/2:])
			ds.recent = ds.recent[:len(ds.recent)-maxRecentGaps/2]
		}
		ds.recent = append(ds.recent, gapRange{off, n, reason})
	}
	b := r.bucket(ts)
	if reason == tcpasm.ReasonAcked {
		b.AckedGap += n
		b.GapEvents++
		ds.ackedN++
		r.tot.GapEvent++
	}
	r.addEvent(rc, ds, reportEvent{t: ts, a: off, b: off + n, n: n, kind: evGap, reason: uint8(reason)})
}

// Late implements tcpasm.Handler: the bytes leave the gaps they fill.
func (r *reportCollector) Late(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	rc := r.conn(s)
	ds := &rc.dirs[s.Dir]
	end := off + int64(len(data))
	filled := int64(0)
	for i := len(ds.recent) - 1; i >= 0; i-- {
		g := ds.recent[i]
		if g.off+g.n <= off {
			break
		}
		a, b := max(g.off, off), min(g.off+g.n, end)
		if a >= b {
			continue
		}
		filled += b - a
		ri := int(g.reason) % numReasons
		ds.gapBy[ri] -= b - a
		bk := r.bucket(ts)
		if g.reason == tcpasm.ReasonAcked {
			bk.AckedGap -= b - a
		}
		bk.Delivered += b - a
		switch {
		case a == g.off && b == g.off+g.n:
			ds.recent = append(ds.recent[:i], ds.recent[i+1:]...)
			ds.gapN--
		case a == g.off:
			ds.recent[i] = gapRange{b, g.off + g.n - b, g.reason}
		case b == g.off+g.n:
			ds.recent[i].n = a - g.off
		default:
			ds.recent[i].n = a - g.off
			ds.recent = append(ds.recent[:i+1], append([]gapRange{{b, g.off + g.n - b, g.reason}}, ds.recent[i+1:]...)...)
			ds.gapN++
		}
	}
	ds.late += filled
	if filled > 0 {
		r.addEvent(rc, ds, reportEvent{t: ts, a: off, b: end, kind: evLate})
	}
}

// Conflict implements tcpasm.Handler.
func (r *reportCollector) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	rc := r.conn(s)
	ds := &rc.dirs[s.Dir]
	ds.conflicts++
	r.addEvent(rc, ds, reportEvent{t: ts, a: c.Offset, b: c.Offset + c.Length, kind: evConflict})
}

// Close implements tcpasm.Handler: the direction's record is made as
// extract's index makes it (the same length, gaps and captured bytes).
func (r *reportCollector) Close(s *tcpasm.Stream, reason tcpasm.Reason, ts int64) {
	rc := r.conn(s)
	ds := &rc.dirs[s.Dir]
	if ds.closed {
		return
	}
	ds.closed = true
	ds.closeR = reason
	r.tot.Streams++
	length := max(s.Extent, ds.cursor)
	if ds.cursor < length {
		gr := reason
		switch reason {
		case tcpasm.ReasonFIN, tcpasm.ReasonRST:
			gr = tcpasm.ReasonClosed
		case tcpasm.ReasonNone:
			gr = tcpasm.ReasonEOF
		}
		r.addGap(rc, ds, ds.cursor, length-ds.cursor, gr, ts)
		ds.cursor = length
	}
	ds.recent = nil
	var gapBytes int64
	by := map[string]int64{}
	for i, v := range ds.gapBy {
		if v != 0 {
			by[tcpasm.Reason(i).String()] = v
			gapBytes += v
			r.tot.GapBy[i] += v
		}
	}
	c := s.Conn
	key := c.Key
	if s.Dir == tcpasm.ServerToClient {
		key = key.Reverse()
	}
	rec := &reportRecord{
		Src: key.SrcAddr().String(), Dst: key.DstAddr().String(), VLAN: key.VLANIDs(),
		CapturePoints: pointNames(r.tables, c.CapturePoints),
		Conn:          c.Index, Index: c.Seq, Dir: dirName(s.Dir),
		SYN: s.SYN, FIN: s.FIN, RST: s.RST, Close: reasonName(reason),
		Length: length, Captured: length - gapBytes, Gaps: ds.gapN, GapBytes: gapBytes, GapBy: by,
		Packets: s.Stats.Packets, Retransmitted: s.Stats.Retransmitted, Duplicates: s.Stats.Duplicates,
		OutOfOrder: s.Stats.OutOfOrder, Conflicts: ds.conflicts, Late: ds.late, BeforeBase: s.Stats.BeforeBase,
		AckEvidence: ds.havePeer && ds.peerAck > 0,
	}
	if len(rec.VLAN) == 0 {
		rec.VLAN = nil
	}
	if len(by) == 0 {
		rec.GapBy = nil
	}
	if s.HaveBase {
		b := s.BaseSeq
		rec.BaseSeq = &b
	}
	if s.Stats.Packets > 0 {
		rec.First, rec.Last = fmtTime(s.First), fmtTime(s.Last)
		rec.first, rec.last = s.First, s.Last
	}
	ds.rec = rec
	r.tot.Captured += rec.Captured
	r.tot.Gaps += ds.gapN
	r.tot.Late += ds.late
	r.tot.Conflicts += ds.conflicts
	acked := ds.gapBy[tcpasm.ReasonAcked]
	if rec.AckEvidence {
		r.tot.EvStreams++
		r.tot.EvAcked += acked
		r.tot.EvCaptured += rec.Captured
	}
	for m := rc.cpMask; m != 0; m &= m - 1 {
		r.points[bits.TrailingZeros64(m)].AckedGap += acked
	}
	rc.score[0] += gapBytes
	rc.score[1] += rec.Captured

	other := c.Streams[1-s.Dir]
	if other != nil && !rc.dirs[1-s.Dir].closed {
		return
	}
	// Both directions are done.
	if cur, ok := r.live[c.Key]; ok && cur == rc {
		delete(r.live, c.Key)
	}
	r.lastRC = nil
	for m := rc.cpMask; m != 0; m &= m - 1 {
		r.points[bits.TrailingZeros64(m)].Conns++
	}
	for d := range rc.dirs {
		r.events -= int64(rc.dirs[d].detail.len())
	}
	r.rank(rc)
}

// rank puts a finished connection in the top heap, or lets its detail go.
func (r *reportCollector) rank(rc *reportConn) {
	if r.topN <= 0 {
		return
	}
	if len(r.top) < r.topN {
		heap.Push(&r.top, rc)
		return
	}
	if !r.top.less(r.top[0], rc) {
		rc.dropDetail()
		return
	}
	old := r.top[0]
	old.dropDetail()
	old.dirs[0].rec, old.dirs[1].rec = nil, nil
	old.hidx = -1
	r.top[0] = rc
	rc.hidx = 0
	heap.Fix(&r.top, 0)
}

func (rc *reportConn) dropDetail() {
	for d := range rc.dirs {
		rc.dirs[d].detail = nil
	}
}

// finish closes what the assembler left open (it leaves nothing after
// Close) and returns the top connections, most gap bytes first.
func (r *reportCollector) finish() []*reportConn {
	for _, rc := range r.live {
		for d, s := range rc.c.Streams {
			if s != nil && !rc.dirs[d].closed {
				r.Close(s, tcpasm.ReasonEOF, s.Last)
			}
		}
	}
	if r.dedup != nil {
		r.dedup.flush(r)
	}
	out := make([]*reportConn, len(r.top))
	copy(out, r.top)
	for i := range out {
		out[i].hidx = -1
	}
	// Most gap bytes first, then most captured, then first seen.
	sortConns(out, r.top.less)
	return out
}

// topHeap is a min-heap of connections by score.
type topHeap []*reportConn

func (h topHeap) less(a, b *reportConn) bool {
	if a.score[0] != b.score[0] {
		return a.score[0] < b.score[0]
	}
	if a.score[1] != b.score[1] {
		return a.score[1] < b.score[1]
	}
	return a.c.Seq > b.c.Seq // the earlier connection ranks higher
}
func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return h.less(h[i], h[j]) }
func (h topHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *topHeap) Push(x any) {
	rc := x.(*reportConn)
	rc.hidx = len(*h)
	*h = append(*h, rc)
}
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func sortConns(cs []*reportConn, less func(a, b *reportConn) bool) {
	// insertion sort is enough for the top N (default 100); use a simple
	// merge-free approach via sort.Slice semantics.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && less(cs[j-1], cs[j]); j-- {
			cs[j-1], cs[j] = cs[j], cs[j-1]
		}
	}
}

// dedupRing finds copies of one packet seen at several capture points: the
// last dedupSize segments by fingerprint, each with the set of points that
// saw it. When an entry leaves the ring it is counted: unique to its point,
// or missed by the points of its connection that did not see it.
type dedupRing struct {
	ents []dedupEnt
	pos  int
	idx  map[uint64]int32
}

type dedupEnt struct {
	fp   uint64
	t    int64
	mask uint64
	rc   *reportConn
	used bool
}

const (
	dedupSize   = 1 << 16
	dedupWindow = int64(1e9) // copies more than 1 s apart are different packets
)

func newDedupRing() *dedupRing {
	return &dedupRing{ents: make([]dedupEnt, dedupSize), idx: make(map[uint64]int32, dedupSize)}
}

func segFingerprint(seg *tcpasm.Segment) uint64 {
	h := seg.Key.Hash()
	mix := func(h, v uint64) uint64 {
		h ^= v
		h *= 0x100000001b3
		return h ^ h>>29
	}
	h = mix(h, uint64(seg.Seq)<<32|uint64(seg.Ack))
	h = mix(h, uint64(seg.Length)<<32|uint64(seg.Window)<<16|uint64(seg.IPID))
	h = mix(h, uint64(seg.TSVal)<<8|uint64(seg.Flags))
	return h
}

func (d *dedupRing) add(r *reportCollector, seg *tcpasm.Segment, pi int, rc *reportConn) {
	fp := segFingerprint(seg)
	bit := uint64(1) << uint(pi)
	if i, ok := d.idx[fp]; ok {
		e := &d.ents[i]
		if e.used && e.fp == fp && seg.Timestamp-e.t < dedupWindow && e.mask&bit == 0 {
			e.mask |= bit
			return
		}
	}
	e := &d.ents[d.pos]
	if e.used {
		d.retire(r, e)
	}
	*e = dedupEnt{fp: fp, t: seg.Timestamp, mask: bit, rc: rc, used: true}
	d.idx[fp] = int32(d.pos)
	d.pos = (d.pos + 1) % len(d.ents)
}

func (d *dedupRing) retire(r *reportCollector, e *dedupEnt) {
	if i, ok := d.idx[e.fp]; ok && &d.ents[i] == e {
		delete(d.idx, e.fp)
	}
	if bits.OnesCount64(e.mask) == 1 {
		r.points[bits.TrailingZeros64(e.mask)].Unique++
	}
	if e.rc != nil {
		for m := e.rc.cpMask &^ e.mask; m != 0; m &= m - 1 {
			r.points[bits.TrailingZeros64(m)].Missed++
		}
	}
	e.used = false
	e.rc = nil
}

func (d *dedupRing) flush(r *reportCollector) {
	for i := range d.ents {
		if d.ents[i].used {
			d.retire(r, &d.ents[i])
		}
	}
}
