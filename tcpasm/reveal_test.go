package tcpasm

import (
	"math/rand/v2"
	"testing"
)

// keptRecorder passes a recorder the events of connections that are not
// Filtered, and opens a connection for it when it is revealed: what a caller
// that filters does (reseq's keptOnly).
type keptRecorder struct{ r *recorder }

func (k keptRecorder) Open(c *Conn) {
	if !c.Filtered {
		k.r.Open(c)
	}
}
func (k keptRecorder) Reveal(c *Conn) { k.r.Open(c) }
func (k keptRecorder) Data(s *Stream, off int64, d []byte, ts int64) {
	if !s.Conn.Filtered {
		k.r.Data(s, off, d, ts)
	}
}
func (k keptRecorder) Gap(s *Stream, off, n int64, why Reason, ts int64) {
	if !s.Conn.Filtered {
		k.r.Gap(s, off, n, why, ts)
	}
}
func (k keptRecorder) Late(s *Stream, off int64, d []byte, ts int64) {
	if !s.Conn.Filtered {
		k.r.Late(s, off, d, ts)
	}
}
func (k keptRecorder) Conflict(s *Stream, c Conflict, ts int64) {
	if !s.Conn.Filtered {
		k.r.Conflict(s, c, ts)
	}
}
func (k keptRecorder) Close(s *Stream, why Reason, ts int64) {
	if !s.Conn.Filtered {
		k.r.Close(s, why, ts)
	}
}

// TestReveal: a connection opened by a Filtered segment is revealed by its
// first segment that is not: the handler gets it from then on, what was
// assembled before as one gap of reason filtered, and counters and first
// times that start at the revealing segment; its number stays. Filtered
// segments after the reveal are left out.
func TestReveal(t *testing.T) {
	type step struct {
		filtered bool
		dir      int
		off      int64
		flags    uint8
		payload  string
		ack      int64
	}
	hs := []step{{true, 0, -1, SYN, "", 0}, {true, 1, -1, SYN | ACK, "", 0}, {true, 0, 0, ACK, "", 0}}
	tests := []struct {
		name      string
		steps     []step
		opened    bool
		text      [2]string // each direction's bytes, '_' where none was delivered
		gaps      [2]string
		packets   [2]int64
		revealAt  int // index of the revealing step
		wantFirst bool
	}{
		{
			name: "mid-stream",
			steps: append(hs[:3:3], step{true, 0, 0, ACK | PSH, "hello ", 0}, step{true, 1, 0, ACK, "", 6},
				step{false, 0, 6, ACK | PSH, "world", 0}, step{false, 1, 0, ACK | PSH, "ok", 11},
				step{true, 0, 11, ACK | PSH, "!!", 2}, // after the reveal: left out
				step{false, 0, 11, FIN | ACK, "", 2}, step{false, 1, 2, FIN | ACK, "", 12}, step{false, 0, 12, ACK, "", 3}),
			opened: true, text: [2]string{"______world", "ok"}, gaps: [2]string{"[0,6)filtered ", ""}, packets: [2]int64{3, 2}, revealAt: 5,
		},
		{
			name: "server finished before the range",
			steps: append(hs[:3:3], step{true, 1, 0, ACK | PSH, "abc", 0}, step{true, 1, 3, FIN | ACK, "", 0}, step{true, 0, 0, ACK, "", 4},
				step{false, 0, 0, ACK | PSH, "late question", 4}, step{false, 0, 13, FIN | ACK, "", 4}, step{false, 1, 4, ACK, "", 14}),
			opened: true, text: [2]string{"late question", "___"}, gaps: [2]string{"", "[0,3)filtered "}, packets: [2]int64{2, 1}, revealAt: 6,
		},
		{
			name: "held above a hole at the reveal",
			steps: append(hs[:3:3], step{true, 0, 3, ACK | PSH, "def", 0},
				step{false, 0, 0, ACK | PSH, "abc", 0}, step{false, 1, 0, ACK, "", 6}, step{false, 0, 6, FIN | ACK, "", 0}, step{false, 1, 0, FIN | ACK, "", 7}),
			opened: true, text: [2]string{"abcdef", ""}, gaps: [2]string{"", ""}, packets: [2]int64{2, 2}, revealAt: 4,
		},
		{
			name:  "filtered throughout",
			steps: append(hs[:3:3], step{true, 0, 0, ACK | PSH, "secret", 0}, step{true, 0, 6, FIN | ACK, "", 0}, step{true, 1, 0, FIN | ACK, "", 7}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t)
			a := New(Config{}, keptRecorder{rec})
			f := newFeeder(a, 1000, 5000)
			var revealTS int64
			for i, st := range tc.steps {
				s := f.seg(st.dir, st.off, st.flags, st.payload, st.ack)
				s.Filtered = st.filtered
				if i == tc.revealAt {
					revealTS = s.Timestamp
				}
				f.send(s)
			}
			a.Close()
			if !tc.opened {
				if len(rec.conns) != 0 {
					t.Fatalf("a connection filtered throughout was opened")
				}
				return
			}
			if len(rec.conns) != 1 {
				t.Fatalf("%d connections opened, want 1", len(rec.conns))
			}
			rec.allClosed()
			c := rec.conns[0]
			if c.Filtered || c.Seq != 0 || c.FirstIndex != 0 || c.First != revealTS {
				t.Errorf("conn: filtered %v seq %d first index %d first %d, want revealed, 0, 0, %d", c.Filtered, c.Seq, c.FirstIndex, c.First, revealTS)
			}
			for d := range 2 {
				rs := rec.stream(0, Direction(d))
				if got := rs.text(int64(len(tc.text[d]))); got != tc.text[d] {
					t.Errorf("dir %d: %q, want %q", d, got, tc.text[d])
				}
				if got := rs.gapList(); got != tc.gaps[d] {
					t.Errorf("dir %d: gaps %s, want %s", d, got, tc.gaps[d])
				}
				if st := c.Streams[d]; st.Stats.Packets != tc.packets[d] || st.Stats.Packets > 0 && st.First < revealTS {
					t.Errorf("dir %d: %d packets from %d, want %d from %d on", d, st.Stats.Packets, st.First, tc.packets[d], revealTS)
				}
			}
		})
	}
}

// TestRevealRandom: random conversations (reordered, duplicated, lost
// segments) whose packets a filter refuses at random — a prefix, as
// --since does, or any packet, as a per-packet filter does — keep the
// Handler's contract (the recorder's checks: Open first, data and gaps
// tiling each stream in order, the accounting at Close), and every byte
// delivered is the byte sent at that offset (from the base the assembler
// took).
func TestRevealRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 14))
	for round := range 300 {
		rec := newRecorder(t)
		a := New(Config{}, keptRecorder{rec})
		f := newFeeder(a, rng.Uint32(), rng.Uint32())
		var sent [2][]byte
		for d := range sent {
			sent[d] = make([]byte, 1+rng.IntN(3000))
			for i := range sent[d] {
				sent[d][i] = byte('a' + rng.IntN(26))
			}
		}
		segs := []Segment{f.seg(0, -1, SYN, "", 0), f.seg(1, -1, SYN|ACK, "", 0)}
		for d := range sent {
			for off := 0; off < len(sent[d]); {
				n := min(1+rng.IntN(400), len(sent[d])-off)
				segs = append(segs, f.seg(d, int64(off), ACK|PSH, string(sent[d][off:off+n]), int64(len(sent[1-d]))))
				off += n
			}
		}
		segs = append(segs, f.seg(0, int64(len(sent[0])), FIN|ACK, "", int64(len(sent[1]))), f.seg(1, int64(len(sent[1])), FIN|ACK, "", int64(len(sent[0]))))
		// Reorder a little, drop and duplicate a few.
		for i := 2; i < len(segs); i++ {
			if j := i + rng.IntN(4); j < len(segs) && rng.IntN(4) == 0 {
				segs[i], segs[j] = segs[j], segs[i]
			}
		}
		prefix := rng.IntN(len(segs) + 1)
		perPacket := round%2 == 1
		for i, s := range segs {
			if rng.IntN(30) == 0 {
				continue // lost
			}
			s.Filtered = i < prefix || perPacket && rng.IntN(3) == 0
			s.Timestamp, s.Index = f.ts, f.idx
			f.send(s)
			if rng.IntN(30) == 0 {
				f.send(s) // a copy
			}
		}
		a.Close()
		rec.allClosed()
		if len(rec.conns) > 1 {
			t.Fatalf("round %d: %d connections opened", round, len(rec.conns))
		}
		for _, rs := range rec.order {
			// Offset 0 is where the assembler put the base: the SYN's
			// number + 1, or the first segment seen without it.
			d := rs.s.Dir
			shift := int64(int32(rs.s.BaseSeq - (f.isn[d] + 1)))
			for o, b := range rs.bytes {
				if i := o + shift; i < 0 || i >= int64(len(sent[d])) || sent[d][i] != b {
					t.Fatalf("round %d dir %d: byte %d (sent as %d) is %q, not what was sent", round, d, o, i, b)
				}
			}
			for k, g := range rs.gaps {
				if g.reason == ReasonFiltered && (k != 0 || g.off != 0) {
					t.Errorf("round %d dir %d: filtered gap %+v is not the first at 0", round, rs.s.Dir, g)
				}
			}
		}
	}
}
