package tcpasm

import "testing"

// One far-future timestamp (or far-past one) in the middle of a connection
// neither expires nor splits it; a long pause that the next packet confirms
// moves the clock as before.
func TestClockLeaps(t *testing.T) {
	for _, leap := range []int64{46 * 365 * 86400e9, -40 * 365 * 86400e9} {
		r := newRecorder(t)
		a := New(Config{}, r)
		f := newFeeder(a, 1000, 5000)
		f.handshake()
		s := f.seg(0, 0, ACK|PSH, "abc", 0)
		s.Timestamp += leap
		f.send(s)
		for i := int64(0); i < 20; i++ {
			f.data(0, 3+i, "d")
		}
		a.Close()
		if len(r.conns) != 1 || a.Stats().ClockLeaps != 1 {
			t.Errorf("leap %d: %d connections, %d leaps, want 1 and 1", leap, len(r.conns), a.Stats().ClockLeaps)
		}
		if rs := r.stream(0, ClientToServer); rs.text(23) != "abcdddddddddddddddddddd" {
			t.Errorf("leap %d: stream %q", leap, rs.text(23))
		}
	}
	// A pause of two hours, confirmed by the packet after it: the idle
	// connection is closed (dormant longer than its keep time).
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 1000, 5000)
	f.handshake()
	f.data(0, 0, "abc")
	f.ts += 2 * 3600e9
	f.key.SrcPort++ // another connection wakes the capture
	f.data(0, 0, "x")
	f.data(0, 1, "y")
	if a.Stats().IdleClosed != 1 || a.Stats().ClockLeaps != 1 {
		t.Errorf("pause: idle closed %d leaps %d, want 1, 1", a.Stats().IdleClosed, a.Stats().ClockLeaps)
	}
	a.Close()
}
