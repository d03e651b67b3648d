package fuzz

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/reseq/reseq/layers"
	"github.com/reseq/reseq/tcpasm"
)

// The driver and the checks shared by the property tests and the fuzz target:
// feed a Model's packets to the real Assembler, record what the Handler hears,
// verify the stream-order protocol while it happens, and compare the result with
// the model.

// asmClientKey is the tuple every script runs on (client -> server).
var asmClientKey = func() layers.FlowKey {
	var k layers.FlowKey
	k.SetAddrs(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80"))
	return k
}()

// asmSegment turns a model packet into the Segment the Assembler takes.
func asmSegment(m *Model, p *ModelPacket, index int64) tcpasm.Segment {
	c := m.Conns[p.Conn]
	seg := tcpasm.Segment{
		Key:          asmClientKey,
		CapturePoint: p.Point,
		Timestamp:    p.Time,
		Index:        index,
		Seq:          c.ISN[p.Dir] + 1 + uint32(p.Off),
		Flags:        p.Flags,
		Window:       65535,
		Payload:      p.Payload,
		Length:       p.Length,
		IPID:         uint16(p.Tx),
		TSVal:        uint32(p.Tx) + 1,
		HasTS:        true,
	}
	if p.Dir == 1 {
		seg.Key = asmClientKey.Reverse()
	}
	if p.Flags&tcpasm.ACK != 0 {
		seg.Ack = c.ISN[1-p.Dir] + 1 + uint32(p.AckOff)
	}
	for _, b := range p.SACK {
		if seg.NumSACK == tcpasm.MaxSACK {
			break
		}
		seg.SACK[seg.NumSACK] = tcpasm.SACKBlock{
			Left:  c.ISN[1-p.Dir] + 1 + uint32(b[0]),
			Right: c.ISN[1-p.Dir] + 1 + uint32(b[1]),
		}
		seg.NumSACK++
	}
	return seg
}

// recStream is what the handler heard for one stream direction.
type recStream struct {
	s      *tcpasm.Stream
	cursor int64           // end of the Data and Gap calls so far
	bytes  map[int64]byte  // bytes delivered by Data and Late
	data   []ModelRange    // Data calls
	gaps   []ModelRange    // Gap calls
	late   []ModelRange    // Late calls
	reason []tcpasm.Reason // of each gap
	confl  []tcpasm.Conflict
	closed bool
	cause  tcpasm.Reason
	nData  int64
	nLate  int64
	nGap   int64
}

// asmRecorder is a tcpasm.Handler that records every call and checks the
// protocol as it goes: Open first, Data and Gap tiling the stream in order from
// offset 0, Late only inside earlier gaps, no byte delivered twice, nothing after
// Close. The first violation is kept in err.
type asmRecorder struct {
	streams []*recStream
	by      map[*tcpasm.Stream]*recStream
	opened  map[*tcpasm.Conn]bool
	conns   []*tcpasm.Conn
	err     error
	// keepBytes: record delivered bytes (off for large benchmarks).
	keepBytes bool
}

func newRecorder() *asmRecorder {
	return &asmRecorder{by: map[*tcpasm.Stream]*recStream{}, opened: map[*tcpasm.Conn]bool{}, keepBytes: true}
}

func (r *asmRecorder) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *asmRecorder) stream(s *tcpasm.Stream, call string) *recStream {
	if s == nil || s.Conn == nil {
		r.fail("%s: nil stream or stream without conn", call)
		return &recStream{bytes: map[int64]byte{}}
	}
	if !r.opened[s.Conn] {
		r.fail("%s on a connection before Open (%v #%d)", call, s.Conn.Key, s.Conn.Index)
	}
	rs := r.by[s]
	if rs == nil {
		rs = &recStream{s: s, bytes: map[int64]byte{}}
		r.by[s] = rs
		r.streams = append(r.streams, rs)
	}
	if rs.closed {
		r.fail("%s after Close on %s", call, streamName(s))
	}
	return rs
}

func streamName(s *tcpasm.Stream) string {
	return fmt.Sprintf("conn %d dir %d (%v)", s.Conn.Index, s.Dir, s.Conn.Key)
}

func (r *asmRecorder) Open(c *tcpasm.Conn) {
	if r.opened[c] {
		r.fail("Open twice for %v #%d", c.Key, c.Index)
	}
	r.opened[c] = true
	r.conns = append(r.conns, c)
}

func (r *asmRecorder) Data(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	rs := r.stream(s, "Data")
	if len(data) == 0 {
		r.fail("Data with no bytes at %d on %s", off, streamName(s))
		return
	}
	if off != rs.cursor {
		r.fail("Data at %d, want %d (stream order) on %s", off, rs.cursor, streamName(s))
	}
	end := off + int64(len(data))
	rs.data = append(rs.data, ModelRange{off, end})
	rs.nData += int64(len(data))
	if r.keepBytes {
		for i, b := range data {
			o := off + int64(i)
			if _, dup := rs.bytes[o]; dup {
				r.fail("byte %d delivered twice on %s", o, streamName(s))
			}
			rs.bytes[o] = b
		}
	}
	rs.cursor = max(rs.cursor, end)
}

func (r *asmRecorder) Gap(s *tcpasm.Stream, off, n int64, reason tcpasm.Reason, ts int64) {
	rs := r.stream(s, "Gap")
	if n <= 0 {
		r.fail("Gap of %d bytes at %d on %s", n, off, streamName(s))
		return
	}
	if off != rs.cursor {
		r.fail("Gap at %d, want %d (stream order) on %s", off, rs.cursor, streamName(s))
	}
	switch reason {
	case tcpasm.ReasonAcked, tcpasm.ReasonTruncated, tcpasm.ReasonLimit, tcpasm.ReasonEvicted,
		tcpasm.ReasonIdle, tcpasm.ReasonClosed, tcpasm.ReasonEOF:
	default:
		r.fail("Gap with reason %v on %s", reason, streamName(s))
	}
	rs.gaps = append(rs.gaps, ModelRange{off, off + n})
	rs.reason = append(rs.reason, reason)
	rs.nGap += n
	rs.cursor = max(rs.cursor, off+n)
}

func (r *asmRecorder) Late(s *tcpasm.Stream, off int64, data []byte, ts int64) {
	rs := r.stream(s, "Late")
	if len(data) == 0 {
		r.fail("Late with no bytes at %d on %s", off, streamName(s))
		return
	}
	end := off + int64(len(data))
	if !coveredBy(ModelRange{off, end}, rs.gaps) {
		r.fail("Late [%d,%d) not inside an earlier gap on %s (gaps %v)", off, end, streamName(s), rs.gaps)
	}
	rs.late = append(rs.late, ModelRange{off, end})
	rs.nLate += int64(len(data))
	if r.keepBytes {
		for i, b := range data {
			o := off + int64(i)
			if _, dup := rs.bytes[o]; dup {
				r.fail("late byte %d delivered twice on %s", o, streamName(s))
			}
			rs.bytes[o] = b
		}
	}
}

func (r *asmRecorder) Conflict(s *tcpasm.Stream, c tcpasm.Conflict, ts int64) {
	rs := r.stream(s, "Conflict")
	if c.Length <= 0 || c.Offset < 0 {
		r.fail("Conflict %+v on %s", c, streamName(s))
	}
	if c.Replace != nil {
		// The policy kept the later copy of delivered bytes: they replace
		// what was delivered (and must be bytes a captured copy carried).
		if int64(len(c.Replace)) != c.Length {
			r.fail("Conflict %+v: %d replacement bytes on %s", c, len(c.Replace), streamName(s))
		}
		if r.keepBytes {
			for i, b := range c.Replace {
				o := c.Offset + int64(i)
				if _, ok := rs.bytes[o]; !ok {
					r.fail("Conflict replaces byte %d, never delivered, on %s", o, streamName(s))
				}
				rs.bytes[o] = b
			}
		}
		c.Replace = nil
	}
	rs.confl = append(rs.confl, c)
}

func (r *asmRecorder) Close(s *tcpasm.Stream, reason tcpasm.Reason, ts int64) {
	rs := r.stream(s, "Close")
	switch reason {
	case tcpasm.ReasonFIN, tcpasm.ReasonRST, tcpasm.ReasonIdle, tcpasm.ReasonEvicted, tcpasm.ReasonEOF:
	default:
		r.fail("Close with reason %v on %s", reason, streamName(s))
	}
	rs.closed = true
	rs.cause = reason
	// At close every byte of [0, Extent) is accounted.
	if rs.cursor != s.Extent {
		r.fail("Close at cursor %d, extent %d on %s", rs.cursor, s.Extent, streamName(s))
	}
}

// coveredBy reports whether x lies inside the union of rs.
func coveredBy(x ModelRange, rs []ModelRange) bool {
	u := unionRanges(rs)
	for _, y := range u {
		if y.Off <= x.Off && x.End <= y.End {
			return true
		}
	}
	return false
}

// unionRanges merges ranges into sorted disjoint ones.
func unionRanges(rs []ModelRange) []ModelRange {
	c := append([]ModelRange(nil), rs...)
	sort.Slice(c, func(i, j int) bool { return c[i].Off < c[j].Off })
	var out []ModelRange
	for _, x := range c {
		if x.End <= x.Off {
			continue
		}
		if n := len(out); n > 0 && x.Off <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, x.End)
			continue
		}
		out = append(out, x)
	}
	return out
}

// subtractRanges returns a minus b, both as sorted disjoint ranges.
func subtractRanges(a, b []ModelRange) []ModelRange {
	a, b = unionRanges(a), unionRanges(b)
	var out []ModelRange
	for _, x := range a {
		cur := x.Off
		for _, y := range b {
			if y.End <= cur || y.Off >= x.End {
				continue
			}
			if y.Off > cur {
				out = append(out, ModelRange{cur, y.Off})
			}
			cur = max(cur, y.End)
		}
		if cur < x.End {
			out = append(out, ModelRange{cur, x.End})
		}
	}
	return out
}

func totalLen(rs []ModelRange) int64 {
	var n int64
	for _, x := range rs {
		n += x.End - x.Off
	}
	return n
}

// asmRun feeds the model's packets to a fresh Assembler and closes it. memCap,
// when positive, is checked against MemoryHeld after every segment (with one
// segment of slack).
func asmRun(m *Model, cfg tcpasm.Config, memCap int64) (*asmRecorder, *tcpasm.Assembler) {
	rec := newRecorder()
	a := tcpasm.New(cfg, rec)
	maxSeg := int64(0)
	for i := range m.Packets {
		seg := asmSegment(m, &m.Packets[i], int64(i))
		maxSeg = max(maxSeg, int64(len(seg.Payload)))
		a.Assemble(&seg)
		if h := a.MemoryHeld(); h < 0 || (memCap > 0 && h > memCap+maxSeg) {
			rec.fail("after packet %d MemoryHeld %d above the cap %d (+%d)", i, h, memCap, maxSeg)
		}
	}
	a.Close()
	if h := a.MemoryHeld(); h != 0 {
		rec.fail("MemoryHeld %d after Close", h)
	}
	st := a.Stats()
	if st.Packets != int64(len(m.Packets)) {
		rec.fail("Stats.Packets %d, fed %d", st.Packets, len(m.Packets))
	}
	if st.ConnsTotal != int64(len(rec.conns)) {
		rec.fail("Stats.ConnsTotal %d, Open calls %d", st.ConnsTotal, len(rec.conns))
	}
	for _, c := range rec.conns {
		for _, s := range c.Streams {
			if s != nil && rec.by[s] == nil {
				rec.fail("%s opened but never closed", streamName(s))
			}
		}
	}
	return rec, a
}

// asmCheckMode says how strictly to compare.
type asmCheckMode uint8

const (
	// checkExact: unlimited memory, one connection per model conn: delivered
	// bytes, extent and gaps exactly the model's, counters consistent.
	checkExact asmCheckMode = iota
	// checkLimited: tight per-stream limits, no eviction expected: delivered
	// bytes are the model's first copies, extent the model's, every byte
	// accounted, gaps a superset of the model's.
	checkLimited
	// checkLoose: memory pressure may evict streams and split connections:
	// every recorded stream is self-consistent and every delivered byte is a
	// byte some captured copy carried at that sequence number.
	checkLoose
)

// asmCheck runs every invariant on a recorded run against the model.
func asmCheck(m *Model, rec *asmRecorder, mode asmCheckMode) error {
	if rec.err != nil {
		return rec.err
	}
	// Self-consistency of every stream.
	for _, rs := range rec.streams {
		s := rs.s
		name := streamName(s)
		if !rs.closed {
			return fmt.Errorf("%s never closed", name)
		}
		if rs.cursor != s.Extent {
			return fmt.Errorf("%s: data+gaps reach %d, extent %d", name, rs.cursor, s.Extent)
		}
		if s.Stats.Bytes != rs.nData {
			return fmt.Errorf("%s: Stats.Bytes %d, Data delivered %d", name, s.Stats.Bytes, rs.nData)
		}
		if s.Stats.LateBytes != rs.nLate {
			return fmt.Errorf("%s: Stats.LateBytes %d, Late delivered %d", name, s.Stats.LateBytes, rs.nLate)
		}
		if s.Stats.Gaps != int64(len(rs.gaps)) {
			return fmt.Errorf("%s: Stats.Gaps %d, Gap calls %d", name, s.Stats.Gaps, len(rs.gaps))
		}
		if s.Stats.GapBytes != rs.nGap-rs.nLate {
			return fmt.Errorf("%s: Stats.GapBytes %d, gap bytes %d - late %d", name, s.Stats.GapBytes, rs.nGap, rs.nLate)
		}
		if s.Stats.Conflicts != int64(len(rs.confl)) {
			return fmt.Errorf("%s: Stats.Conflicts %d, Conflict calls %d", name, s.Stats.Conflicts, len(rs.confl))
		}
		if len(unionRanges(rs.late)) != 0 && totalLen(unionRanges(rs.late)) != rs.nLate {
			return fmt.Errorf("%s: late ranges overlap", name)
		}
		for _, c := range rs.confl {
			if c.Offset+c.Length > s.Extent {
				return fmt.Errorf("%s: conflict %+v beyond extent %d", name, c, s.Extent)
			}
		}
	}
	want := m.Expect()
	// Packets per direction and connection, as fed.
	fed := map[[2]int]int64{}
	for i := range m.Packets {
		fed[[2]int{m.Packets[i].Conn, m.Packets[i].Dir}]++
	}
	switch mode {
	case checkExact, checkLimited:
		got := map[[2]int]*recStream{}
		for _, rs := range rec.streams {
			d := 0
			if streamSrc(rs.s) != asmClientKey {
				d = 1
			}
			k := [2]int{rs.s.Conn.Index, d}
			if got[k] != nil {
				return fmt.Errorf("two streams for conn %d dir %d", k[0], k[1])
			}
			got[k] = rs
		}
		for k := range got {
			if want[k] == nil {
				return fmt.Errorf("unexpected stream conn %d dir %d (model has %d conns)", k[0], k[1], len(m.Conns))
			}
		}
		// Capture points of each connection, in order of first sight.
		for _, c := range rec.conns {
			var pts []uint16
			seenPt := map[int32]bool{}
			for i := range m.Packets {
				p := &m.Packets[i]
				if p.Conn == c.Index && p.Point != tcpasm.NoCapturePoint && !seenPt[p.Point] {
					seenPt[p.Point] = true
					pts = append(pts, uint16(p.Point))
				}
			}
			if fmt.Sprint(pts) != fmt.Sprint(c.CapturePoints) && len(pts)+len(c.CapturePoints) > 0 {
				return fmt.Errorf("conn %d: capture points %v, model %v", c.Index, c.CapturePoints, pts)
			}
		}
		for k, ws := range want {
			rs := got[k]
			if rs == nil {
				if ws.Extent == 0 && len(ws.Bytes) == 0 && fed[k] == 0 {
					continue
				}
				return fmt.Errorf("conn %d dir %d: no stream recorded (model extent %d, %d packets)", k[0], k[1], ws.Extent, fed[k])
			}
			if err := compareStream(ws, rs, fed[k], mode); err != nil {
				return fmt.Errorf("conn %d dir %d: %w", k[0], k[1], err)
			}
		}
	case checkLoose:
		cand := looseCandidates(m)
		for _, rs := range rec.streams {
			if err := looseStream(cand, rs); err != nil {
				return fmt.Errorf("%s: %w", streamName(rs.s), err)
			}
		}
	}
	return nil
}

func streamSrc(s *tcpasm.Stream) layers.FlowKey {
	if s.Dir == tcpasm.ClientToServer {
		return s.Conn.Key
	}
	return s.Conn.Key.Reverse()
}

func compareStream(ws *ModelStream, rs *recStream, fed int64, mode asmCheckMode) error {
	s := rs.s
	if s.Stats.Packets != fed {
		return fmt.Errorf("Stats.Packets %d, fed %d", s.Stats.Packets, fed)
	}
	if ws.HaveBase != s.HaveBase {
		return fmt.Errorf("HaveBase %v, model %v", s.HaveBase, ws.HaveBase)
	}
	if ws.SYN != s.SYN || ws.FIN != s.FIN || ws.RST != s.RST {
		return fmt.Errorf("SYN/FIN/RST %v/%v/%v, model %v/%v/%v", s.SYN, s.FIN, s.RST, ws.SYN, ws.FIN, ws.RST)
	}
	wantGaps := ws.Gaps()
	if ws.FINAckedFirst && s.Extent == ws.Extent+1 {
		// The ACK of the FIN came first and was taken for a byte (see
		// ModelStream.FINAckedFirst): tolerated, the phantom byte a gap.
		wantGaps = append(wantGaps, ModelRange{ws.Extent, ws.Extent + 1})
	} else if s.Extent != ws.Extent {
		return fmt.Errorf("extent %d, model %d (model gaps %v; got gaps %v late %v)", s.Extent, ws.Extent, ws.Gaps(), rs.gaps, rs.late)
	}
	// Every delivered byte is the first captured copy.
	for o, b := range rs.bytes {
		wb, ok := ws.Bytes[o]
		if !ok {
			return fmt.Errorf("byte %d delivered (%#x) but the model has it in a gap", o, b)
		}
		if wb != b {
			return fmt.Errorf("byte %d delivered as %#x, first captured copy %#x (packet %d)", o, b, wb, ws.FirstIndex[o])
		}
	}
	gotGaps := subtractRanges(rs.gaps, rs.late)
	if mode == checkExact {
		if len(rs.bytes) != len(ws.Bytes) {
			missing := subtractRanges(complementRanges(rs.bytes, s.Extent), wantGaps)
			return fmt.Errorf("%d bytes delivered, model %d (captured but not delivered: %v)", len(rs.bytes), len(ws.Bytes), missing)
		}
		if !equalRanges(gotGaps, wantGaps) {
			return fmt.Errorf("gaps %v (late %v), model %v", rs.gaps, rs.late, wantGaps)
		}
		for i, r := range rs.reason {
			if r == tcpasm.ReasonLimit || r == tcpasm.ReasonEvicted {
				return fmt.Errorf("gap %v with reason %v under unlimited memory", rs.gaps[i], r)
			}
		}
		if s.Stats.Retransmitted != ws.Retransmitted {
			return fmt.Errorf("Stats.Retransmitted %d, model %d", s.Stats.Retransmitted, ws.Retransmitted)
		}
		if s.Stats.BeforeBase != ws.BeforeBase {
			return fmt.Errorf("Stats.BeforeBase %d, model %d", s.Stats.BeforeBase, ws.BeforeBase)
		}
		if s.Stats.RSTBytes != ws.RSTBytes {
			return fmt.Errorf("Stats.RSTBytes %d, model %d", s.Stats.RSTBytes, ws.RSTBytes)
		}
		if s.Stats.Duplicates != ws.Duplicates {
			return fmt.Errorf("Stats.Duplicates %d, model %d", s.Stats.Duplicates, ws.Duplicates)
		}
		// Every differing byte is reported, and only differing bytes are.
		for o := range ws.Differing {
			if !conflictCovers(rs.confl, o) {
				return fmt.Errorf("byte %d retransmitted with other data, no Conflict (got %v)", o, rs.confl)
			}
		}
	}
	for _, c := range rs.confl {
		hit := false
		for o := range ws.Differing {
			if c.Offset <= o && o < c.Offset+c.Length {
				hit = true
				break
			}
		}
		if !hit {
			return fmt.Errorf("Conflict %+v covers no byte that differed (model %v)", c, keysOf(ws.Differing))
		}
		if c.KeptIndex >= c.DroppedIndex {
			return fmt.Errorf("Conflict %+v: first-wins keeps the earlier packet", c)
		}
	}
	// Under limits the model's gaps are still gaps.
	if extra := subtractRanges(wantGaps, gotGaps); len(extra) != 0 {
		return fmt.Errorf("bytes %v never captured but not in a gap", extra)
	}
	return nil
}

func conflictCovers(cs []tcpasm.Conflict, o int64) bool {
	for _, c := range cs {
		if c.Offset <= o && o < c.Offset+c.Length {
			return true
		}
	}
	return false
}

func equalRanges(a, b []ModelRange) bool {
	a, b = unionRanges(a), unionRanges(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// looseCandidates lists, per direction, every (sequence number, byte) some
// captured copy carried, over every connection of the model (eviction may split
// or renumber connections): the key is seq<<8 | byte.
func looseCandidates(m *Model) [2]map[uint64]bool {
	cand := [2]map[uint64]bool{{}, {}}
	for i := range m.Packets {
		p := &m.Packets[i]
		isn := m.Conns[p.Conn].ISN[p.Dir]
		for j, b := range p.Payload {
			sq := isn + 1 + uint32(p.DataOff()+int64(j))
			cand[p.Dir][uint64(sq)<<8|uint64(b)] = true
		}
	}
	return cand
}

// looseStream checks a stream of a run under memory pressure: every delivered
// byte is one some captured copy carried at that sequence number.
func looseStream(cand [2]map[uint64]bool, rs *recStream) error {
	s := rs.s
	if len(rs.bytes) == 0 {
		return nil
	}
	if !s.HaveBase {
		return fmt.Errorf("bytes delivered without a base")
	}
	d := 0
	if streamSrc(s) != asmClientKey {
		d = 1
	}
	for o, b := range rs.bytes {
		sq := s.BaseSeq + uint32(o)
		if !cand[d][uint64(sq)<<8|uint64(b)] {
			return fmt.Errorf("byte %d (seq %d) delivered as %#x, no captured copy carried it", o, sq, b)
		}
	}
	return nil
}
