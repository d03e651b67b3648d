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
