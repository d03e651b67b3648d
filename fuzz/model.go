package fuzz

import (
	"fmt"
	"sort"

	"github.com/reseq/reseq/tcpasm"
)

// This file is the reference model of passive TCP reassembly: the oracle the
// property tests and the fuzz target compare tcpasm against. It is written to be
// obviously right rather than fast: every sequence number is carried as a true
// int64 offset (no unwrapping), and every captured byte is kept in a map.
//
// The model sees what a capture saw: the packet copies in arrival order. For each
// stream direction of each connection it computes, under first-wins:
//
//   - the base: offset 0 is ISN+1 when the direction's SYN was captured, else the
//     offset of the first captured data segment to arrive (mid-stream pickup);
//   - the delivered bytes: at every stream offset >= 0 the byte of the first
//     captured copy, in arrival order;
//   - the extent: one past the highest offset known to carry data — the claimed
//     end of any captured segment, the FIN's offset, the peer's highest ACK or SACK
//     edge (minus the FIN's 1 when it acknowledges a captured FIN);
//   - the gaps: exactly [0, extent) minus the delivered bytes;
//   - the duplicates (later copies of one transmission, seen at any capture point)
//     and the offsets where a later copy carried bytes differing from the first.

// ModelPacket is one captured packet copy, as the model and the driver see it.
type ModelPacket struct {
	Conn  int   // connection on the tuple: 0, 1, ...
	Dir   int   // 0: client -> server, 1: server -> client
	Point int32 // capture point, or tcpasm.NoCapturePoint
	Tx    int   // transmission number: copies of one sent packet share it
	Time  int64 // capture time, ns

	// Off is the true offset of the segment's sequence number in its direction's
	// stream, counted from ISN+1 (the SYN itself is at -1).
	Off     int64
	Flags   uint8
	Length  int    // payload length on the wire
	Payload []byte // the captured payload: a prefix of the sent payload
	// AckOff is the true offset of the acknowledgment number in the peer's stream
	// (from the peer's ISN+1), meaningful when Flags has tcpasm.ACK.
	AckOff int64
	// SACK blocks as true offsets [left, right) in the peer's stream.
	SACK [][2]int64
}

// DataOff is the true offset of the packet's first payload byte: a SYN's
// payload (TCP Fast Open) starts one past its sequence number.
func (p *ModelPacket) DataOff() int64 {
	if p.Flags&tcpasm.SYN != 0 {
		return p.Off + 1
	}
	return p.Off
}

// ModelConn is one connection of a scenario: the initial sequence numbers of both
// directions.
type ModelConn struct {
	ISN [2]uint32
	// FINSent: the direction's endpoint sent a FIN, at true offset FINAt
	// (whether or not the capture saw it). Scripts know; raw captures leave
	// it false.
	FINSent [2]bool
	FINAt   [2]int64
}

// Model is a capture: the connections on one tuple and the packet copies in the
// order the capture saw them.
type Model struct {
	Conns   []ModelConn
	Packets []ModelPacket
}

// ModelRange is the half-open byte range [Off, End).
type ModelRange struct{ Off, End int64 }

// ModelStream is the model's verdict for one direction of one connection. All
// offsets are stream offsets (from the base) unless named otherwise.
type ModelStream struct {
	Conn, Dir int
	HaveBase  bool
	Base      int64 // true offset of stream offset 0
	SYN, FIN  bool
	RST       bool
	FINOff    int64 // true offset of the FIN (valid when FIN)
	// FINAckedFirst: the endpoint sent a FIN, and a peer ACK or SACK edge
	// past it (or the endpoint's own RST, numbered after the FIN) arrived while
	// the capture had not shown the FIN (before it, or the FIN was never
	// captured). The model's extent stops at the FIN (the
	// truth); a reassembler could not know the last acknowledged unit was the
	// FIN and not a byte, so an extent one higher, the FIN's sequence number a
	// gap byte, is tolerated.
	FINAckedFirst bool

	Bytes  map[int64]byte // first captured byte at each stream offset >= 0
	Extent int64

	Packets int64 // packet copies of the direction
	// Retransmitted counts the packets (not copies) whose payload re-carried
	// stream bytes an earlier captured packet carried.
	Retransmitted int64
	// BeforeBase counts captured payload bytes below offset 0 (mid-stream
	// pickup), per packet (copies excluded).
	BeforeBase int64
	Duplicates int64 // copies of a transmission after its first arrival
	// RSTBytes counts the payload bytes of the direction's RSTs (copies
	// excluded): diagnostic, never stream data, never in the extent.
	RSTBytes  int64
	Differing map[int64]bool // stream offsets a later (non-copy) packet carried a different byte for
	// FirstIndex is, for each delivered offset, the arrival index of the packet
	// whose byte won.
	FirstIndex map[int64]int
}

// Gaps returns the expected gaps: [0, Extent) minus the delivered bytes, merged
// and sorted.
func (s *ModelStream) Gaps() []ModelRange {
	return complementRanges(s.Bytes, s.Extent)
}

// complementRanges returns [0, extent) minus the keys of have, as sorted ranges.
func complementRanges(have map[int64]byte, extent int64) []ModelRange {
	offs := make([]int64, 0, len(have))
	for o := range have {
		if o >= 0 && o < extent {
			offs = append(offs, o)
		}
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	var out []ModelRange
	next := int64(0)
	for _, o := range offs {
		if o > next {
			out = append(out, ModelRange{next, o})
		}
		next = o + 1
	}
	if next < extent {
		out = append(out, ModelRange{next, extent})
	}
	return out
}

// Expect runs the model. The result is keyed by [conn, dir]; a direction of a
// connection with at least one captured packet (of either direction) is present.
func (m *Model) Expect() map[[2]int]*ModelStream {
	out := map[[2]int]*ModelStream{}
	get := func(conn, dir int) *ModelStream {
		k := [2]int{conn, dir}
		s := out[k]
		if s == nil {
			s = &ModelStream{Conn: conn, Dir: dir, Bytes: map[int64]byte{},
				Differing: map[int64]bool{}, FirstIndex: map[int64]int{}}
			out[k] = s
		}
		return s
	}
	seenTx := map[int]bool{}
	// The bytes of earlier arrivals, by true offset, per direction: used for
	// the Differing set independently of the base.
	type key struct{ conn, dir int }
	seen := map[key]map[int64]byte{}
	for i := range m.Packets {
		p := &m.Packets[i]
		s := get(p.Conn, p.Dir)
		get(p.Conn, 1-p.Dir)
		s.Packets++
		if seenTx[p.Tx] {
			s.Duplicates++
			continue // an identical copy adds nothing
		}
		seenTx[p.Tx] = true
		if p.Flags&tcpasm.SYN != 0 && !s.HaveBase {
			s.SYN = true
			s.HaveBase = true
			s.Base = p.Off + 1
		}
		if p.Flags&tcpasm.RST != 0 {
			s.RST = true
		}
		if p.Flags&tcpasm.FIN != 0 && !s.FIN {
			s.FIN = true
			s.FINOff = p.DataOff() + int64(p.Length)
		}
		if p.Flags&tcpasm.RST != 0 {
			s.RSTBytes += int64(p.Length)
			continue // a RST's payload is not stream data
		}
		if p.Length > 0 && !s.HaveBase {
			s.HaveBase = true
			s.Base = p.DataOff()
		}
		k := key{p.Conn, p.Dir}
		if seen[k] == nil {
			seen[k] = map[int64]byte{}
		}
		again := false
		for j, b := range p.Payload {
			t := p.DataOff() + int64(j)
			if s.HaveBase && t < s.Base {
				s.BeforeBase++
			}
			if old, ok := seen[k][t]; ok {
				again = again || t >= s.Base
				if old != b && s.HaveBase && t >= s.Base {
					s.Differing[t-s.Base] = true
				}
				continue
			}
			seen[k][t] = b
			if s.HaveBase && t >= s.Base {
				s.Bytes[t-s.Base] = b
				s.FirstIndex[t-s.Base] = i
			}
		}
		if again {
			s.Retransmitted++
		}
	}
	// Extents, from the final base.
	for k, s := range out {
		if !s.HaveBase {
			continue
		}
		peer := out[[2]int{k[0], 1 - k[1]}]
		_ = peer
		ext := int64(0)
		// Nothing past the FIN carries data: a RST after the FIN, or the
		// peer's ACK of the FIN, ends at the FIN's offset. The script's truth
		// says where the FIN was when the capture missed it.
		finKnown, finAt := s.FIN, s.FINOff
		if c := m.Conns[s.Conn]; c.FINSent[s.Dir] {
			finKnown, finAt = true, c.FINAt[s.Dir]
		}
		edge := func(trueOff int64) {
			if finKnown && trueOff > finAt {
				trueOff = finAt
			}
			if o := trueOff - s.Base; o > ext {
				ext = o
			}
		}
		finSeen := false
		for i := range m.Packets {
			p := &m.Packets[i]
			if p.Conn != s.Conn {
				continue
			}
			if p.Dir == s.Dir && p.Flags&tcpasm.FIN != 0 {
				finSeen = true
			}
			if p.Dir == s.Dir && finKnown && !finSeen && p.Flags&tcpasm.RST != 0 && p.DataOff() > finAt {
				s.FINAckedFirst = true // a RST numbered past a FIN not (yet) seen
			}
			if p.Dir != s.Dir && finKnown && !finSeen {
				past := p.Flags&tcpasm.ACK != 0 && p.AckOff > finAt
				for _, b := range p.SACK {
					past = past || b[1] > finAt
				}
				s.FINAckedFirst = s.FINAckedFirst || past
			}
			if p.Dir == s.Dir {
				switch {
				case p.Flags&tcpasm.RST != 0:
					edge(p.DataOff()) // its payload is no stream data
				case p.Length > 0 || p.Flags&tcpasm.FIN != 0:
					edge(p.DataOff() + int64(p.Length))
				}
				continue
			}
			if p.Flags&tcpasm.ACK != 0 {
				edge(p.AckOff)
			}
			for _, b := range p.SACK {
				edge(b[1])
			}
		}
		s.Extent = ext
	}
	return out
}

// keysOf returns the set's offsets, sorted.
func keysOf(m map[int64]bool) []int64 {
	var k []int64
	for o := range m {
		k = append(k, o)
	}
	sort.Slice(k, func(i, j int) bool { return k[i] < k[j] })
	return k
}

// dumpModel formats a model's capture for a failure message.
func dumpModel(m *Model) string {
	var b []byte
	for i, c := range m.Conns {
		b = fmt.Appendf(b, "conn %d ISN %d/%d\n", i, c.ISN[0], c.ISN[1])
	}
	for i := range m.Packets {
		p := &m.Packets[i]
		b = fmt.Appendf(b, "#%d c%d d%d pt%d tx%d off=%d len=%d cap=%d flags=%s", i, p.Conn, p.Dir, p.Point, p.Tx,
			p.Off, p.Length, len(p.Payload), flagString(p.Flags))
		if p.Flags&tcpasm.ACK != 0 {
			b = fmt.Appendf(b, " ack=%d", p.AckOff)
		}
		if len(p.SACK) > 0 {
			b = fmt.Appendf(b, " sack=%v", p.SACK)
		}
		b = append(b, '\n')
	}
	return string(b)
}

func flagString(f uint8) string {
	var b []byte
	for i, c := range "FSRPAUEC" {
		if f&(1<<i) != 0 {
			b = append(b, byte(c))
		}
	}
	return string(b)
}
