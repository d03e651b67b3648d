package fuzz

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/reseq/reseq/tcpasm"
	"pgregory.net/rapid"
)

// Properties of issue 13: sequence laps of sparse captures, clock leaps and
// the window plausibility rule.

// Sparse captures of streams of many laps: between the captured segments,
// 24 regions of 1 to 2 GiB that only the receiver's ACKs tell of, each
// step between consecutive evidence below 2^31, more than 5 laps in all.
// Every offset stays exact across every wrap: the model's bytes, extent and
// gaps.
func TestAsmPropSparseLaps(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 800, lossPct: 10, jitter: 2, rexmitPct: 10, synPct: 50, wrap: true,
		bigJumps: 24, bigJumpMax: 1<<31 - 1<<16}
	runProp(t, g, unlimited, checkExact)
	rapid.Check(t, func(rt *rapid.T) {
		g := g
		g.synPct = 100
		m := g.draw(rt).Model()
		if ext := m.Expect()[[2]int{0, 0}].Extent; ext < 5*(1<<32) {
			rt.Fatalf("client stream extent %d, want more than 5 laps", ext)
		}
	})
}

// Timestamps that leap far ahead of the capture clock or far behind it
// (a packet now and then after the first, hours to decades away, its
// neighbours on time)
// neither expire nor split connections: with the default idle timeout and
// linger the result is the model's, as without the leaps.
func TestAsmPropClockLeaps(t *testing.T) {
	g := baseGen
	g.conns = 2
	rapid.Check(t, func(rt *rapid.T) {
		m := g.draw(rt).Model()
		// A copy seen twice at one capture point is a SPAN double only
		// within tcpasm.Config.DupWindow of the other: such copies keep
		// their times (a leapt one is a retransmission, as it may be).
		copies := map[[2]int]int{}
		for _, p := range m.Packets {
			copies[[2]int{p.Tx, int(p.Point)}]++
		}
		leaps, prev := 0, false
		var leapt [][2]int64 // packet, leap
		for i := range m.Packets {
			// The first timestamp sets the clock (tcpasm.Clock): it is
			// on time here. (A capture whose first timestamp is far off
			// runs on that clock; another as far off within the hour
			// after it is believed, and may expire connections.)
			if i == 0 || copies[[2]int{m.Packets[i].Tx, int(m.Packets[i].Point)}] > 1 {
				prev = false
				continue
			}
			// Never two in a row: a second timestamp as far ahead as the
			// one before confirms it (a pause of the capture, see
			// tcpasm.Clock), which may rightly expire connections.
			if prev || !drawPct(rt, 8, "leap") {
				prev = false
				continue
			}
			prev = true
			d := rapid.Int64Range(2*3600e9, 50*365*24*3600e9).Draw(rt, "leapBy")
			if rapid.Bool().Draw(rt, "back") {
				d = -d
			}
			m.Packets[i].Time += d
			leaps++
			leapt = append(leapt, [2]int64{int64(i), d})
		}
		mode := checkExact
		if ambiguousCase(m) != "" {
			mode = checkLoose
		}
		c := bigConfig()
		c.IdleTimeout, c.Linger = tcpasm.DefaultIdleTimeout, tcpasm.DefaultLinger
		rec, _ := asmRun(m, c, 0)
		if err := asmCheck(m, rec, mode); err != nil {
			rt.Fatalf("%d leaps (packet, ns) %v: %v\n%s", leaps, leapt, err, dumpModel(m))
		}
		if len(rec.conns) != len(m.Conns) {
			rt.Fatalf("%d leaps (packet, ns) %v: %d connections opened, the model has %d\n%s", leaps, leapt, len(rec.conns), len(m.Conns), dumpModel(m))
		}
	})
}

// The window rule: a data segment claiming bytes far beyond everything
// known of its stream (8 MiB to 2 GiB beyond its start: out of reach
// whatever the window) that nothing corroborates is dropped and counted,
// and the streams are exactly what they are without it; followed by the
// segment that continues it, it is believed, and the streams are the
// model's with both.
func TestAsmPropWindowRule(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 2000, lossPct: 10, jitter: 2, rexmitPct: 10, otherPct: 20, synPct: 50,
		sackPct: 30, swapPct: 10}
	rapid.Check(t, func(rt *rapid.T) {
		m := g.draw(rt).Model()
		d := rapid.IntRange(0, 1).Draw(rt, "dir")
		// After the direction's first data packet (its base is known),
		// before anything of it with FIN or RST (it is open).
		at, tx, fin := -1, 0, false
		for i, p := range m.Packets {
			tx = max(tx, p.Tx+1)
			if p.Dir == d && p.Flags&(tcpasm.FIN|tcpasm.RST) != 0 || p.Flags&tcpasm.RST != 0 {
				fin = true
			}
			if at < 0 && !fin && p.Dir == d && len(p.Payload) > 0 && p.Flags&tcpasm.SYN == 0 {
				at = i
			}
		}
		if at < 0 {
			return
		}
		fin = fin || m.Conns[m.Packets[at].Conn].FINSent[d] // the script knows of a FIN the capture lost
		q := m.Packets[at]
		far := q.Off + rapid.Int64Range(8<<20, 1<<31-1<<20).Draw(rt, "far")
		n := rapid.IntRange(1, 300).Draw(rt, "n")
		stray := func(off int64, k int) ModelPacket {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(off) + byte(i)*7 + 1
			}
			return ModelPacket{Conn: q.Conn, Dir: d, Point: q.Point, Tx: tx + k, Time: q.Time, Off: off,
				Flags: tcpasm.PSH, Length: n, Payload: b}
		}
		with := func(ps ...ModelPacket) *Model {
			w := &Model{Conns: m.Conns}
			w.Packets = slices.Concat(m.Packets[:at+1], ps, m.Packets[at+1:])
			return w
		}
		mode := checkExact
		if ambiguousCase(m) != "" {
			mode = checkLoose
		}
		cfg := bigConfig()
		base, _ := asmRun(m, cfg, 0)
		if err := asmCheck(m, base, mode); err != nil {
			rt.Fatalf("%v\n%s", err, dumpModel(m))
		}
		lone := with(stray(far, 0))
		got, _ := asmRun(lone, cfg, 0)
		if err := sameStreams(base, got, d); err != nil {
			rt.Fatalf("one far segment at %d (+%d bytes): %v\n%s", far, n, err, dumpModel(lone))
		}
		if fin {
			return // the pair would claim bytes beyond the direction's FIN or RST
		}
		pair := with(stray(far, 0), stray(far+int64(n), 1))
		if ambiguousCase(pair) != "" {
			mode = checkLoose
		}
		got, _ = asmRun(pair, cfg, 0)
		if err := asmCheck(pair, got, mode); err != nil {
			rt.Fatalf("far segment at %d (+%d bytes) and its continuation: %v\n%s", far, n, err, dumpModel(pair))
		}
		for _, rs := range got.streams {
			if streamDir(rs.s) == d && rs.s.Conn.Index == q.Conn && (rs.s.Extent <= far-q.Off || rs.s.Stats.OutOfWindow != 0) {
				rt.Fatalf("corroborated far segment: extent %d, out of window %d", rs.s.Extent, rs.s.Stats.OutOfWindow)
			}
		}
	})
}

// streamDir is the direction of s in the scripts' tuple.
func streamDir(s *tcpasm.Stream) int {
	if streamSrc(s) == asmClientKey {
		return 0
	}
	return 1
}

// sameStreams reports how b's streams differ from a's, b having been fed one
// more packet, out of window, in direction d: the same bytes, extents, gaps
// and counters but one packet and one out-of-window more.
func sameStreams(a, b *asmRecorder, d int) error {
	if a.err != nil || b.err != nil {
		return fmt.Errorf("recorder: %v / %v", a.err, b.err)
	}
	if len(a.streams) != len(b.streams) {
		return fmt.Errorf("%d streams, %d without the far segment", len(b.streams), len(a.streams))
	}
	for i, x := range a.streams {
		y := b.streams[i]
		st := y.s.Stats
		if streamDir(y.s) == d && y.s.Conn.Index == 0 {
			st.Packets--
			st.OutOfWindow--
		}
		if st != x.s.Stats || y.s.Extent != x.s.Extent || !slices.Equal(y.gaps, x.gaps) || !maps.Equal(y.bytes, x.bytes) {
			return fmt.Errorf("%s: extent %d stats %+v gaps %v; without it extent %d stats %+v gaps %v",
				streamName(y.s), y.s.Extent, y.s.Stats, y.gaps, x.s.Extent, x.s.Stats, x.gaps)
		}
	}
	return nil
}
