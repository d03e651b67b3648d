package fuzz

import (
	"cmp"
	"maps"
	"testing"

	"github.com/reseq/reseq/tcpasm"
	"pgregory.net/rapid"
)

// Property tests: rapid draws a Script (what the endpoints sent and what the
// capture made of it), the model says what a first-wins reassembler must
// deliver, and the real Assembler is held to it. A long run:
//
//	go test ./fuzz -run 'TestAsmProp' -rapid.checks=10000

// scriptGen holds the knobs of one property's scripts.
type scriptGen struct {
	conns      int   // connections on the tuple (port reuse when > 1)
	twoPoints  bool  // two probes with independent loss
	maxLen     int   // bytes per direction at most
	maxSeg     int   // bytes per segment at most (0: 400)
	lossPct    int   // chance in % that a capture point misses a packet
	jitter     int   // most positions a packet arrives late
	rexmitPct  int   // chance in % of a retransmission after each segment
	otherPct   int   // chance in % a retransmission carries other data
	snapPct    int   // chance in % the snaplen cuts a data packet
	synPct     int   // chance in % the handshake was captured
	rstPct     int   // chance in % a connection ends with RST
	sackPct    int   // chance in % an ACK carries SACK blocks
	swapPct    int   // chance in % the sender swaps two segments (receiver out of order)
	doublePct  int   // chance in % a capture point saw a data packet twice (SPAN doubles)
	pausePct   int   // chance in % of a 6 ms capture-time pause before a packet (beyond the reorder allowance)
	wrap       bool  // ISN near 2^32 always
	bigJumps   int   // huge uncaptured, ACKed regions (wrap crossing)
	bigJumpMax int64 // size of such a region at most
}

func drawPct(t *rapid.T, pct int, label string) bool {
	if pct <= 0 {
		return false
	}
	if pct >= 100 {
		return true
	}
	return rapid.IntRange(0, 99).Draw(t, label) < pct
}

func (g *scriptGen) points(t *rapid.T, label string) uint8 {
	var m uint8
	n := 1
	if g.twoPoints {
		n = 2
	}
	for i := 0; i < n; i++ {
		if !drawPct(t, g.lossPct, label) {
			m |= 1 << i
		}
	}
	return m
}

func (g *scriptGen) jit(t *rapid.T) [2]uint8 {
	if g.jitter == 0 {
		return [2]uint8{}
	}
	return [2]uint8{uint8(rapid.IntRange(0, g.jitter).Draw(t, "jitter")), uint8(rapid.IntRange(0, g.jitter).Draw(t, "jitter2"))}
}

func (g *scriptGen) isn(t *rapid.T) uint32 {
	if g.wrap || rapid.IntRange(0, 3).Draw(t, "isnKind") == 0 {
		return ^uint32(0) - uint32(rapid.IntRange(0, 3000).Draw(t, "isnNearWrap"))
	}
	return rapid.Uint32().Draw(t, "isn")
}

// draw builds a Script.
func (g *scriptGen) draw(t *rapid.T) *Script {
	sc := &Script{TwoPoints: g.twoPoints, Start: 1_700_000_000_000_000_000, Step: 1000}
	for ci := 0; ci < g.conns; ci++ {
		last := ci == g.conns-1
		c := ScriptConn{ISN: [2]uint32{g.isn(t), g.isn(t)}}
		if ci > 0 {
			// A new connection on the tuple numbers its bytes outside
			// the one before's (RFC 9293 3.4.1: a new incarnation's ISN
			// must not fall in the old sequence space), else its packets
			// are the old one's to any observer; a SYN with the old
			// one's ISN joins the old one.
			for d, prev := range sc.Conns[ci-1].ISN {
				if dist := int32(c.ISN[d] - prev); dist > -(1<<30) && dist < 1<<30 {
					c.ISN[d] = prev + 1<<31
				}
			}
		}
		if ci > 0 || drawPct(t, g.synPct, "syn") {
			c.Handshake = 1
			if g.twoPoints {
				c.Handshake = uint8(rapid.IntRange(1, 3).Draw(t, "synPoints"))
			}
		}
		var per [2][]ScriptEvent
		for d := 0; d < 2; d++ {
			minLen := 0
			if d == 0 && g.bigJumps > 0 {
				minLen = 1
			}
			n := rapid.IntRange(minLen, g.maxLen).Draw(t, "len")
			var evs []ScriptEvent
			off := int64(0)
			jumps := 0
			for off < int64(n) {
				sz := int64(rapid.IntRange(1, cmp.Or(g.maxSeg, 400)).Draw(t, "seg"))
				sz = min(sz, int64(n)-off)
				ev := ScriptEvent{Dir: d, Kind: EvData, Off: off, N: sz, Snap: -1,
					Points: g.points(t, "lost"), Jitter: g.jit(t), SACK: drawPct(t, g.sackPct, "sack")}
				ev.Double = drawPct(t, g.doublePct, "double")
				if drawPct(t, g.pausePct, "pause") {
					ev.Pause = 6_000_000
				}
				if drawPct(t, g.snapPct, "snap") {
					ev.Snap = rapid.IntRange(0, int(sz)-1).Draw(t, "snaplen")
				}
				evs = append(evs, ev)
				if drawPct(t, g.rexmitPct, "rexmit") {
					// A retransmission of part of what was sent so far: same
					// or other data, aligned or a partial overlap.
					end := off + sz
					a := rapid.Int64Range(max(0, end-1500), end-1).Draw(t, "rexmitOff")
					b := a + rapid.Int64Range(1, min(end-a, 600)).Draw(t, "rexmitLen")
					rx := ScriptEvent{Dir: d, Kind: EvData, Off: a, N: b - a, Snap: -1,
						Points: g.points(t, "rexmitLost"), Jitter: g.jit(t)}
					if drawPct(t, g.otherPct, "other") {
						rx.Variant = uint8(rapid.IntRange(1, 255).Draw(t, "variant"))
					}
					evs = append(evs, rx)
				}
				off += sz
				if jumps < g.bigJumps && d == 0 {
					// Huge region the receiver got and ACKs, the capture never saw.
					// The receiver ACKs it three times (as receivers do: each
					// ACK of a burst, or duplicates): an ACK that far beyond
					// everything the capture saw is believed once two later
					// ones agree with it (tcpasm's suspect rule).
					j := rapid.Int64Range(g.bigJumpMax/2, g.bigJumpMax).Draw(t, "jump")
					evs = append(evs, ScriptEvent{Dir: 0, Kind: EvVirtual, Off: off, N: j})
					for range 3 {
						evs = append(evs, ScriptEvent{Dir: 1, Kind: EvAck, Points: 1 | 2, Snap: -1})
					}
					off += j
					n += int(j)
					jumps++
					if n-int(off) < 50 {
						n = int(off) + 50 // more data after every jump
					}
				}
			}
			if g.swapPct > 0 {
				for i := 0; i+1 < len(evs); i++ {
					if evs[i].Kind == EvData && evs[i+1].Kind == EvData && drawPct(t, g.swapPct, "swap") {
						evs[i], evs[i+1] = evs[i+1], evs[i]
					}
				}
			}
			per[d] = evs
		}
		// Interleave the two directions, with pure ACKs now and then.
		i, j := 0, 0
		for i < len(per[0]) || j < len(per[1]) {
			d := 0
			if i == len(per[0]) || (j < len(per[1]) && rapid.Bool().Draw(t, "dir")) {
				d = 1
			}
			if d == 0 {
				c.Events = append(c.Events, per[0][i])
				i++
			} else {
				c.Events = append(c.Events, per[1][j])
				j++
			}
			if rapid.IntRange(0, 2).Draw(t, "ack") == 0 {
				c.Events = append(c.Events, ScriptEvent{Dir: 1 - d, Kind: EvAck, Snap: -1,
					Points: g.points(t, "ackLost"), Jitter: g.jit(t), SACK: drawPct(t, g.sackPct, "sack")})
			}
		}
		// The end: FINs (maybe half-closed long before), final ACKs, or RST.
		mustEnd := !last
		rst := drawPct(t, g.rstPct, "rst")
		var closePts uint8
		if mustEnd {
			closePts = 1
		}
		if !rst || mustEnd {
			for _, d := range []int{0, 1} {
				if mustEnd || rapid.Bool().Draw(t, "fin") {
					c.Events = append(c.Events, ScriptEvent{Dir: d, Kind: EvFin, Snap: -1,
						Points: g.points(t, "finLost") | closePts, Jitter: g.jit(t)})
				}
			}
			c.Events = append(c.Events,
				ScriptEvent{Dir: 0, Kind: EvAck, Snap: -1, Points: g.points(t, "lastAckLost")},
				ScriptEvent{Dir: 1, Kind: EvAck, Snap: -1, Points: g.points(t, "lastAckLost")})
		}
		if rst {
			c.Events = append(c.Events, ScriptEvent{Dir: rapid.IntRange(0, 1).Draw(t, "rstDir"), Kind: EvRst,
				N: int64(rapid.IntRange(-20, 20).Draw(t, "rstText")), Snap: -1, Points: g.points(t, "rstLost") | closePts})
			if e := &c.Events[len(c.Events)-1]; e.N < 0 {
				e.N = 0
			}
		}
		sc.Conns = append(sc.Conns, c)
	}
	return sc
}

// bigConfig has limits that never bind on these scripts.
func bigConfig() tcpasm.Config {
	return tcpasm.Config{
		MaxHeldPerStream: 1 << 40,
		MaxMemory:        1 << 40,
		ConflictWindow:   1 << 20,
	}
}

func runProp(t *testing.T, g scriptGen, cfg func(*rapid.T) (tcpasm.Config, int64), mode asmCheckMode) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := g.draw(rt)
		m := sc.Model()
		c, capBytes := cfg(rt)
		md := mode // per script: an ambiguous one must not loosen the scripts after it
		if ambiguousCase(m) != "" {
			md = checkLoose
		}
		rec, _ := asmRun(m, c, capBytes)
		if err := asmCheck(m, rec, md); err != nil {
			rt.Fatalf("%v\n%s", err, dumpModel(m))
		}
	})
}

func unlimited(*rapid.T) (tcpasm.Config, int64) { return bigConfig(), 0 }

// lastWins is unlimited with LastWins.
func lastWins(*rapid.T) (tcpasm.Config, int64) {
	c := bigConfig()
	c.Overlap = tcpasm.LastWins
	return c, 0
}

// base knobs: a bit of everything.
var baseGen = scriptGen{conns: 1, maxLen: 3000, lossPct: 15, jitter: 3, rexmitPct: 15, otherPct: 30,
	snapPct: 5, synPct: 50, rstPct: 20, sackPct: 30, swapPct: 10, doublePct: 5}

func TestAsmPropInOrderLossless(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 4000, synPct: 100}
	runProp(t, g, unlimited, checkExact)
}

func TestAsmPropLoss(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 3000, lossPct: 30, synPct: 50}
	runProp(t, g, unlimited, checkExact)
}

func TestAsmPropReorder(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 3000, jitter: 4, synPct: 70, swapPct: 20, sackPct: 50}
	runProp(t, g, unlimited, checkExact)
	// Nothing lost, reordering (ACKs before data included) well within the
	// allowance: no gap is declared at all, not even one filled late.
	rapid.Check(t, func(rt *rapid.T) {
		g := g
		g.synPct = 100
		m := g.draw(rt).Model()
		rec, _ := asmRun(m, tcpasm.Config{}, 0)
		if err := asmCheck(m, rec, checkExact); err != nil {
			rt.Fatalf("%v\n%s", err, dumpModel(m))
		}
		for _, rs := range rec.streams {
			if len(rs.gaps) != 0 {
				rt.Fatalf("%s: false gaps %v (reasons %v) late %v\n%s", streamName(rs.s), rs.gaps, rs.reason, rs.late, dumpModel(m))
			}
		}
	})
}

func TestAsmPropRetransmit(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 2000, lossPct: 10, jitter: 2, rexmitPct: 40, otherPct: 0, synPct: 60}
	runProp(t, g, unlimited, checkExact)
}

func TestAsmPropRetransmitOtherData(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 2000, lossPct: 10, jitter: 2, rexmitPct: 40, otherPct: 70, synPct: 60}
	runProp(t, g, unlimited, checkExact)
}

// Data delayed past the reorder allowance behind the ACK that covers it: the
// acked gap is declared, the data comes as Late, the final gaps are the model's.
func TestAsmPropLate(t *testing.T) {
	g := scriptGen{conns: 1, twoPoints: true, maxLen: 3000, lossPct: 15, jitter: 4, rexmitPct: 10, synPct: 60,
		sackPct: 30, swapPct: 10, pausePct: 15}
	var late, runs int64
	rapid.Check(t, func(rt *rapid.T) {
		m := g.draw(rt).Model()
		mode := checkExact
		if ambiguousCase(m) != "" {
			mode = checkLoose
		}
		c := bigConfig()
		c.ReorderWindow = 5_000_000
		rec, _ := asmRun(m, c, 0)
		if err := asmCheck(m, rec, mode); err != nil {
			rt.Fatalf("%v\n%s", err, dumpModel(m))
		}
		runs++
		for _, rs := range rec.streams {
			late += rs.nLate
		}
	})
	if runs >= 50 && late == 0 {
		t.Errorf("%d scripts, no byte came Late: the property does not reach the Late path", runs)
	}
	t.Logf("%d late bytes over %d scripts", late, runs)
}

func TestAsmPropSnaplen(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 2000, lossPct: 5, jitter: 1, rexmitPct: 20, snapPct: 40, synPct: 60}
	runProp(t, g, unlimited, checkExact)
}

func TestAsmPropTwoCapturePoints(t *testing.T) {
	g := scriptGen{conns: 1, twoPoints: true, maxLen: 3000, lossPct: 35, jitter: 3, rexmitPct: 10, otherPct: 30, synPct: 60, doublePct: 10}
	runProp(t, g, unlimited, checkExact)
}

func TestAsmPropFinRstHalfClose(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 1500, lossPct: 15, jitter: 2, synPct: 60, rstPct: 50}
	runProp(t, g, unlimited, checkExact)
}

func TestAsmPropPortReuse(t *testing.T) {
	g := baseGen
	g.conns = 3
	g.maxLen = 1200
	runProp(t, g, unlimited, checkExact)
}

func TestAsmPropEverything(t *testing.T) {
	g := baseGen
	g.twoPoints = true
	g.conns = 2
	runProp(t, g, unlimited, checkExact)
}

// Streams crossing the sequence wrap several times: > 4 GiB of offsets, nearly
// all of it uncaptured and ACKed by the peer, so nothing big is allocated.
func TestAsmPropWrap(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 1500, lossPct: 10, jitter: 2, rexmitPct: 10, synPct: 50, wrap: true,
		bigJumps: 24, bigJumpMax: 1 << 29}
	runProp(t, g, unlimited, checkExact)
	// The streams these scripts make do cross the wrap several times.
	rapid.Check(t, func(rt *rapid.T) {
		g := g
		g.synPct = 100
		m := g.draw(rt).Model()
		if ext := m.Expect()[[2]int{0, 0}].Extent; ext < 6<<30 {
			rt.Fatalf("client stream extent %d, want > 6 GiB", ext)
		}
	})
}

// Tight per-stream limits: limit gaps may be declared early, but every byte is
// accounted and delivered bytes are the first copies.
func TestAsmPropTightPerStream(t *testing.T) {
	g := baseGen
	g.twoPoints = true
	g.lossPct = 25
	runProp(t, g, func(rt *rapid.T) (tcpasm.Config, int64) {
		c := bigConfig()
		c.MaxHeldPerStream = int64(rapid.IntRange(1, 2000).Draw(rt, "maxHeld"))
		return c, 0
	}, checkLimited)
}

// Tight global memory: streams may be evicted (and picked up again), memory stays
// under the cap, every recorded stream stays consistent.
func TestAsmPropTightMemory(t *testing.T) {
	g := baseGen
	g.lossPct = 25
	g.conns = 2
	runProp(t, g, func(rt *rapid.T) (tcpasm.Config, int64) {
		c := bigConfig()
		c.MaxHeldPerStream = int64(rapid.IntRange(1, 4000).Draw(rt, "maxHeld"))
		c.MaxMemory = int64(rapid.IntRange(1, 3000).Draw(rt, "maxMemory"))
		return c, c.MaxMemory
	}, checkLoose)
}

// Last-wins: with every copy of a byte identical it must reassemble exactly as
// first-wins does; with other data in retransmissions every delivered byte is
// still one a captured copy carried and every byte is accounted.
func TestAsmPropLastWins(t *testing.T) {
	same := baseGen
	same.twoPoints = true
	same.otherPct = 0
	runProp(t, same, lastWins, checkExact)
	other := baseGen
	other.otherPct = 80
	other.rexmitPct = 40
	runProp(t, other, lastWins, checkLoose)
}

// Tiny segments far out of order (up to 60 positions late, with loss,
// retransmissions of other data, snaplen cuts and SPAN doubles): once a stream
// holds many pieces, the held store copies such segments into pages in place
// of a buffer each. It must reassemble exactly as the model says, first-wins
// and last-wins alike, and account for every byte under limits that bind.
func TestAsmPropTinySegments(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 8000, maxSeg: 12, lossPct: 10, jitter: 60, rexmitPct: 15,
		otherPct: 30, snapPct: 5, synPct: 70, rstPct: 10, sackPct: 30, swapPct: 20, doublePct: 5}
	runProp(t, g, unlimited, checkExact)
	same := g
	same.otherPct = 0
	runProp(t, same, lastWins, checkExact)
	other := g
	other.otherPct = 80
	runProp(t, other, lastWins, checkLoose)
	limited := g
	limited.conns = 2
	limited.maxLen = 20000
	runProp(t, limited, func(rt *rapid.T) (tcpasm.Config, int64) {
		c := bigConfig()
		c.MaxHeldPerStream = int64(rapid.IntRange(16<<10, 64<<10).Draw(rt, "maxHeld"))
		c.MaxMemory = int64(rapid.IntRange(16<<10, 96<<10).Draw(rt, "maxMemory"))
		return c, c.MaxMemory
	}, checkLoose)
}

// Small conflict windows that grow as streams do (from 4 KiB, or smaller when
// the window is): a retransmission is compared only while its bytes are still
// retained, and a Conflict only ever covers bytes that really differed.
func TestAsmPropSmallWindow(t *testing.T) {
	g := baseGen
	g.maxLen = 20000
	g.lossPct = 5
	g.rexmitPct, g.otherPct = 30, 40
	runProp(t, g, func(rt *rapid.T) (tcpasm.Config, int64) {
		c := bigConfig()
		c.ConflictWindow = rapid.SampledFrom([]int64{64, 1024, 8192, 16 << 10, 64 << 10}).Draw(rt, "window")
		return c, 0
	}, checkLimited)
}

// Every overlap policy (drawn per script): with every copy of a byte
// identical it reassembles exactly as first-wins does; with other data in
// retransmissions every byte given, after the Conflicts' replacements of
// delivered bytes, is one a captured copy carried, and every byte is
// accounted.
func TestAsmPropPolicies(t *testing.T) {
	anyPolicy := func(rt *rapid.T) (tcpasm.Config, int64) {
		c := bigConfig()
		names := tcpasm.PolicyNames()
		c.Overlap, _ = tcpasm.ParseOverlap(rapid.SampledFrom(names).Draw(rt, "policy"))
		return c, 0
	}
	same := baseGen
	same.twoPoints = true
	same.otherPct = 0
	runProp(t, same, anyPolicy, checkExact)
	other := baseGen
	other.otherPct = 80
	other.rexmitPct = 40
	runProp(t, other, anyPolicy, checkLoose)
}

// A forged RST (an injection in one endpoint's name, numbered at its next
// byte) whose named sender goes on sending: the connection survives it
// (issue 13, item 5). Its assembly is the one without the RST — one
// connection, the same bytes, gaps and close reasons — and the RST is
// counted in RSTSurvived.
func TestAsmPropForgedRST(t *testing.T) {
	g := scriptGen{conns: 1, maxLen: 3000, lossPct: 10, jitter: 2, rexmitPct: 10, synPct: 70, sackPct: 30}
	rapid.Check(t, func(rt *rapid.T) {
		m := g.draw(rt).Model()
		// The data packets after which their sender sends new data again:
		// bytes beyond everything of its direction captured so far, where
		// the forged RST is numbered.
		var at []int
		var next []int64 // per candidate, the RST's offset
		var hi [2]int64
		for i := range m.Packets {
			p := &m.Packets[i]
			if p.Flags&tcpasm.SYN != 0 {
				continue
			}
			hi[p.Dir] = max(hi[p.Dir], p.Off+int64(p.Length))
			if len(p.Payload) == 0 || p.Flags&(tcpasm.FIN|tcpasm.RST) != 0 {
				continue
			}
			for j := i + 1; j < len(m.Packets); j++ {
				q := &m.Packets[j]
				if q.Dir == p.Dir && len(q.Payload) > 0 && q.Flags&(tcpasm.SYN|tcpasm.RST) == 0 && q.Off+int64(q.Length) > hi[p.Dir] {
					at = append(at, i)
					next = append(next, hi[p.Dir])
					break
				}
			}
		}
		if len(at) == 0 {
			rt.Skip("no data packet with new data after it")
		}
		k := rapid.IntRange(0, len(at)-1).Draw(rt, "at")
		p := m.Packets[at[k]]
		rst := ModelPacket{Conn: p.Conn, Dir: p.Dir, Point: p.Point, Tx: 1 << 20, Time: p.Time,
			Off: next[k], Flags: tcpasm.RST | tcpasm.ACK, AckOff: p.AckOff}
		forged := &Model{Conns: m.Conns}
		forged.Packets = append(forged.Packets, m.Packets[:at[k]+1]...)
		forged.Packets = append(forged.Packets, rst)
		forged.Packets = append(forged.Packets, m.Packets[at[k]+1:]...)
		want, _ := asmRun(m, bigConfig(), 0)
		got, a := asmRun(forged, bigConfig(), 0)
		if got.err != nil || want.err != nil {
			rt.Fatalf("recorder: %v / %v\n%s", got.err, want.err, dumpModel(forged))
		}
		if len(got.conns) != len(want.conns) || len(got.streams) != len(want.streams) {
			rt.Fatalf("%d connections (%d streams), without the RST %d (%d)\n%s",
				len(got.conns), len(got.streams), len(want.conns), len(want.streams), dumpModel(forged))
		}
		if n := a.Stats().RSTSurvived; n != 1 {
			rt.Fatalf("RSTSurvived %d, want 1\n%s", n, dumpModel(forged))
		}
		// The holes the RST declared stay declared (reason closed, not
		// the eof or acked they get without it; bytes that fill them are
		// Late), so the gap calls may differ: the bytes delivered (Data
		// and Late) and the extent are compared, which fixes the bytes
		// left in gaps.
		key := func(s *tcpasm.Stream) [2]int { return [2]int{s.Conn.Index, int(s.Dir)} }
		by := map[[2]int]*recStream{}
		for _, gs := range got.streams {
			by[key(gs.s)] = gs
		}
		for _, w := range want.streams {
			gs := by[key(w.s)]
			if gs == nil {
				rt.Fatalf("%s: missing with the RST\n%s", streamName(w.s), dumpModel(forged))
			}
			if gs.s.Extent != w.s.Extent || gs.cause != w.cause || gs.s.RST != w.s.RST ||
				!maps.Equal(gs.bytes, w.bytes) {
				rt.Fatalf("%s: extent %d gaps %v close %v rst %v; without the RST %d %v %v %v\n%s", streamName(gs.s),
					gs.s.Extent, gs.gaps, gs.cause, gs.s.RST, w.s.Extent, w.gaps, w.cause, w.s.RST, dumpModel(forged))
			}
		}
	})
}
