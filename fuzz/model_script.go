package fuzz

import (
	"sort"

	"github.com/reseq/reseq/tcpasm"
)

// A Script is what two endpoints sent on one tuple (one or more successive
// connections) and what the capture made of it: which capture points caught each
// packet, how far it was displaced in arrival order, how much of its payload the
// snaplen kept. Script.Model plays it: the endpoints' ACKs are computed from what
// the receiver got (the network delivered everything; only the capture lost
// packets), and the result is the arrival-ordered Model the oracle judges.

// EventKind is what a ScriptEvent sends.
type EventKind uint8

const (
	EvData    EventKind = iota // a data segment [Off, Off+N)
	EvVirtual                  // bytes [Off, Off+N) sent and received, never captured (no packet)
	EvAck                      // a pure ACK
	EvFin                      // a FIN without data
	EvRst                      // a RST (always arrives last in its connection), with N bytes of diagnostic payload
)

// ScriptEvent is one thing an endpoint sent.
type ScriptEvent struct {
	Dir     int
	Kind    EventKind
	Off, N  int64 // EvData, EvVirtual: the stream range (true offsets from ISN+1)
	Variant uint8 // EvData: 0 sends the true bytes, others differ at some offsets
	FIN     bool  // EvData: FIN piggy-backed
	SACK    bool  // the ACK carries the receiver's out-of-order blocks
	Snap    int   // captured payload bytes at most; negative: all
	// Points is the set of capture points (bit i: point i) that captured the
	// packet; Jitter[i] how many positions the copy at point i arrives late.
	Points uint8
	Jitter [2]uint8
	// Pause is extra capture time (ns) before the packet's copies arrive.
	Pause int64
	// Double: each capture point saw the packet twice in a row (a SPAN port
	// doubling it).
	Double bool
}

// ScriptConn is one connection: its ISNs, which capture points caught the
// three-way handshake (0: the capture started after it), and what was sent next.
type ScriptConn struct {
	ISN       [2]uint32
	Handshake uint8
	Events    []ScriptEvent
}

// Script is a whole capture of one tuple.
type Script struct {
	Conns []ScriptConn
	// TwoPoints: the capture has two probes, capture points 1 and 2; otherwise
	// frames carry no capture point.
	TwoPoints bool
	Start     int64 // capture time of the first packet, ns
	Step      int64 // ns between arrivals
}

// ScriptByte is the true byte at a stream offset, or with variant != 0 the byte a
// retransmission with other data carries there (differing at about half the
// offsets).
func ScriptByte(conn, dir int, off int64, variant uint8) byte {
	h := uint64(off)*0x9E3779B97F4A7C15 ^ uint64(conn)<<56 ^ uint64(dir)<<62
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 32
	b := byte(h)
	if variant != 0 && (h>>9^uint64(variant))&1 == 0 {
		b ^= variant
	}
	return b
}

// rangeSet is a small set of disjoint int64 ranges (the receiver's state).
type rangeSet []ModelRange

func (r *rangeSet) add(off, end int64) {
	if end <= off {
		return
	}
	out := (*r)[:0:0]
	for _, x := range *r {
		if x.End < off || x.Off > end {
			out = append(out, x)
			continue
		}
		off, end = min(off, x.Off), max(end, x.End)
	}
	out = append(out, ModelRange{off, end})
	sort.Slice(out, func(i, j int) bool { return out[i].Off < out[j].Off })
	*r = out
}

// next returns the end of the range starting at or containing from (the
// cumulative ACK point), or from when none does.
func (r rangeSet) next(from int64) int64 {
	for _, x := range r {
		if x.Off <= from && from < x.End {
			return x.End
		}
	}
	return from
}

type scriptArrival struct {
	key   int64 // sort key: send position + jitter
	pos   int   // send position, for a stable order
	pause int64
	pkt   ModelPacket
}

// Model plays the script and returns the arrival-ordered capture.
func (sc *Script) Model() *Model {
	m := &Model{}
	var arr []scriptArrival
	tx := 0
	base := int64(0)
	for ci := range sc.Conns {
		c := &sc.Conns[ci]
		m.Conns = append(m.Conns, ModelConn{ISN: c.ISN})
		var rcv [2]rangeSet // what the receiver of each direction's stream holds
		var sndNxt [2]int64
		var finSent [2]bool
		pos := 0
		emit := func(ev *ScriptEvent, p ModelPacket, pinned bool) {
			p.Conn, p.Tx = ci, tx
			tx++
			for pt := 0; pt < 2; pt++ {
				if ev.Points&(1<<pt) == 0 || (!sc.TwoPoints && pt == 1) {
					continue
				}
				q := p
				q.Point = tcpasm.NoCapturePoint
				if sc.TwoPoints {
					q.Point = int32(pt + 1)
				}
				k := base + int64(pos) + int64(ev.Jitter[pt])
				if pinned {
					k = base + 1<<40 + int64(pos)
				}
				arr = append(arr, scriptArrival{key: k, pos: pos*2 + pt, pause: ev.Pause, pkt: q})
				if ev.Double {
					arr = append(arr, scriptArrival{key: k, pos: pos*2 + pt, pkt: q})
				}
			}
			pos++
		}
		ackOf := func(dir int) (int64, [][2]int64) {
			peer := 1 - dir
			nxt := rcv[peer].next(-1)
			var sack [][2]int64
			for _, x := range rcv[peer] {
				if x.Off > nxt && len(sack) < 3 {
					sack = append(sack, [2]int64{x.Off, x.End})
				}
			}
			return nxt, sack
		}
		// The three-way handshake.
		hs := ScriptEvent{Points: c.Handshake}
		rcv[0].add(-1, 0)
		emit(&hs, ModelPacket{Dir: 0, Off: -1, Flags: tcpasm.SYN}, false)
		rcv[1].add(-1, 0)
		emit(&hs, ModelPacket{Dir: 1, Off: -1, Flags: tcpasm.SYN | tcpasm.ACK, AckOff: 0}, false)
		emit(&hs, ModelPacket{Dir: 0, Off: 0, Flags: tcpasm.ACK, AckOff: 0}, false)
		for ei := range c.Events {
			ev := &c.Events[ei]
			d := ev.Dir & 1
			ack, sack := ackOf(d)
			if !ev.SACK {
				sack = nil
			}
			p := ModelPacket{Dir: d, Flags: tcpasm.ACK, AckOff: ack, SACK: sack}
			switch ev.Kind {
			case EvVirtual:
				rcv[d].add(ev.Off, ev.Off+ev.N)
				sndNxt[d] = max(sndNxt[d], ev.Off+ev.N)
				continue
			case EvData:
				p.Off, p.Length = ev.Off, int(ev.N)
				p.Flags |= tcpasm.PSH
				keep := ev.N
				if ev.Snap >= 0 && int64(ev.Snap) < keep {
					keep = int64(ev.Snap)
				}
				p.Payload = make([]byte, keep)
				for i := range p.Payload {
					p.Payload[i] = ScriptByte(ci, d, ev.Off+int64(i), ev.Variant)
				}
				rcv[d].add(ev.Off, ev.Off+ev.N)
				sndNxt[d] = max(sndNxt[d], ev.Off+ev.N)
				if ev.FIN && !finSent[d] {
					p.Flags |= tcpasm.FIN
					finSent[d] = true
					rcv[d].add(ev.Off+ev.N, ev.Off+ev.N+1)
					m.Conns[ci].FINSent[d], m.Conns[ci].FINAt[d] = true, ev.Off+ev.N
				}
				emit(ev, p, false)
			case EvAck:
				p.Off = sndNxt[d]
				if finSent[d] {
					p.Off++
				}
				emit(ev, p, false)
			case EvFin:
				if finSent[d] {
					continue
				}
				p.Off = sndNxt[d]
				p.Flags |= tcpasm.FIN
				finSent[d] = true
				rcv[d].add(p.Off, p.Off+1)
				m.Conns[ci].FINSent[d], m.Conns[ci].FINAt[d] = true, p.Off
				emit(ev, p, false)
			case EvRst:
				p.Off = sndNxt[d]
				if finSent[d] {
					p.Off++
				}
				p.Flags = tcpasm.RST | tcpasm.ACK
				p.SACK = nil
				// N: diagnostic text on the RST (RFC 9293, 3.5.3), no
				// stream data.
				p.Length = int(ev.N)
				p.Payload = make([]byte, ev.N)
				for i := range p.Payload {
					p.Payload[i] = 'a' + byte(i%26)
				}
				emit(ev, p, true)
			}
		}
		base += 1 << 41
	}
	sort.SliceStable(arr, func(i, j int) bool {
		if arr[i].key != arr[j].key {
			return arr[i].key < arr[j].key
		}
		return arr[i].pos < arr[j].pos
	})
	step := sc.Step
	if step <= 0 {
		step = 1000
	}
	t := sc.Start
	lastConn := 0
	for _, a := range arr {
		if a.pkt.Conn != lastConn {
			t += 1_000_000 // a millisecond between connections on the tuple
			lastConn = a.pkt.Conn
		}
		t += max(a.pause, 0)
		a.pkt.Time = t
		t += step
		m.Packets = append(m.Packets, a.pkt)
	}
	return m
}
