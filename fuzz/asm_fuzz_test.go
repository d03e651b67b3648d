package fuzz

import (
	"encoding/binary"
	"testing"

	"github.com/reseq/reseq/tcpasm"
)

// FuzzAssembler decodes a byte string into a segment script and holds the
// Assembler to the model and the stream invariants.
//
// The first byte picks the mode:
//
//	mode 0: a well-formed script (what two endpoints sent, what the capture
//	        kept), unlimited memory: delivered bytes, extent and gaps exactly the
//	        model's.
//	mode 1: two limit bytes (MaxHeldPerStream/16; odd: MaxMemory/64 too), then
//	        a script: every byte accounted, delivered bytes the first copies
//	        (every captured one with no memory cap), memory under the cap.
//	mode 2: raw packets — any flags, sequence numbers, capture points and time
//	        jumps (SYN mid-stream, data after RST, idle timeouts): every stream
//	        self-consistent, every delivered byte one a captured copy carried.
//
// Script ops (mode 0 and 1), one op byte then its arguments: the low nibble is
// the kind, bit 4 the direction, bits 5-6 the capture points that missed it,
// and for packets a jitter byte follows (low 2 bits: arrival delay at point 1,
// bits 2-3 at point 2):
//
//	0 data n        new segment of n+1 bytes at the sender's next offset
//	1 lost n        new segment of n+1 bytes no capture point saw
//	2 rexmit b n    the same bytes again from b*4 back, n+1 long
//	3 other b n v   a retransmission with other data (variant v|1)
//	4 ack           pure ACK;  5 ack with SACK blocks
//	6 fin;  7 rst (ends the connection; ops after it start a new one with a SYN)
//	8 pause p       p*200µs of capture time before the next packet
//	9 trunc n s     new segment of n+1 bytes, snaplen keeps s
//	10 jump k       (k+1) MiB sent, never captured, ACKed by the peer
//	11 datafin n    new segment of n+1 bytes carrying the FIN
func FuzzAssembler(f *testing.F) {
	// Seeds: meaningful scripts.
	f.Add([]byte{0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, // SYN at point 1, ISNs 0
		0x00, 0, 99, 0x14, 0, 50, 0x00, 0, 99, 0x04, 0x06, 0x16, 0x04, 0x14})
	f.Add([]byte{0, 0x00, 0xff, 0xff, 0xff, 0xf0, 0x7f, 0xff, 0xff, 0xff, // mid-stream, ISN near the wrap
		0x00, 0, 200, 0x01, 0, 200, 0x00, 0, 200, 0x14, 0, 0x0a, 0, 3, 0x00, 0, 10, 0x14, 0})
	f.Add([]byte{0, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, // two points, losses at each
		0x22, 0, 100, 0x42, 0, 100, 0x00, 1, 100, 0x14, 0, 0x03, 0, 8, 20, 0x55, 0x05, 0, 0x06, 0x16, 0x14})
	f.Add([]byte{0, 0x01, 9, 9, 9, 9, 1, 1, 1, 1, // snaplen, retransmissions, pause
		0x09, 0, 200, 30, 0x02, 3, 50, 60, 0x01, 0, 10, 0x08, 40, 0x00, 0, 10, 0x14, 0, 0x07})
	f.Add([]byte{0, 0x01, 0, 0, 0, 1, 0, 0, 0, 2, // port reuse: RST then a new connection
		0x00, 0, 30, 0x10, 0, 30, 0x07, 0x00, 0, 30, 0x0b, 0, 5, 0x1b, 0, 5, 0x04})
	f.Add([]byte{1, 16, 8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, // tight per-stream limit
		0x01, 0, 100, 0x00, 0, 255, 0x00, 0, 255, 0x00, 0, 255, 0x14, 0, 0x00, 0, 255})
	f.Add([]byte{1, 40, 9, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, // tight global memory
		0x01, 0, 100, 0x00, 0, 255, 0x00, 0, 255, 0x01, 0, 255, 0x00, 0, 255, 0x14, 0, 0x02, 100, 50, 0})
	f.Add([]byte{2, 4, 4, // raw packets
		0x02, 0, 0, 0, 0, 0, 0, 0, 0x12, 0, 0, 0, 1, 0, 0, 0, 0x10, 0, 10, 20, 20, 0, 0, 1,
		0x18, 0x10, 0x30, 50, 50, 0, 200, 0, 0x04, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || len(in) > 4096 {
			return
		}
		switch in[0] % 3 {
		case 0, 1:
			r := fuzzReader{b: in[1:]}
			cfg := bigConfig()
			mode := checkExact
			var capBytes int64
			if in[0]%3 == 1 {
				// Two limit bytes before the script.
				cfg.MaxHeldPerStream = int64(r.byte())*16 + 1
				mode = checkLimited
				if h := r.byte(); h&1 == 1 {
					cfg.MaxMemory = int64(h)*64 + 1
					capBytes = cfg.MaxMemory
					mode = checkLoose
				}
			}
			m := decodeScript(&r).Model()
			if ambiguousCase(m) != "" {
				mode = checkLoose
			}
			rec, _ := asmRun(m, cfg, capBytes)
			if err := asmCheck(m, rec, mode); err != nil {
				t.Fatalf("%v\n%s", err, dumpModel(m))
			}
			// AssembleBatch, with a small conflict window that must grow,
			// behaves exactly as Assemble.
			wcfg := cfg
			wcfg.ConflictWindow = 1 << (4 + in[len(in)-1]%12)
			batch := 1 + int(in[len(in)-1]>>4)%24
			if _, err := batchDiff(m, wcfg, func() int { return batch }); err != nil {
				t.Fatalf("%v\n%s", err, dumpModel(m))
			}
		case 2:
			m, cfg := decodeRaw(in[1:])
			rec, _ := asmRun(m, cfg, cfg.MaxMemory)
			if err := asmCheck(m, rec, checkLoose); err != nil {
				t.Fatalf("%v\n%s", err, dumpModel(m))
			}
		}
	})
}

// keepAliveQuiet bounds a script's capture time: below tcpasm's quiet spell
// (500 ms) before a one-byte segment counts as a keep-alive.
const keepAliveQuiet = 400e6

type fuzzReader struct{ b []byte }

func (r *fuzzReader) more() bool { return len(r.b) > 0 }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) u32() uint32 {
	var b [4]byte
	for i := range b {
		b[i] = r.byte()
	}
	return binary.BigEndian.Uint32(b[:])
}

// decodeScript turns bytes into a well-formed Script: a header (bit 0: the
// handshake was captured at point 1, bit 1: two capture points, bit 2: the
// handshake also at point 2; then both ISNs) and ops.
func decodeScript(r *fuzzReader) *Script {
	h := r.byte()
	sc := &Script{TwoPoints: h&2 != 0, Start: 1_600_000_000_000_000_000, Step: 1000}
	newConn := func(hs uint8) ScriptConn {
		return ScriptConn{ISN: [2]uint32{r.u32(), r.u32()}, Handshake: hs}
	}
	hs := h & 1
	if h&4 != 0 {
		hs |= 2
	}
	c := newConn(hs)
	var next [2]int64
	var fin [2]bool
	var pause int64
	pauseBudget := int64(keepAliveQuiet)
	ops := 0
	for r.more() && ops < 400 && len(sc.Conns) < 4 {
		ops++
		op := r.byte()
		kind, d := op&0x0f, int(op>>4&1)
		ev := ScriptEvent{Dir: d, Snap: -1, Points: ^(op >> 5) & 3, Pause: pause}
		if kind != 8 && kind != 10 && kind != 7 {
			j := r.byte()
			ev.Jitter = [2]uint8{j & 3, j >> 2 & 3}
		}
		switch kind {
		case 0, 1, 9, 11:
			if fin[d] {
				continue
			}
			n := int64(r.byte()) + 1
			ev.Kind, ev.Off, ev.N = EvData, next[d], n
			if kind == 1 {
				ev.Points = 0
			}
			if kind == 9 {
				ev.Snap = int(r.byte()) % int(n)
			}
			if kind == 11 {
				ev.FIN = true
				fin[d] = true
			}
			next[d] += n
		case 2, 3:
			back := int64(r.byte()) * 4
			n := int64(r.byte()) + 1
			ev.Kind, ev.Off, ev.N = EvData, max(0, next[d]-back), n
			if ev.Off+n > next[d] {
				ev.N = next[d] - ev.Off
			}
			if kind == 3 {
				ev.Variant = r.byte() | 1
			}
			if ev.N <= 0 {
				continue
			}
		case 4, 5:
			ev.Kind, ev.SACK = EvAck, kind == 5
		case 6:
			if fin[d] {
				continue
			}
			ev.Kind = EvFin
			fin[d] = true
		case 7:
			// RST: at point 1 always, so the next connection is a new one.
			ev.Kind, ev.Points = EvRst, ev.Points|1
			c.Events = append(c.Events, ev)
			sc.Conns = append(sc.Conns, c)
			c = newConn(1)
			next, fin = [2]int64{}, [2]bool{}
			pause = 0
			continue
		case 8:
			// Pauses total under keepAliveQuiet: a one-byte retransmission
			// after a quiet spell would be a keep-alive, which the model
			// does not know (TestAsmKeepAlive covers them).
			p := min(int64(r.byte())*200_000, pauseBudget)
			pause += p
			pauseBudget -= p
			continue
		case 10:
			if fin[d] {
				continue
			}
			n := (int64(r.byte()) + 1) << 20
			c.Events = append(c.Events, ScriptEvent{Dir: d, Kind: EvVirtual, Off: next[d], N: n},
				ScriptEvent{Dir: 1 - d, Kind: EvAck, Snap: -1, Points: 3, Pause: pause})
			next[d] += n
			pause = 0
			continue
		default:
			continue
		}
		pause = 0
		c.Events = append(c.Events, ev)
	}
	if len(sc.Conns) < 4 {
		sc.Conns = append(sc.Conns, c)
	}
	return sc
}

// decodeRaw turns bytes into arbitrary packets on one tuple (connection 0 of
// the model, whatever the Assembler makes of them) and tight limits. Header:
// MaxHeldPerStream/64, MaxMemory/64. Then 8 bytes a packet: dir|point|flags
// high bits, flags, offset delta (int16), payload length, captured length, ack
// delta, time step (0xff: 200 s, past the idle timeout).
func decodeRaw(in []byte) (*Model, tcpasm.Config) {
	r := fuzzReader{b: in}
	cfg := tcpasm.Config{
		MaxHeldPerStream: int64(r.byte())*64 + 1,
		MaxMemory:        int64(r.byte())*64 + 1,
		MaxConns:         4,
		ConflictWindow:   4096,
	}
	m := &Model{Conns: []ModelConn{{ISN: [2]uint32{0xfffffc00, 0x7ffffff0}}}}
	var cur [2]int64
	t := int64(1_600_000_000_000_000_000)
	for i := 0; r.more() && i < 300; i++ {
		a := r.byte()
		p := ModelPacket{Dir: int(a & 1), Point: tcpasm.NoCapturePoint, Tx: i}
		if a&2 != 0 {
			p.Point = int32(a>>2&1) + 1
		}
		if a&8 != 0 && i > 0 {
			p.Tx = i - 1 // an identical copy of the previous packet
			prev := m.Packets[len(m.Packets)-1]
			prev.Point = p.Point
			prev.Time = t
			m.Packets = append(m.Packets, prev)
			continue
		}
		p.Flags = r.byte()
		delta := int64(int16(uint16(r.byte())<<8 | uint16(r.byte())))
		p.Off = cur[p.Dir] + delta
		p.Length = int(r.byte())
		capLen := min(int(r.byte()), p.Length)
		p.Payload = make([]byte, capLen)
		for j := range p.Payload {
			p.Payload[j] = ScriptByte(0, p.Dir, p.Off+int64(j), a>>4)
		}
		p.AckOff = cur[1-p.Dir] + int64(int8(r.byte()))*16
		step := r.byte()
		if step == 0xff {
			t += 200_000_000_000
		} else {
			t += int64(step) * 100_000
		}
		p.Time = t
		cur[p.Dir] = max(cur[p.Dir], p.Off+int64(p.Length))
		m.Packets = append(m.Packets, p)
	}
	return m, cfg
}
