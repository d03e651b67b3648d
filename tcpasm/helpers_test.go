package tcpasm

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/reseq/reseq/layers"
)

// recorder is a Handler that records every call and checks the protocol while
// it happens: Open before anything else of a connection, Data and Gap tiling
// each stream from offset 0 in order, Late only inside earlier gaps and never
// twice, nothing after Close, and at Close the accounting invariant.
type recorder struct {
	t       testing.TB
	conns   []*Conn
	opened  map[*Conn]bool
	streams map[*Stream]*rstream
	order   []*rstream
	log     []string // one line per call, for order checks
	keepLog bool
	noBytes bool // big runs: do not keep the delivered bytes
}

type rgap struct {
	off, n int64
	reason Reason
}

type rstream struct {
	s      *Stream
	cursor int64
	bytes  map[int64]byte
	gaps   []rgap
	late   [][2]int64
	confl  []Conflict
	closed bool
	cause  Reason
	nData  int64
	nGap   int64
	nLate  int64
	// opened: Data/Gap calls seen before the last Assemble returned (for the
	// "delivered immediately" checks).
	calls int
}

func newRecorder(t testing.TB) *recorder {
	return &recorder{t: t, opened: map[*Conn]bool{}, streams: map[*Stream]*rstream{}}
}

func (r *recorder) failf(format string, args ...any) {
	r.t.Helper()
	r.t.Errorf(format, args...)
}

func (r *recorder) get(s *Stream, call string) *rstream {
	r.t.Helper()
	if s == nil || s.Conn == nil {
		r.failf("%s: nil stream", call)
		return &rstream{bytes: map[int64]byte{}}
	}
	if !r.opened[s.Conn] {
		r.failf("%s before Open", call)
	}
	rs := r.streams[s]
	if rs == nil {
		rs = &rstream{s: s, bytes: map[int64]byte{}}
		r.streams[s] = rs
		r.order = append(r.order, rs)
	}
	if rs.closed {
		r.failf("%s after Close on conn %d dir %d", call, s.Conn.Index, s.Dir)
	}
	rs.calls++
	return rs
}

func (r *recorder) note(format string, args ...any) {
	if r.keepLog {
		r.log = append(r.log, fmt.Sprintf(format, args...))
	}
}

func (r *recorder) Open(c *Conn) {
	if r.opened[c] {
		r.failf("Open twice")
	}
	r.opened[c] = true
	r.conns = append(r.conns, c)
	r.note("open %d", c.Index)
}

func (r *recorder) Data(s *Stream, off int64, data []byte, ts int64) {
	rs := r.get(s, "Data")
	r.note("data %d %d %d %q", s.Dir, off, len(data), data)
	if len(data) == 0 {
		r.failf("empty Data at %d", off)
	}
	if off != rs.cursor {
		r.failf("Data at %d, cursor %d (dir %d)", off, rs.cursor, s.Dir)
	}
	for i, b := range data {
		if r.noBytes {
			break
		}
		o := off + int64(i)
		if _, ok := rs.bytes[o]; ok {
			r.failf("byte %d delivered twice", o)
		}
		rs.bytes[o] = b
	}
	rs.nData += int64(len(data))
	rs.cursor = off + int64(len(data))
}

func (r *recorder) Gap(s *Stream, off, n int64, reason Reason, ts int64) {
	rs := r.get(s, "Gap")
	r.note("gap %d %d %d %v", s.Dir, off, n, reason)
	if n <= 0 {
		r.failf("Gap of %d bytes", n)
	}
	if off != rs.cursor {
		r.failf("Gap at %d, cursor %d (dir %d)", off, rs.cursor, s.Dir)
	}
	switch reason {
	case ReasonAcked, ReasonTruncated, ReasonLimit, ReasonEvicted, ReasonIdle, ReasonClosed, ReasonEOF, ReasonFiltered:
	default:
		r.failf("Gap reason %v", reason)
	}
	rs.gaps = append(rs.gaps, rgap{off, n, reason})
	rs.nGap += n
	rs.cursor = off + n
}

func (r *recorder) Late(s *Stream, off int64, data []byte, ts int64) {
	rs := r.get(s, "Late")
	r.note("late %d %d %d %q", s.Dir, off, len(data), data)
	end := off + int64(len(data))
	if end > rs.cursor {
		r.failf("Late [%d,%d) beyond the cursor %d", off, end, rs.cursor)
	}
	for o := off; o < end; o++ {
		in := false
		for _, g := range rs.gaps {
			if g.off <= o && o < g.off+g.n {
				in = true
				break
			}
		}
		if !in {
			r.failf("Late byte %d outside every gap", o)
			break
		}
		if _, ok := rs.bytes[o]; ok {
			r.failf("Late byte %d delivered twice", o)
		}
		rs.bytes[o] = data[o-off]
	}
	rs.late = append(rs.late, [2]int64{off, end})
	rs.nLate += int64(len(data))
}

func (r *recorder) Conflict(s *Stream, c Conflict, ts int64) {
	rs := r.get(s, "Conflict")
	r.note("conflict %d %d %d", s.Dir, c.Offset, c.Length)
	if c.Length <= 0 || c.Offset < 0 {
		r.failf("bad Conflict %+v", c)
	}
	if c.Replace != nil {
		// The policy kept the later copy of delivered bytes: rewrite them.
		if int64(len(c.Replace)) != c.Length {
			r.failf("Conflict %+v: %d replacement bytes", c, len(c.Replace))
		}
		for i, b := range c.Replace {
			o := c.Offset + int64(i)
			if _, ok := rs.bytes[o]; !ok && !r.noBytes {
				r.failf("Conflict replaces byte %d, never delivered", o)
			}
			if !r.noBytes {
				rs.bytes[o] = b
			}
		}
	}
	rs.confl = append(rs.confl, c)
}

func (r *recorder) Close(s *Stream, reason Reason, ts int64) {
	rs := r.get(s, "Close")
	r.note("close %d %v", s.Dir, reason)
	rs.closed = true
	rs.cause = reason
	st := &s.Stats
	if rs.cursor != s.Extent {
		r.failf("Close: data+gaps reach %d, extent %d (dir %d)", rs.cursor, s.Extent, s.Dir)
	}
	if st.Bytes != rs.nData || st.LateBytes != rs.nLate || st.GapBytes != rs.nGap-rs.nLate ||
		st.Gaps != int64(len(rs.gaps)) || st.Conflicts != int64(len(rs.confl)) {
		r.failf("Close: stats %+v, recorded data %d gaps %d (%d calls) late %d conflicts %d",
			*st, rs.nData, rs.nGap, len(rs.gaps), rs.nLate, len(rs.confl))
	}
	if st.Bytes+st.GapBytes+st.LateBytes != s.Extent {
		r.failf("Close: bytes %d + gap bytes %d + late %d != extent %d", st.Bytes, st.GapBytes, st.LateBytes, s.Extent)
	}
}

// allClosed checks that every stream heard was closed.
func (r *recorder) allClosed() {
	r.t.Helper()
	for _, rs := range r.order {
		if !rs.closed {
			r.t.Errorf("conn %d dir %d never closed", rs.s.Conn.Index, rs.s.Dir)
		}
	}
}

// stream returns the record of conn index ci (in order of Open) direction d.
func (r *recorder) stream(ci int, d Direction) *rstream {
	r.t.Helper()
	if ci >= len(r.conns) {
		r.t.Fatalf("no conn %d (have %d)", ci, len(r.conns))
	}
	s := r.conns[ci].Streams[d]
	if rs := r.streams[s]; rs != nil {
		return rs
	}
	return &rstream{s: s, bytes: map[int64]byte{}}
}

// text returns the delivered bytes of [0, n) as a string, '_' for a byte
// never delivered.
func (rs *rstream) text(n int64) string {
	b := make([]byte, n)
	for i := range b {
		c, ok := rs.bytes[int64(i)]
		if !ok {
			c = '_'
		}
		b[i] = c
	}
	return string(b)
}

func (rs *rstream) gapList() string {
	s := ""
	for _, g := range rs.gaps {
		s += fmt.Sprintf("[%d,%d)%v ", g.off, g.off+g.n, g.reason)
	}
	return s
}

// feeder builds segments of one tuple with sequence numbers relative to each
// direction's ISN+1.
type feeder struct {
	a    *Assembler
	key  layers.FlowKey // client -> server
	isn  [2]uint32
	ts   int64
	step int64
	idx  int64
	cp   int32
	ipid uint16
}

func newFeeder(a *Assembler, isnC, isnS uint32) *feeder {
	var k layers.FlowKey
	k.SetAddrs(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80"))
	return &feeder{a: a, key: k, isn: [2]uint32{isnC, isnS}, ts: 1_700_000_000_000_000_000, step: 1000, cp: NoCapturePoint}
}

// seg builds a segment of direction d at stream offset off.
func (f *feeder) seg(d int, off int64, flags uint8, payload string, ackOff int64) Segment {
	f.ipid++
	s := Segment{
		Key:          f.key,
		CapturePoint: f.cp,
		Timestamp:    f.ts,
		Index:        f.idx,
		Seq:          f.isn[d] + 1 + uint32(off),
		Flags:        flags,
		Window:       1000,
		Payload:      []byte(payload),
		Length:       len(payload),
		IPID:         f.ipid,
	}
	if d == 1 {
		s.Key = f.key.Reverse()
	}
	if flags&ACK != 0 {
		s.Ack = f.isn[1-d] + 1 + uint32(ackOff)
	}
	return s
}

// send feeds a segment and advances time and index.
func (f *feeder) send(s Segment) {
	f.a.Assemble(&s)
	f.ts += f.step
	f.idx++
}

func (f *feeder) data(d int, off int64, payload string) {
	f.send(f.seg(d, off, ACK|PSH, payload, 0))
}

// ack sends a pure ACK from d acknowledging off of the other direction.
func (f *feeder) ack(d int, off int64) {
	f.send(f.seg(d, 0, ACK, "", off))
}

func (f *feeder) handshake() {
	f.send(f.seg(0, -1, SYN, "", 0))
	f.send(f.seg(1, -1, SYN|ACK, "", 0))
	f.send(f.seg(0, 0, ACK, "", 0))
}
