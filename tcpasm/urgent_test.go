package tcpasm

import "testing"

// Urgent bytes: inline they stay in the stream; out of band they are left
// out of it, every later offset one lower, wherever the URG segment arrives
// (in order, above a hole), and counted once either way. A URG segment
// whose urgent byte was delivered already leaves it in the stream.
// Conflicts on the urgent byte alone are none out of band; others move
// with the offsets.
func TestUrgent(t *testing.T) {
	for _, tc := range []struct {
		mode     Urgent
		want     string
		conflict []int64 // offsets
	}{
		{UrgentInline, "malicXious+ABC-late1Zrest_____tail", []int64{12, 13}},
		{UrgentOOB, "malicious+AC-late1Zrest_____tail", []int64{11}},
	} {
		r := newRecorder(t)
		a := New(Config{Urgent: tc.mode}, r)
		f := newFeeder(a, 100, 200)
		f.handshake()
		urg := func(off int64, p string, ptr uint16) {
			s := f.seg(0, off, ACK|PSH|URG, p, 0)
			s.Urgent = ptr
			f.send(s)
		}
		f.data(0, 0, "malic")
		urg(5, "X", 1) // in order: X is urgent
		urg(5, "X", 1) // again: counted once
		f.data(0, 6, "ious")
		urg(12, "BC", 1) // above a hole: B is urgent
		f.data(0, 10, "+A")
		urg(14, "-late1", 0) // no pointer: nothing urgent
		f.data(0, 20, "Zrest")
		urg(20, "Zrest", 1)   // Z was delivered: it stays
		f.data(0, 10, "+AbC") // differs on the urgent byte only
		f.data(0, 13, "c")    // differs on C
		f.data(0, 30, "tail") // after a hole: a gap at the offsets given
		a.Close()
		r.allClosed()
		rs := r.stream(0, ClientToServer)
		st := rs.s.Stats
		if got := rs.text(rs.s.Extent); got != tc.want || rs.s.Extent != int64(len(tc.want)) || st.Bytes+st.GapBytes != rs.s.Extent || st.GapBytes != 5 {
			t.Errorf("%v: %q (extent %d, bytes %d), want %q", tc.mode, got, rs.s.Extent, st.Bytes, tc.want)
		}
		if st.UrgentBytes != 2 {
			t.Errorf("%v: urgent bytes %d, want 2", tc.mode, st.UrgentBytes)
		}
		var offs []int64
		for _, c := range rs.confl {
			offs = append(offs, c.Offset)
		}
		if len(offs) != len(tc.conflict) || st.Conflicts != int64(len(offs)) {
			t.Errorf("%v: conflicts at %v (%d counted), want %v", tc.mode, offs, st.Conflicts, tc.conflict)
		} else {
			for i := range offs {
				if offs[i] != tc.conflict[i] {
					t.Errorf("%v: conflicts at %v, want %v", tc.mode, offs, tc.conflict)
				}
			}
		}
	}
}
