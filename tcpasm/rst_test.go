package tcpasm

import (
	"fmt"
	"testing"
)

type rstRecorder struct {
	*recorder
	got []string
}

func (r *rstRecorder) RSTPayload(s *Stream, seq uint32, data []byte, _ int64) {
	r.got = append(r.got, fmt.Sprintf("%d:%d:%s", s.Dir, seq, data))
}

// A RST's payload is not stream data: no extent, no gap, counted and passed
// to an RSTHandler, the same with or without data of the direction before.
func TestRSTPayloadNotData(t *testing.T) {
	for _, withData := range []bool{false, true} {
		r := &rstRecorder{recorder: newRecorder(t)}
		a := New(Config{}, r)
		f := newFeeder(a, 1000, 5000)
		f.handshake()
		if withData {
			f.data(0, 0, "hello")
		}
		var at int64
		if withData {
			at = 5
		}
		f.send(f.seg(0, at, RST|ACK, "connection reset", 0))
		a.Close()
		r.allClosed()
		rs := r.stream(0, ClientToServer)
		if rs.s.Extent != at || rs.s.Stats.Gaps != 0 || rs.s.Stats.RSTBytes != 16 {
			t.Errorf("withData %v: extent %d gaps %d rst bytes %d, want %d, 0, 16", withData, rs.s.Extent, rs.s.Stats.Gaps, rs.s.Stats.RSTBytes, at)
		}
		if want := fmt.Sprintf("0:%d:connection reset", 1001+at); len(r.got) != 1 || r.got[0] != want {
			t.Errorf("withData %v: RSTPayload calls %q, want [%q]", withData, r.got, want)
		}
	}
}

// A connection's late packets after it ended join it, within its linger or
// after it left the table: a retransmitted FIN with data, a RST, its own SYN.
// Only a SYN with another ISN starts a new connection.
func TestClosedConnectionIdentity(t *testing.T) {
	for _, after := range []int64{1e6, 10e9} { // within the linger, after it
		r := newRecorder(t)
		a := New(Config{}, r)
		f := newFeeder(a, 1000, 5000)
		f.handshake()
		f.data(0, 0, "hello")
		f.data(1, 0, "world, bye")
		f.send(f.seg(0, 5, FIN|ACK, "", 10))
		f.send(f.seg(1, 10, FIN|ACK, "", 6))
		f.ack(0, 11)
		f.ts += after
		f.send(f.seg(1, 5, FIN|ACK|PSH, ", bye", 6)) // the FIN again, with its data
		f.send(f.seg(0, 6, RST, "", 0))
		f.send(f.seg(0, -1, SYN, "", 0)) // the client's own SYN
		f.send(f.seg(1, -1, SYN|ACK, "", 0))
		f.ts += after
		f.send(f.seg(1, 5, FIN|ACK|PSH, ", bye", 6))
		if n := len(r.conns); n != 1 {
			t.Errorf("after %d: %d connections, want 1", after, n)
		}
		f.isn[0] = 77777
		f.send(f.seg(0, -1, SYN, "", 0)) // another ISN: a new connection
		a.Close()
		if n := len(r.conns); n != 2 {
			t.Errorf("after %d: %d connections with a new ISN, want 2", after, n)
		}
		// The first late packet still finds the connection in the table
		// (it leaves at the end of that call).
		if after > DefaultLinger && a.Stats().JoinedClosed != 4 {
			t.Errorf("after %d: JoinedClosed %d, want 4", after, a.Stats().JoinedClosed)
		}
		if rs := r.stream(0, ServerToClient); rs.s.Extent != 10 || rs.s.Stats.Conflicts != 0 {
			t.Errorf("after %d: extent %d conflicts %d", after, rs.s.Extent, rs.s.Stats.Conflicts)
		}
	}
}

// A RST that the connection evidently survived — its handshake goes on, or
// the RST's sender goes on in sequence — does not end it: one connection,
// same roles, the later bytes in the same streams, the RST counted
// (RSTSurvived). Without such evidence the RST ends it, as does a new SYN.
func TestRSTSurvived(t *testing.T) {
	type want struct {
		conns    int
		c2s, s2c string
		survived [2]int64 // StreamStats.RSTSurvived per direction
		cause    Reason   // conn 0's close reason
		rst      bool     // conn 0's server direction reset at the end
		gaps     int64    // the server direction's
	}
	forged := func(f *feeder, d int, seq uint32, flags uint8) {
		s := f.seg(d, 0, flags, "", 0)
		s.Seq = seq
		f.send(s)
	}
	for _, tc := range []struct {
		name   string
		script func(f *feeder)
		want   want
	}{{
		// bug-3286 evasions: a RST and a FIN numbered 0 answer the SYN,
		// then the real SYN-ACK.
		name: "RST then its own SYN-ACK",
		script: func(f *feeder) {
			f.send(f.seg(0, -1, SYN, "", 0))
			forged(f, 1, 0, RST|ACK)
			forged(f, 1, 0, FIN|ACK)
			f.send(f.seg(0, 0, RST, "", 0))
			f.send(f.seg(1, -1, SYN|ACK, "", 0))
			f.send(f.seg(0, 0, ACK, "", 0))
			f.data(0, 0, "hello")
			f.ts += 5e9 // longer than the linger: still one connection
			f.data(1, 0, "world")
		},
		want: want{conns: 1, c2s: "hello", s2c: "world", survived: [2]int64{1, 1}, cause: ReasonEOF},
	}, {
		name: "RST then its sender's data in sequence",
		script: func(f *feeder) {
			f.handshake()
			f.data(0, 0, "hello")
			f.send(f.seg(1, 0, RST|ACK, "", 5))
			f.data(1, 0, "world")
			f.ts += 5e9
			f.data(0, 5, "!")
		},
		want: want{conns: 1, c2s: "hello!", s2c: "world", survived: [2]int64{0, 1}, cause: ReasonEOF},
	}, {
		// The capture missed the sender's next segment ([5, 7)).
		name: "RST then its sender's data beyond a lost segment",
		script: func(f *feeder) {
			f.handshake()
			f.data(1, 0, "hello")
			f.send(f.seg(1, 5, RST|ACK, "", 0))
			f.data(1, 7, "world")
			f.ack(0, 12)
		},
		want: want{conns: 1, s2c: "hello__world", survived: [2]int64{0, 1}, cause: ReasonEOF, gaps: 1},
	}, {
		name: "RST then its sender's new ACK",
		script: func(f *feeder) {
			f.handshake()
			f.data(0, 0, "hello")
			f.send(f.seg(1, 0, RST|ACK, "", 5))
			f.data(0, 5, " again")
			f.ack(1, 11)
			f.ts += 5e9
			f.data(1, 0, "world")
		},
		want: want{conns: 1, c2s: "hello again", s2c: "world", survived: [2]int64{0, 1}, cause: ReasonEOF},
	}, {
		// The receiver's data may have been in flight when the RST
		// passed: delivered to the same connection, but no evidence.
		name: "RST then its receiver's data",
		script: func(f *feeder) {
			f.handshake()
			f.data(0, 0, "hello")
			f.send(f.seg(1, 0, RST|ACK, "", 5))
			f.data(0, 5, " again")
		},
		want: want{conns: 1, c2s: "hello again", survived: [2]int64{0, 0}, cause: ReasonRST, rst: true},
	}, {
		name: "RST then a new SYN",
		script: func(f *feeder) {
			f.handshake()
			f.data(0, 0, "hello")
			f.send(f.seg(1, 0, RST|ACK, "", 5))
			f.isn = [2]uint32{7777, 8888}
			f.handshake()
			f.data(0, 0, "new")
		},
		want: want{conns: 2, c2s: "hello", survived: [2]int64{0, 0}, cause: ReasonRST, rst: true},
	}, {
		name: "RST then nothing",
		script: func(f *feeder) {
			f.handshake()
			f.data(0, 0, "hello")
			f.data(1, 0, "world")
			f.send(f.seg(1, 5, RST|ACK, "", 5))
		},
		want: want{conns: 1, c2s: "hello", s2c: "world", survived: [2]int64{0, 0}, cause: ReasonRST, rst: true},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t)
			a := New(Config{}, r)
			f := newFeeder(a, 1000, 5000)
			tc.script(f)
			a.Close()
			r.allClosed()
			w := tc.want
			if len(r.conns) != w.conns {
				t.Fatalf("%d connections, want %d", len(r.conns), w.conns)
			}
			c2s, s2c := r.stream(0, ClientToServer), r.stream(0, ServerToClient)
			if got := c2s.text(c2s.s.Extent); got != w.c2s || c2s.s.Stats.Gaps != 0 {
				t.Errorf("c2s %q (%d gaps), want %q", got, c2s.s.Stats.Gaps, w.c2s)
			}
			if got := s2c.text(s2c.s.Extent); got != w.s2c || s2c.s.Stats.Gaps != w.gaps {
				t.Errorf("s2c %q (%d gaps), want %q", got, s2c.s.Stats.Gaps, w.s2c)
			}
			got := [2]int64{c2s.s.Stats.RSTSurvived, s2c.s.Stats.RSTSurvived}
			if got != w.survived || a.Stats().RSTSurvived != got[0]+got[1] {
				t.Errorf("RSTSurvived %v (assembler %d), want %v", got, a.Stats().RSTSurvived, w.survived)
			}
			if c2s.cause != w.cause || s2c.cause != w.cause || s2c.s.RST != w.rst || s2c.s.FIN {
				t.Errorf("close %v/%v RST %v FIN %v, want %v, RST %v", c2s.cause, s2c.cause, s2c.s.RST, s2c.s.FIN, w.cause, w.rst)
			}
			if c := r.conns[0]; c.Key != f.key || c.Index != 0 {
				t.Errorf("conn 0 key %v index %d: roles or number changed", c.Key, c.Index)
			}
			if st := a.Stats(); st.AfterClose != 0 || st.JoinedClosed != 0 {
				t.Errorf("after close %d joined closed %d", st.AfterClose, st.JoinedClosed)
			}
		})
	}
}
