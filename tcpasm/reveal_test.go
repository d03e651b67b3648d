package tcpasm

import "testing"

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
