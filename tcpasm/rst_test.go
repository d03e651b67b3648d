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
