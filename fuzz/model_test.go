package fuzz

import (
	"reflect"
	"testing"
)

// The oracle is tested too: hand-worked scripts with their expected verdicts.

func scData(dir int, off, n int64, pts uint8) ScriptEvent {
	return ScriptEvent{Dir: dir, Kind: EvData, Off: off, N: n, Snap: -1, Points: pts}
}

func scAck(dir int, pts uint8) ScriptEvent {
	return ScriptEvent{Dir: dir, Kind: EvAck, Snap: -1, Points: pts}
}

func TestModelVerdicts(t *testing.T) {
	type want struct {
		base    int64
		extent  int64
		gaps    []ModelRange
		bytes   int
		dups    int64
		differ  []int64
		fin     bool
		packets int64
		finAck  bool // FINAckedFirst
	}
	cases := []struct {
		name string
		sc   Script
		dir  int
		want want
	}{
		{
			name: "hole ACKed by the peer",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{1000, 5000}, Handshake: 1, Events: []ScriptEvent{
				scData(0, 0, 100, 1), scData(0, 100, 100, 0), scData(0, 200, 100, 1), scAck(1, 1),
			}}}},
			want: want{base: 0, extent: 300, gaps: []ModelRange{{100, 200}}, bytes: 200, packets: 4},
		},
		{
			name: "trailing bytes only the ACK shows",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{1000, 5000}, Handshake: 1, Events: []ScriptEvent{
				scData(0, 0, 100, 1), scData(0, 100, 50, 0), scAck(1, 1),
			}}}},
			want: want{extent: 150, gaps: []ModelRange{{100, 150}}, bytes: 100, packets: 3},
		},
		{
			name: "mid-stream: base is the first data to arrive, lower bytes are before it",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{^uint32(0) - 10, 7}, Handshake: 0, Events: []ScriptEvent{
				scData(0, 0, 100, 0), {Dir: 0, Kind: EvData, Off: 100, N: 100, Snap: -1, Points: 1},
				{Dir: 0, Kind: EvData, Off: 50, N: 100, Snap: -1, Points: 1, Jitter: [2]uint8{2}},
				scAck(1, 1),
			}}}},
			// The ACK (200) arrives before the retransmission; the base is 100.
			want: want{base: 100, extent: 100, bytes: 100, packets: 2},
		},
		{
			name: "retransmission with other data: first copy wins, differences noted",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{1, 2}, Handshake: 1, Events: []ScriptEvent{
				scData(0, 0, 40, 1), {Dir: 0, Kind: EvData, Off: 20, N: 20, Snap: -1, Points: 1, Variant: 0xff},
			}}}},
			want: want{extent: 40, bytes: 40, packets: 4, differ: differingOffsets(0, 20, 40, 0xff)},
		},
		{
			name: "two capture points fill each other's loss; copies are duplicates",
			sc: Script{TwoPoints: true, Conns: []ScriptConn{{ISN: [2]uint32{1, 2}, Handshake: 3, Events: []ScriptEvent{
				scData(0, 0, 10, 1), scData(0, 10, 10, 2), scData(0, 20, 10, 3), scData(0, 30, 10, 0), scAck(1, 3),
			}}}},
			// SYN and the third ACK at both points: 2 dups; the segment at both: 1.
			want: want{extent: 40, gaps: []ModelRange{{30, 40}}, bytes: 30, dups: 3, packets: 8},
		},
		{
			name: "snaplen cuts a segment",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{1, 2}, Handshake: 1, Events: []ScriptEvent{
				{Dir: 0, Kind: EvData, Off: 0, N: 100, Snap: 30, Points: 1}, scData(0, 100, 10, 1),
			}}}},
			want: want{extent: 110, gaps: []ModelRange{{30, 100}}, bytes: 40, packets: 4},
		},
		{
			name: "FIN ACKed: the FIN's own sequence number is not a byte",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{1, 2}, Handshake: 1, Events: []ScriptEvent{
				scData(0, 0, 10, 1), {Dir: 0, Kind: EvFin, Snap: -1, Points: 1}, scAck(1, 1),
			}}}},
			want: want{extent: 10, bytes: 10, fin: true, packets: 4},
		},
		{
			name: "FIN lost: its ACK stops at the FIN (truth), the phantom byte tolerated",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{1, 2}, Handshake: 1, Events: []ScriptEvent{
				scData(0, 0, 10, 1), {Dir: 0, Kind: EvFin, Snap: -1, Points: 0}, scAck(1, 1),
			}}}},
			want: want{extent: 10, bytes: 10, packets: 3, finAck: true},
		},
		{
			name: "ACK of the FIN arrives before the FIN",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{1, 2}, Handshake: 1, Events: []ScriptEvent{
				scData(0, 0, 10, 1), {Dir: 0, Kind: EvFin, Snap: -1, Points: 1, Jitter: [2]uint8{2}}, scAck(1, 1),
			}}}},
			want: want{extent: 10, bytes: 10, packets: 4, fin: true, finAck: true},
		},
		{
			name: "lost last byte, no FIN from its sender: the ACK edge is a byte",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{1, 2}, Handshake: 1, Events: []ScriptEvent{
				scData(0, 0, 10, 1), scData(0, 10, 1, 0), {Dir: 1, Kind: EvFin, Snap: -1, Points: 1},
			}}}},
			want: want{extent: 11, gaps: []ModelRange{{10, 11}}, bytes: 10, packets: 3},
		},
		{
			name: "huge ACKed region across the wrap",
			sc: Script{Conns: []ScriptConn{{ISN: [2]uint32{^uint32(0) - 5, 2}, Handshake: 1, Events: []ScriptEvent{
				scData(0, 0, 10, 1), {Dir: 0, Kind: EvVirtual, Off: 10, N: 5 << 30}, scAck(1, 1), scData(0, 10+5<<30, 10, 1), scAck(1, 1),
			}}}},
			want: want{extent: 20 + 5<<30, gaps: []ModelRange{{10, 10 + 5<<30}}, bytes: 20, packets: 4},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.sc.Model()
			got := m.Expect()[[2]int{0, tc.dir}]
			if got == nil {
				t.Fatalf("no stream")
			}
			w := tc.want
			if got.Base != w.base || got.Extent != w.extent || len(got.Bytes) != w.bytes ||
				got.Duplicates != w.dups || got.FIN != w.fin || got.Packets != w.packets || got.FINAckedFirst != w.finAck {
				t.Errorf("base %d extent %d bytes %d dups %d fin %v packets %d finAck %v; want %+v\n%s",
					got.Base, got.Extent, len(got.Bytes), got.Duplicates, got.FIN, got.Packets, got.FINAckedFirst, w, dumpModel(m))
			}
			if g := got.Gaps(); !reflect.DeepEqual(g, w.gaps) {
				t.Errorf("gaps %v, want %v", g, w.gaps)
			}
			if d := keysOf(got.Differing); !reflect.DeepEqual(d, w.differ) {
				t.Errorf("differing %v, want %v", d, w.differ)
			}
			for o, b := range got.Bytes {
				if b != ScriptByte(0, tc.dir, got.Base+o, 0) {
					t.Fatalf("byte %d is %#x, not the true byte", o, b)
				}
			}
		})
	}
}

// differingOffsets lists the offsets of [from, to) where the variant's bytes
// differ from the true ones.
func differingOffsets(conn int, from, to int64, variant uint8) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		if ScriptByte(conn, 0, o, variant) != ScriptByte(conn, 0, o, 0) {
			out = append(out, o)
		}
	}
	return out
}

func TestScriptAcks(t *testing.T) {
	// The receiver ACKs its contiguous prefix and SACKs what lies above.
	sc := Script{Conns: []ScriptConn{{ISN: [2]uint32{1, 2}, Handshake: 1, Events: []ScriptEvent{
		scData(0, 100, 50, 1), {Dir: 1, Kind: EvAck, Snap: -1, Points: 1, SACK: true},
		scData(0, 0, 100, 1), scAck(1, 1),
	}}}}
	m := sc.Model()
	var acks [][2]int64
	var sacks [][][2]int64
	for _, p := range m.Packets {
		if p.Dir == 1 && p.Length == 0 && p.Flags&0x10 != 0 && p.Off == 0 {
			acks = append(acks, [2]int64{p.Off, p.AckOff})
			sacks = append(sacks, p.SACK)
		}
	}
	if !reflect.DeepEqual(acks, [][2]int64{{0, 0}, {0, 150}}) {
		t.Fatalf("acks %v", acks)
	}
	if !reflect.DeepEqual(sacks[0], [][2]int64{{100, 150}}) || sacks[1] != nil {
		t.Fatalf("sacks %v", sacks)
	}
}
