package tcpasm

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestInOrderWithHandshake(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 1000, 5000)
	f.handshake()
	f.data(0, 0, "GET / HTTP/1.1\r\n")
	f.data(0, 16, "\r\n")
	f.data(1, 0, "HTTP/1.1 200 OK\r\n")
	f.send(f.seg(0, 18, FIN|ACK, "", 17))
	f.send(f.seg(1, 17, FIN|ACK, "", 19))
	f.ack(0, 18)
	a.Close()
	r.allClosed()
	c2s, s2c := r.stream(0, ClientToServer), r.stream(0, ServerToClient)
	if got := c2s.text(18); got != "GET / HTTP/1.1\r\n\r\n" {
		t.Errorf("c2s %q", got)
	}
	if got := s2c.text(17); got != "HTTP/1.1 200 OK\r\n" {
		t.Errorf("s2c %q", got)
	}
	for _, rs := range []*rstream{c2s, s2c} {
		if len(rs.gaps) != 0 || rs.cause != ReasonFIN || !rs.s.SYN || !rs.s.FIN || !rs.s.HaveBase {
			t.Errorf("dir %d: gaps %v cause %v SYN %v FIN %v", rs.s.Dir, rs.gapList(), rs.cause, rs.s.SYN, rs.s.FIN)
		}
	}
	if c2s.s.Extent != 18 || s2c.s.Extent != 17 {
		t.Errorf("extents %d %d", c2s.s.Extent, s2c.s.Extent)
	}
	if c2s.s.BaseSeq != 1001 || s2c.s.BaseSeq != 5001 {
		t.Errorf("base seqs %d %d", c2s.s.BaseSeq, s2c.s.BaseSeq)
	}
	if k := r.conns[0].Key; k != f.key {
		t.Errorf("client key %v, want %v", k, f.key)
	}
	if c2s.s.Stats.Packets != 6 || s2c.s.Stats.Packets != 3 {
		t.Errorf("packets %d %d", c2s.s.Stats.Packets, s2c.s.Stats.Packets)
	}
}

// gopacket regression: without a SYN nothing came out until a flush. Here a
// mid-stream pickup delivers the first segment during its own Assemble.
func TestMidstreamDeliveredImmediately(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 70000, 90000)
	f.data(0, 500, "hello")
	rs := r.stream(0, ClientToServer)
	if rs.text(5) != "hello" || rs.s.SYN || rs.s.BaseSeq != 70000+1+500 {
		t.Fatalf("after one segment: %q SYN %v base %d", rs.text(5), rs.s.SYN, rs.s.BaseSeq)
	}
	f.data(0, 505, " world")
	if rs.text(11) != "hello world" {
		t.Fatalf("after two: %q", rs.text(11))
	}
	// Bytes from before the pickup point are counted, not delivered. The rest
	// differs from both packets delivered: a Conflict for each.
	f.data(0, 490, "0123456789abcdefghij")
	if rs.s.Stats.BeforeBase != 10 || len(rs.confl) != 2 || rs.confl[0].KeptIndex != 0 || rs.confl[1].KeptIndex != 1 ||
		rs.confl[0].Offset != 0 || rs.confl[1].Offset+rs.confl[1].Length != 10 {
		t.Errorf("BeforeBase %d conflicts %v", rs.s.Stats.BeforeBase, rs.confl)
	}
	a.Close()
	r.allClosed()
	if rs.text(11) != "hello world" || rs.cause != ReasonEOF {
		t.Errorf("%q cause %v", rs.text(11), rs.cause)
	}
}

// gopacket and the seed-003 assembler lost or duplicated a byte at the 2^32
// wrap. ISN 2^32-1 puts offset 0 at sequence number 0; other ISNs put the wrap
// inside the data.
func TestSequenceWrap(t *testing.T) {
	for _, isn := range []uint32{1<<32 - 1, 1<<32 - 2, 1<<32 - 5, 1<<32 - 100, 0} {
		r := newRecorder(t)
		a := New(Config{}, r)
		f := newFeeder(a, isn, 1<<32-3)
		f.handshake()
		want := ""
		for i := 0; i < 40; i++ {
			chunk := strings.Repeat(string(rune('a'+i%26)), 7)
			f.data(0, int64(len(want)), chunk)
			want += chunk
			f.data(1, int64(i), "x")
		}
		// A retransmission across the wrap and a reordered pair across it.
		f.data(0, 90, want[90:110])
		f.data(0, int64(len(want))+5, "QRST")
		f.data(0, int64(len(want)), "LMNOP")
		want += "LMNOPQRST"
		a.Close()
		r.allClosed()
		rs := r.stream(0, ClientToServer)
		if got := rs.text(int64(len(want))); got != want || len(rs.gaps) != 0 || rs.s.Extent != int64(len(want)) {
			t.Errorf("isn %d: got %q gaps %s extent %d", isn, got, rs.gapList(), rs.s.Extent)
		}
		if s2c := r.stream(0, ServerToClient); s2c.text(40) != strings.Repeat("x", 40) || len(s2c.gaps) != 0 {
			t.Errorf("isn %d: s2c %q %s", isn, s2c.text(40), s2c.gapList())
		}
	}
}

// A stream longer than 4 GiB: the capture missed most of it and the peer's
// ACKs prove every missing range; offsets keep growing past 2^32.
func TestStreamBeyond4GiB(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 1<<32-10, 77)
	f.handshake()
	off := int64(0)
	for i := 0; i < 12; i++ {
		f.data(0, off, "abc")
		off += 3 + 700<<20 // 700 MiB the capture never saw
		f.ack(1, off)
	}
	f.data(0, off, "end")
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if rs.s.Extent != off+3 || off < 8<<30 {
		t.Fatalf("extent %d, want %d", rs.s.Extent, off+3)
	}
	if rs.nData != 13*3 || rs.nGap != off+3-13*3 {
		t.Errorf("data %d gaps %d", rs.nData, rs.nGap)
	}
	for _, g := range rs.gaps {
		if g.reason != ReasonAcked {
			t.Errorf("gap %+v", g)
		}
	}
	if string([]byte{rs.bytes[off], rs.bytes[off+1], rs.bytes[off+2]}) != "end" {
		t.Errorf("last bytes not at %d", off)
	}
	if p := a.Stats().PeakHeld; p > 1000 {
		t.Errorf("peak held %d", p)
	}
}

func TestReorderedDelivery(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 1, 2)
	f.handshake()
	f.data(0, 10, "KLMNO")
	f.data(0, 5, "FGHIJ")
	if n := r.stream(0, ClientToServer).nData; n != 0 {
		t.Fatalf("delivered %d bytes above a hole", n)
	}
	if h := a.MemoryHeld(); h != 10+2*pieceOverhead {
		t.Errorf("held %d", h)
	}
	f.data(0, 0, "ABCDE")
	rs := r.stream(0, ClientToServer)
	if rs.text(15) != "ABCDEFGHIJKLMNO" || a.MemoryHeld() != 0 {
		t.Errorf("%q held %d", rs.text(15), a.MemoryHeld())
	}
	if rs.s.Stats.OutOfOrder != 2 {
		t.Errorf("out of order %d", rs.s.Stats.OutOfOrder)
	}
	a.Close()
	r.allClosed()
}

func TestAckedGap(t *testing.T) {
	tests := []struct {
		name      string
		window    int64
		dataDelay int64 // capture time between the ACK and the missing data
		wantGap   bool
	}{
		{"lost", 5e6, -1, true},
		{"ack-before-data within the window", 5e6, 1e6, false},
		{"ack-before-data after the window", 5e6, 9e6, true},
		{"no window", -1, 1e3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t)
			r.keepLog = true
			a := New(Config{ReorderWindow: tc.window}, r)
			f := newFeeder(a, 100, 200)
			f.handshake()
			f.data(0, 0, "aaaa")
			f.data(0, 8, "cccc")
			f.ack(1, 12) // the receiver has [4,8) the capture missed
			if tc.dataDelay >= 0 {
				f.ts += tc.dataDelay
				f.data(0, 4, "bbbb")
			} else {
				f.ts += 6e6
				f.ack(1, 12)
			}
			f.ts += 1e6
			f.data(0, 12, "dddd")
			rs := r.stream(0, ClientToServer)
			got := len(rs.gaps) == 1 && rs.gaps[0] == rgap{4, 4, ReasonAcked}
			if got != tc.wantGap {
				t.Fatalf("gaps %s, want gap %v; log %q", rs.gapList(), tc.wantGap, r.log)
			}
			// Declared before the data after it, and everything delivered.
			if rs.cursor != 16 {
				t.Errorf("cursor %d", rs.cursor)
			}
			if tc.wantGap && tc.dataDelay >= 0 {
				if len(rs.late) != 1 || rs.late[0] != [2]int64{4, 8} || rs.s.Stats.LateBytes != 4 || rs.s.Stats.GapBytes != 0 {
					t.Errorf("late %v stats %+v", rs.late, rs.s.Stats)
				}
			}
			a.Close()
			r.allClosed()
		})
	}
}

// The loss is reported before the data after it (the seed-003 assembler
// reported it after).
func TestGapBeforeDataAfterIt(t *testing.T) {
	r := newRecorder(t)
	r.keepLog = true
	a := New(Config{ReorderWindow: -1}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "aa")
	f.data(0, 4, "cc")
	f.ack(1, 6)
	want := []string{`data 0 0 2 "aa"`, `gap 0 2 2 acked`, `data 0 4 2 "cc"`}
	var got []string
	for _, l := range r.log {
		if strings.HasPrefix(l, "data 0") || strings.HasPrefix(l, "gap 0") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q, want %q", got, want)
	}
	a.Close()
}

func TestLateNeverTwice(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{ReorderWindow: -1}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "aa")
	f.data(0, 10, "kk")
	f.ack(1, 12) // [2,10) acked gap
	f.data(0, 4, "ddee")
	f.data(0, 2, "ccddeeffkk") // [2,4) and [8,10) late, [4,8) and [10,12) seen
	f.data(0, 2, "ccddeeffkk") // all seen now
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if rs.text(12) != "aaccddeeffkk" {
		t.Errorf("%q", rs.text(12))
	}
	st := rs.s.Stats
	if st.LateBytes != 8 || st.GapBytes != 0 || st.Gaps != 1 || st.Retransmitted != 2 || len(rs.confl) != 0 {
		t.Errorf("stats %+v conflicts %v", st, rs.confl)
	}
}

func TestTrailingAckedAndFIN(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "abc")
	// The capture lost [3,10) and the FIN at 10; the server ACKs the FIN.
	f.ack(1, 11)
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if rs.s.Extent != 11 {
		// Without the FIN seen, the ACK's last unit could be the FIN or a byte:
		// the extent follows the ACK.
		t.Errorf("extent %d", rs.s.Extent)
	}
	if len(rs.gaps) != 1 || rs.gaps[0].reason != ReasonAcked || rs.gaps[0].off != 3 {
		t.Errorf("gaps %s", rs.gapList())
	}

	// With the FIN captured, its ACK counts one less.
	r = newRecorder(t)
	a = New(Config{}, r)
	f = newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "abc")
	f.send(f.seg(0, 10, FIN|ACK, "", 0))
	f.ack(1, 11)
	a.Close()
	r.allClosed()
	rs = r.stream(0, ClientToServer)
	if rs.s.Extent != 10 || len(rs.gaps) != 1 || rs.gaps[0] != (rgap{3, 7, ReasonAcked}) || rs.cause != ReasonFIN {
		t.Errorf("extent %d gaps %s cause %v", rs.s.Extent, rs.gapList(), rs.cause)
	}
}

// The capture missed the server's last data and its FIN; the client's FIN
// was seen and the client ACKed one unit beyond the last byte: that unit is the
// server's FIN, not a byte (real captures judged against the endpoints say so).
func TestLostFINInferred(t *testing.T) {
	for _, peerFIN := range []bool{true, false} {
		r := newRecorder(t)
		a := New(Config{}, r)
		f := newFeeder(a, 100, 200)
		f.handshake()
		f.data(1, 0, "resp")
		// [4,8) and the FIN at 8 lost.
		f.ack(0, 9)
		if peerFIN {
			f.send(f.seg(0, 0, FIN|ACK, "", 9))
		}
		a.Close()
		r.allClosed()
		rs := r.stream(0, ServerToClient)
		want := int64(9)
		if peerFIN {
			want = 8
		}
		if rs.s.Extent != want || len(rs.gaps) != 1 || rs.gaps[0] != (rgap{4, want - 4, ReasonAcked}) {
			t.Errorf("peer FIN %v: extent %d gaps %s", peerFIN, rs.s.Extent, rs.gapList())
		}
	}
}

func TestTruncated(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	s := f.seg(0, 0, ACK|PSH, "abcd", 0)
	s.Length = 10 // the snaplen kept 4 of 10 bytes
	f.send(s)
	f.data(0, 10, "klm")
	rs := r.stream(0, ClientToServer)
	if len(rs.gaps) != 1 || rs.gaps[0] != (rgap{4, 6, ReasonTruncated}) || rs.text(13) != "abcd______klm" {
		t.Fatalf("gaps %s text %q", rs.gapList(), rs.text(13))
	}
	// A full retransmission fills the cut bytes late.
	f.data(0, 0, "abcdefghij")
	if rs.text(13) != "abcdefghijklm" || rs.s.Stats.LateBytes != 6 {
		t.Errorf("%q late %d", rs.text(13), rs.s.Stats.LateBytes)
	}

	// Truncated above a hole: the marker waits, and real bytes replace it.
	s = f.seg(0, 20, ACK|PSH, "uv", 0)
	s.Length = 6
	f.send(s)            // [20,22) held, [22,26) marked
	f.data(0, 23, "xy")  // real bytes inside the marker
	f.data(0, 13, "nop") // [13,16)
	f.data(0, 16, "qrst")
	if got := rs.text(26); got != "abcdefghijklmnopqrstuv_xy_" {
		t.Errorf("%q", got)
	}
	var tr []rgap
	for _, g := range rs.gaps {
		if g.reason == ReasonTruncated {
			tr = append(tr, g)
		}
	}
	if len(tr) != 3 || tr[1] != (rgap{22, 1, ReasonTruncated}) || tr[2] != (rgap{25, 1, ReasonTruncated}) {
		t.Errorf("truncated gaps %v", tr)
	}
	a.Close()
	r.allClosed()
}

func TestPerStreamLimit(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{MaxHeldPerStream: 3 * (100 + pieceOverhead)}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "x")
	for i := 0; i < 10; i++ {
		f.data(0, int64(2+100*i), strings.Repeat("y", 100))
		if h := a.MemoryHeld(); h > 3*(100+pieceOverhead) {
			t.Fatalf("held %d", h)
		}
	}
	rs := r.stream(0, ClientToServer)
	if len(rs.gaps) == 0 || rs.gaps[0] != (rgap{1, 1, ReasonLimit}) {
		t.Errorf("gaps %s", rs.gapList())
	}
	if rs.cursor < 700 {
		t.Errorf("cursor %d: held bytes not released", rs.cursor)
	}
	a.Close()
	r.allClosed()
	if rs.nData != 1001 {
		t.Errorf("delivered %d", rs.nData)
	}
}

// A stream with a permanent hole whose receiver ACKs everything holds nearly
// nothing: the ACKs prove the hole lost long before any limit (gopacket held
// everything after the first hole until a flush).
func TestPermanentHoleAckedHoldsLittle(t *testing.T) {
	r := newRecorder(t)
	r.noBytes = true
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	f.step = 100e3 // 100 µs between packets
	f.handshake()
	f.data(0, 0, "start")
	const seg = 1400
	payload := strings.Repeat("z", seg)
	off := int64(5 + seg) // one segment lost
	for i := 0; i < 5000; i++ {
		f.data(0, off, payload)
		off += seg
		if i%2 == 1 {
			f.ack(1, off)
		}
	}
	st := a.Stats()
	if st.PeakHeld > 200<<10 || st.PeakHeld > DefaultMaxHeldPerStream/10 {
		t.Errorf("peak held %d", st.PeakHeld)
	}
	rs := r.stream(0, ClientToServer)
	if len(rs.gaps) != 1 || rs.gaps[0] != (rgap{5, seg, ReasonAcked}) {
		t.Errorf("gaps %s", rs.gapList())
	}
	if rs.cursor != off {
		t.Errorf("cursor %d, want %d", rs.cursor, off)
	}
	a.Close()
	r.allClosed()
}

func TestGlobalMemoryEviction(t *testing.T) {
	r := newRecorder(t)
	const maxMem = 4 * (50 + pieceOverhead)
	a := New(Config{MaxMemory: maxMem}, r)
	var fs []*feeder
	for i := 0; i < 5; i++ {
		f := newFeeder(a, uint32(i*1000), 7)
		f.key.SrcPort = uint16(1000 + i)
		f.handshake()
		f.data(0, 10, strings.Repeat("h", 50)) // above a hole
		fs = append(fs, f)
		if h := a.MemoryHeld(); h > maxMem {
			t.Fatalf("held %d above %d", h, maxMem)
		}
	}
	st := a.Stats()
	if st.Evictions != 1 {
		t.Errorf("evictions %d", st.Evictions)
	}
	first := r.stream(0, ClientToServer)
	if len(first.gaps) != 1 || first.gaps[0] != (rgap{0, 10, ReasonEvicted}) || first.nData != 50 {
		t.Errorf("evicted stream: gaps %s data %d", first.gapList(), first.nData)
	}
	// The evicted stream continues.
	fs[0].data(0, 60, "more")
	if first.text(64)[60:] != "more" {
		t.Errorf("after eviction %q", first.text(64))
	}
	a.Close()
	r.allClosed()
}

func TestRSTClosesBoth(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "ab")
	f.data(0, 5, "fg") // [2,5) missing
	f.data(1, 0, "xy")
	f.send(f.seg(1, 4, RST|ACK, "", 2)) // the server had sent [2,4) too
	c2s, s2c := r.stream(0, ClientToServer), r.stream(0, ServerToClient)
	// The holes are declared at once; both directions end together.
	if len(c2s.gaps) != 1 || c2s.gaps[0] != (rgap{2, 3, ReasonClosed}) || c2s.text(7) != "ab___fg" {
		t.Errorf("c2s gaps %s text %q", c2s.gapList(), c2s.text(7))
	}
	if len(s2c.gaps) != 1 || s2c.gaps[0] != (rgap{2, 2, ReasonClosed}) {
		t.Errorf("s2c gaps %s", s2c.gapList())
	}
	if !s2c.s.RST || c2s.s.RST {
		t.Errorf("RST flags %v %v", c2s.s.RST, s2c.s.RST)
	}
	// A server segment the capture reordered behind the RST still fills its
	// gap (data the server sends beyond its RST would show the connection
	// survived it: TestRSTSurvived).
	f.data(1, 2, "zw")
	if s2c.text(4) != "xyzw" || s2c.s.Stats.LateBytes != 2 || a.Stats().RSTSurvived != 0 {
		t.Errorf("s2c %q late %d rst survived %d", s2c.text(4), s2c.s.Stats.LateBytes, a.Stats().RSTSurvived)
	}
	f.ts += 3e9 // the linger time is over
	f.data(0, 9, "zz")
	if !c2s.closed || !s2c.closed || c2s.cause != ReasonRST || s2c.cause != ReasonRST {
		t.Fatalf("closed %v/%v causes %v/%v", c2s.closed, s2c.closed, c2s.cause, s2c.cause)
	}
	a.Close()
	r.allClosed()
}

func TestHalfClose(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "req")
	f.send(f.seg(0, 3, FIN|ACK, "", 0))
	f.ack(1, 4)
	for i := 0; i < 5; i++ {
		f.data(1, int64(i*3), "res")
	}
	f.send(f.seg(1, 15, FIN|ACK, "", 4))
	f.ack(0, 16)
	c2s, s2c := r.stream(0, ClientToServer), r.stream(0, ServerToClient)
	if s2c.text(15) != strings.Repeat("res", 5) || c2s.text(3) != "req" {
		t.Errorf("%q %q", c2s.text(3), s2c.text(15))
	}
	if a.Stats().Conns != 1 {
		t.Errorf("conns %d while lingering", a.Stats().Conns)
	}
	f.ts += 3e9 // past the linger time
	f.ack(0, 16)
	if !c2s.closed || !s2c.closed || c2s.cause != ReasonFIN || s2c.cause != ReasonFIN {
		t.Errorf("closed %v %v causes %v %v", c2s.closed, s2c.closed, c2s.cause, s2c.cause)
	}
	a.Close()
	r.allClosed()
}

func TestConnTableShrinks(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{IdleTimeout: 10e9}, r)
	for i := 0; i < 100; i++ {
		f := newFeeder(a, uint32(i), 7)
		f.ts = 1e9 * int64(i) / 10
		f.key.SrcPort = uint16(2000 + i)
		f.handshake()
		f.data(0, 0, "q")
		if i%2 == 0 {
			f.send(f.seg(0, 1, FIN|ACK, "", 0))
			f.send(f.seg(1, 0, FIN|ACK, "", 2))
			f.ack(0, 1)
		}
	}
	if n := a.Stats().Conns; n < 50 {
		t.Fatalf("conns %d", n)
	}
	// Another connection 60 s later: every finished one is gone (linger), every
	// idle one is dormant; and after dormantKeep, closed.
	f := newFeeder(a, 1, 2)
	f.ts = 70e9
	f.key.SrcPort = 9999
	f.data(0, 0, "x")
	if st := a.Stats(); st.Conns != 51 || st.Idled != 50 || st.IdleClosed != 0 {
		t.Errorf("stats %+v", st)
	}
	f.ts += dormantKeep
	f.data(0, 1, "y")
	st := a.Stats()
	if st.Conns != 1 || st.IdleClosed != 50 || st.ConnsTotal != 101 {
		t.Errorf("stats %+v", st)
	}
	idle := 0
	for _, rs := range r.order {
		if rs.closed && rs.cause == ReasonIdle {
			idle++
		}
	}
	if idle != 100 {
		t.Errorf("%d directions closed idle", idle)
	}
	a.Close()
	r.allClosed()
}

func TestIdleGaps(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{IdleTimeout: 1e9}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "ab")
	f.data(0, 4, "ef")
	g := newFeeder(a, 5, 6)
	g.key.SrcPort = 1
	g.ts = f.ts + 2e9
	g.data(0, 0, "other")
	// Dormant: the hole is a gap and "ef" delivered, the stream still open.
	rs := r.stream(0, ClientToServer)
	if rs.closed || len(rs.gaps) != 1 || rs.gaps[0] != (rgap{2, 2, ReasonIdle}) || rs.text(6) != "ab__ef" {
		t.Errorf("closed %v cause %v gaps %s text %q", rs.closed, rs.cause, rs.gapList(), rs.text(6))
	}
	a.Close()
	if !rs.closed || rs.cause != ReasonIdle {
		t.Errorf("at the end: closed %v cause %v", rs.closed, rs.cause)
	}
	r.allClosed()
}

// A connection quiet longer than the idle timeout that goes on in its
// sequence resumes: same connection, roles and streams (issue 14 item 9,
// zeek ftp/bigtransfer's control connection); a segment far from its
// sequence or a SYN with another ISN starts a new one.
func TestIdleResume(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{IdleTimeout: 1e9}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "ab")
	f.data(1, 0, "OK")
	f.data(0, 4, "ef") // a hole at [2,4)
	f.ts += 3e9
	wake := func(ts int64) { // another connection moves the clock on
		o := newFeeder(a, 7, 8)
		o.key.SrcPort = uint16(ts / 1e9)
		o.ts = ts
		o.data(0, 0, "o")
	}
	wake(f.ts)
	// The server speaks first after the pause: it stays the server.
	f.data(1, 2, "GO")
	f.data(0, 6, "gh")
	st := a.Stats()
	if st.Idled != 1 || st.Resumed != 1 || st.ConnsTotal != 2 || st.IdleClosed != 0 {
		t.Errorf("stats %+v", st)
	}
	if len(r.conns) != 2 {
		t.Fatalf("%d connections, want 2", len(r.conns))
	}
	c2s, s2c := r.stream(0, ClientToServer), r.stream(0, ServerToClient)
	if c2s.text(8) != "ab__efgh" || s2c.text(4) != "OKGO" || len(c2s.gaps) != 1 || c2s.gaps[0] != (rgap{2, 2, ReasonIdle}) {
		t.Errorf("c2s %q gaps %s, s2c %q", c2s.text(8), c2s.gapList(), s2c.text(4))
	}
	// Quiet again, then a SYN with another ISN: a new connection.
	f.ts += 3e9
	wake(f.ts)
	g := newFeeder(a, 9000, 9500)
	g.key = f.key
	g.ts = f.ts
	g.handshake()
	g.data(0, 0, "new")
	st = a.Stats()
	if st.ConnsTotal != 4 || st.IdleClosed != 1 || len(r.conns) != 4 {
		t.Errorf("after a new SYN: stats %+v, %d connections", st, len(r.conns))
	}
	if !c2s.closed || c2s.cause != ReasonIdle {
		t.Errorf("the dormant connection: closed %v cause %v", c2s.closed, c2s.cause)
	}
	// Quiet again, then data far out of sequence: a new connection too.
	g.ts += 3e9
	wake(g.ts)
	g.data(0, 1<<28, "far")
	if st := a.Stats(); st.ConnsTotal != 6 || st.IdleClosed < 2 {
		t.Errorf("after data far away: stats %+v", st)
	}
	a.Close()
	r.allClosed()
}

func TestPortReuse(t *testing.T) {
	tests := []struct {
		name string
		end  func(f *feeder)
	}{
		{"fin", func(f *feeder) {
			f.send(f.seg(0, 3, FIN|ACK, "", 2))
			f.send(f.seg(1, 2, FIN|ACK, "", 4))
		}},
		{"rst", func(f *feeder) { f.send(f.seg(0, 3, RST, "", 0)) }},
		{"none, far ISN", func(f *feeder) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t)
			a := New(Config{}, r)
			f := newFeeder(a, 100, 200)
			f.handshake()
			f.data(0, 0, "one")
			f.data(1, 0, "r1")
			tc.end(f)
			f.isn = [2]uint32{1 << 31, 1<<31 + 12345}
			f.handshake()
			f.data(0, 0, "two")
			a.Close()
			r.allClosed()
			if len(r.conns) != 2 || r.conns[0].Index != 0 || r.conns[1].Index != 1 {
				t.Fatalf("conns %d", len(r.conns))
			}
			if got := r.stream(1, ClientToServer).text(3); got != "two" {
				t.Errorf("second conn %q", got)
			}
			if got := r.stream(0, ClientToServer).text(3); got != "one" {
				t.Errorf("first conn %q", got)
			}
		})
	}
}

// The seed-003 assembler dropped a retransmission that straddles the consume
// point: its new bytes must be kept.
func TestStraddlingRetransmission(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "0123456789")
	f.data(0, 5, "56789ABCDE")
	rs := r.stream(0, ClientToServer)
	if rs.text(15) != "0123456789ABCDE" || rs.s.Stats.Retransmitted != 1 || len(rs.confl) != 0 {
		t.Errorf("%q stats %+v", rs.text(15), rs.s.Stats)
	}
	a.Close()
	r.allClosed()
}

// Two probes with independent loss fill each other; copies are duplicates,
// never retransmissions or conflicts (the seed-003 assembler pinned one
// channel and lost the other's packets).
func TestTwoCapturePointsFillEachOther(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	var want string
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []Segment{f.seg(0, -1, SYN, "", 0), f.seg(1, -1, SYN|ACK, "", 0), f.seg(0, 0, ACK, "", 0)} {
		s.CapturePoint = 201
		a.Assemble(&s)
		s.CapturePoint = 202
		a.Assemble(&s) // a copy
	}
	dups := 2 // the SYN and the ACK (the SYN-ACK is the other direction)
	for i := 0; i < 200; i++ {
		chunk := strings.Repeat(string(rune('A'+i%26)), 1+i%7)
		s := f.seg(0, int64(len(want)), ACK|PSH, chunk, 0)
		want += chunk
		at1, at2 := rng.IntN(3) != 0, rng.IntN(3) != 0
		if !at1 && !at2 {
			at1 = true
		}
		if at1 {
			s.CapturePoint = 201
			f.a.Assemble(&s)
		}
		if at2 {
			s.CapturePoint = 202
			s.Timestamp += 500
			f.a.Assemble(&s)
		}
		if at1 && at2 {
			dups++
		}
		f.ts += f.step
		f.ipid++
	}
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if rs.text(int64(len(want))) != want || len(rs.gaps) != 0 {
		t.Fatalf("text mismatch, gaps %s", rs.gapList())
	}
	st := rs.s.Stats
	if st.Duplicates != int64(dups) || st.Retransmitted != 0 || st.Conflicts != 0 {
		t.Errorf("stats %+v, want %d duplicates", st, dups)
	}
	if cps := r.conns[0].CapturePoints; len(cps) != 2 || cps[0] != 201 || cps[1] != 202 {
		t.Errorf("capture points %v", cps)
	}
}

func TestDuplicateWindowSameCapturePoint(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{DupWindow: 1e6}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	s := f.seg(0, 0, ACK|PSH, "abc", 0)
	a.Assemble(&s)
	s.Timestamp += 5e5
	a.Assemble(&s) // a SPAN double
	s.Timestamp += 5e6
	a.Assemble(&s) // the same headers much later: a retransmission
	a.Close()
	rs := r.stream(0, ClientToServer)
	if st := rs.s.Stats; st.Duplicates != 1 || st.Retransmitted != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestConflicts(t *testing.T) {
	for _, pol := range []Overlap{FirstWins, LastWins} {
		r := newRecorder(t)
		a := New(Config{Overlap: pol}, r)
		f := newFeeder(a, 100, 200)
		f.handshake()
		f.data(0, 0, "hello") // delivered, packet 3
		f.data(0, 10, "world")
		f.data(0, 0, "jello")      // differs from delivered bytes, packet 5
		f.data(0, 10, "wOrlD")     // differs from held bytes, packet 6
		f.data(0, 5, "_____wxrld") // [5,10) new, [10,15) differs again, packet 7
		a.Close()
		r.allClosed()
		rs := r.stream(0, ClientToServer)
		want := "hello_____world"
		if pol == LastWins {
			want = "jello_____wxrld" // held and delivered bytes replaced
		}
		if got := rs.text(15); got != want {
			t.Errorf("%v: %q, want %q", pol, got, want)
		}
		if len(rs.confl) != 3 {
			t.Fatalf("%v: conflicts %+v", pol, rs.confl)
		}
		c0, c1 := rs.confl[0], rs.confl[1]
		if c0.Offset != 0 || c0.Length != 1 {
			t.Errorf("%v: %+v", pol, c0)
		}
		if pol == FirstWins && (c0.KeptIndex != 3 || c0.DroppedIndex != 5 || c0.Replace != nil) {
			t.Errorf("%v: %+v", pol, c0)
		}
		if pol == LastWins && (c0.KeptIndex != 5 || c0.DroppedIndex != 3 || string(c0.Replace) != "j") {
			t.Errorf("%v: %+v", pol, c0)
		}
		if c1.Offset != 11 || c1.Length != 4 {
			t.Errorf("%v: %+v", pol, c1)
		}
		if pol == FirstWins && (c1.KeptIndex != 4 || c1.DroppedIndex != 6) {
			t.Errorf("%v: %+v", pol, c1)
		}
		if pol == LastWins && (c1.KeptIndex != 6 || c1.DroppedIndex != 4) {
			t.Errorf("%v: %+v", pol, c1)
		}
	}
}

func TestKeepAlive(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "abc")
	f.ack(1, 3)
	f.ts += 60e9 / 2
	f.data(0, 2, "\x00") // Windows-style keep-alive: one garbage byte
	f.send(f.seg(0, 2, ACK, "", 0))
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if st := rs.s.Stats; st.KeepAlives != 2 || st.Conflicts != 0 || st.Retransmitted != 0 || rs.nData != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestMaxConnsEvictsOldest(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{MaxConns: 3}, r)
	for i := 0; i < 5; i++ {
		f := newFeeder(a, 1, 2)
		f.ts += int64(i)
		f.key.SrcPort = uint16(100 + i)
		f.data(0, 0, "x")
		f.data(0, 3, "y")
	}
	st := a.Stats()
	if st.Conns != 3 || st.ConnEvictions != 2 {
		t.Errorf("stats %+v", st)
	}
	rs := r.stream(0, ClientToServer)
	if rs.cause != ReasonEvicted || len(rs.gaps) != 1 || rs.gaps[0].reason != ReasonEvicted {
		t.Errorf("first conn: cause %v gaps %s", rs.cause, rs.gapList())
	}
	a.Close()
	r.allClosed()
}

func TestNoMidstream(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{NoMidstream: true}, r)
	f := newFeeder(a, 1, 2)
	f.data(0, 0, "x")
	if len(r.conns) != 0 || a.Stats().Ignored != 1 {
		t.Errorf("conns %d stats %+v", len(r.conns), a.Stats())
	}
	f.handshake()
	f.data(0, 0, "y")
	a.Close()
	if len(r.conns) != 1 || r.stream(0, ClientToServer).text(1) != "y" {
		t.Errorf("conns %d", len(r.conns))
	}
}

func TestCloseIdempotent(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 1, 2)
	f.data(0, 0, "x")
	f.data(0, 5, "y")
	a.Close()
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if len(rs.gaps) != 1 || rs.gaps[0] != (rgap{1, 4, ReasonEOF}) || a.MemoryHeld() != 0 || a.Stats().Conns != 0 {
		t.Errorf("gaps %s held %d", rs.gapList(), a.MemoryHeld())
	}
}

// Random arrival orders, duplicates and loss against a simple expectation:
// every captured byte delivered exactly once at its offset; the gaps exactly
// the bytes never captured.
func TestRandomOrderExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for iter := 0; iter < 200; iter++ {
		r := newRecorder(t)
		a := New(Config{ReorderWindow: 1 << 40}, r)
		f := newFeeder(a, rng.Uint32(), rng.Uint32())
		n := 1 + rng.IntN(3000)
		stream := make([]byte, n)
		for i := range stream {
			stream[i] = byte(rng.IntN(256))
		}
		type sg struct{ off, end int }
		var segs []sg
		maxSeg := []int{3, 20, 200}[iter%3] // tiny segments: many pieces, block splits
		for off := 0; off < n; {
			l := min(1+rng.IntN(maxSeg), n-off)
			segs = append(segs, sg{off, off + l})
			if rng.IntN(5) == 0 { // a retransmission, maybe misaligned
				a := max(0, off-rng.IntN(300))
				segs = append(segs, sg{a, min(n, a+1+rng.IntN(400))})
			}
			off += l
		}
		rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
		have := make([]bool, n)
		syn := rng.IntN(2) == 0
		if syn {
			f.handshake()
		}
		first := -1
		for _, s := range segs {
			if rng.IntN(6) == 0 {
				continue // lost by the capture
			}
			sg := f.seg(0, int64(s.off), ACK|PSH, string(stream[s.off:s.end]), 0)
			if rng.IntN(8) == 0 { // the snaplen cut it
				sg.Payload = sg.Payload[:rng.IntN(len(sg.Payload))]
			}
			if first < 0 {
				first = s.off
			}
			f.send(sg)
			for i := s.off; i < s.off+len(sg.Payload); i++ {
				have[i] = true
			}
		}
		f.ack(1, int64(n))
		a.Close()
		r.allClosed()
		if first < 0 {
			continue
		}
		base := 0
		if !syn {
			base = first
		}
		rs := r.stream(0, ClientToServer)
		if rs.s.Extent != int64(n-base) {
			t.Fatalf("iter %d: extent %d, want %d", iter, rs.s.Extent, n-base)
		}
		for i := base; i < n; i++ {
			b, ok := rs.bytes[int64(i-base)]
			if ok != have[i] || (ok && b != stream[i]) {
				t.Fatalf("iter %d: byte %d: delivered %v (%#x), captured %v (%#x)", iter, i, ok, b, have[i], stream[i])
			}
		}
		if len(rs.confl) != 0 {
			t.Fatalf("iter %d: conflicts %v", iter, rs.confl)
		}
	}
}

func TestZeroAllocsHotPath(t *testing.T) {
	a := New(Config{}, nopHandler{})
	f := newFeeder(a, 100, 200)
	f.handshake()
	payload := bytes.Repeat([]byte("p"), 1400)
	off := int64(0)
	data := f.seg(0, 0, ACK|PSH, "", 0)
	data.Payload, data.Length = payload, len(payload)
	ack := f.seg(1, 0, ACK, "", 0)
	// Warm up: the retention window grows to its full size.
	for i := 0; i < 200; i++ {
		data.Seq = f.isn[0] + 1 + uint32(off)
		a.Assemble(&data)
		off += int64(len(payload))
	}
	inOrder := testing.AllocsPerRun(1000, func() {
		data.Seq = f.isn[0] + 1 + uint32(off)
		data.Timestamp++
		a.Assemble(&data)
		off += int64(len(payload))
	})
	pureAck := testing.AllocsPerRun(1000, func() {
		ack.Ack = f.isn[0] + 1 + uint32(off)
		ack.Timestamp++
		ack.IPID++
		a.Assemble(&ack)
	})
	dup := testing.AllocsPerRun(1000, func() {
		data.CapturePoint = 7 // a copy from another probe
		a.Assemble(&data)
		data.CapturePoint = NoCapturePoint
	})
	if inOrder != 0 || pureAck != 0 || dup != 0 {
		t.Errorf("allocations per segment: in-order %v, pure ACK %v, duplicate %v", inOrder, pureAck, dup)
	}
}

type nopHandler struct{}

func (nopHandler) Open(*Conn)                               {}
func (nopHandler) Data(*Stream, int64, []byte, int64)       {}
func (nopHandler) Gap(*Stream, int64, int64, Reason, int64) {}
func (nopHandler) Late(*Stream, int64, []byte, int64)       {}
func (nopHandler) Conflict(*Stream, Conflict, int64)        {}
func (nopHandler) Close(*Stream, Reason, int64)             {}

// Garbage in: random flags, sequence and acknowledgment numbers near a few
// bases, lengths, SACK blocks, capture points, time going backwards, tiny
// limits. The handler protocol and the accounting must hold throughout, memory
// stay under its cap, and Close must leave nothing behind.
func TestGarbageSegments(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	iters := 120
	if testing.Short() {
		iters = 50
	}
	for iter := 0; iter < iters; iter++ {
		r := newRecorder(t)
		cfg := Config{
			MaxHeldPerStream: int64(1 + rng.IntN(3000)),
			MaxMemory:        int64(1 + rng.IntN(6000)),
			MaxConns:         1 + rng.IntN(4),
			IdleTimeout:      int64(rng.IntN(3)) * 1e6,
			ReorderWindow:    int64(rng.IntN(3)-1) * 1e3,
			ReorderBytes:     int64(1 + rng.IntN(500)),
			ConflictWindow:   int64(rng.IntN(3)-1) * 5000,
			Linger:           int64(rng.IntN(3)) * 1e5,
			Overlap:          Overlap(rng.IntN(2)),
		}
		a := New(cfg, r)
		fs := []*feeder{newFeeder(a, rng.Uint32(), rng.Uint32()), newFeeder(a, 1<<32-5, 3)}
		fs[1].key.SrcPort = 7
		bases := []uint32{0, 1<<32 - 100, rng.Uint32()}
		for i := 0; i < 400; i++ {
			f := fs[rng.IntN(len(fs))]
			d := rng.IntN(2)
			var flags uint8
			for _, fl := range []uint8{FIN, SYN, RST, PSH, ACK} {
				if rng.IntN(6) == 0 || (fl == ACK && rng.IntN(2) == 0) {
					flags |= fl
				}
			}
			n := rng.IntN(60)
			s := f.seg(d, 0, flags, string(make([]byte, n)), 0)
			for j := range s.Payload {
				s.Payload[j] = byte(rng.IntN(4))
			}
			s.Seq = bases[rng.IntN(len(bases))] + uint32(rng.IntN(400)) - 100
			s.Ack = bases[rng.IntN(len(bases))] + uint32(rng.IntN(400)) - 100
			if rng.IntN(4) == 0 {
				s.Length += rng.IntN(30)
			}
			s.NumSACK = rng.IntN(3)
			for j := 0; j < s.NumSACK; j++ {
				l := s.Ack + uint32(rng.IntN(200))
				s.SACK[j] = SACKBlock{Left: l, Right: l + uint32(rng.IntN(100))}
			}
			s.CapturePoint = int32(rng.IntN(3)) - 1
			s.Timestamp = f.ts + int64(rng.IntN(2000)) - 500
			f.ts += int64(rng.IntN(3000))
			s.Index = int64(i)
			a.Assemble(&s)
			if h := a.MemoryHeld(); h > cfg.MaxMemory || h < 0 {
				t.Fatalf("iter %d: held %d above %d", iter, h, cfg.MaxMemory)
			}
			if rng.IntN(50) == 0 {
				a.FlushOlderThan(f.ts)
			}
		}
		a.Close()
		r.allClosed()
		if a.MemoryHeld() != 0 || a.Stats().Conns != 0 || a.Stats().Retained != 0 {
			t.Fatalf("iter %d: after Close %+v", iter, a.Stats())
		}
		if t.Failed() {
			t.Fatalf("iter %d failed", iter)
		}
	}
}

// A zero-window probe carries the next real byte: it is counted and delivered
// once, and its repetitions are probes too, not retransmissions.
func TestZeroWindowProbe(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 100, 200)
	f.handshake()
	f.data(0, 0, "abc")
	zw := f.seg(1, 0, ACK, "", 3)
	zw.Window = 0
	f.send(zw)
	f.data(0, 3, "d") // the probe
	f.ts += 1e9
	f.data(0, 3, "d") // repeated while the window stays shut
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if st := rs.s.Stats; rs.text(4) != "abcd" || st.KeepAlives != 2 || st.Conflicts != 0 {
		t.Errorf("%q stats %+v", rs.text(4), st)
	}
}

// A retention window that grows must not claim bytes it had already
// overwritten: one write larger than the room left made the old window drop
// its first bytes, and after doubling they compared as zeros with their own
// retransmission (a false Conflict).
func TestRetainGrowNoFalseConflict(t *testing.T) {
	for _, batch := range []bool{false, true} {
		rec := newRecorder(t)
		a := New(Config{}, rec)
		f := newFeeder(a, 100, 5000)
		f.handshake()
		p1, p2 := strings.Repeat("a", 3000), strings.Repeat("b", 3000)
		segs := []Segment{f.seg(0, 0, ACK|PSH, p1, 0), f.seg(0, 3000, ACK|PSH, p2, 0), f.seg(0, 0, ACK|PSH, p1, 0)}
		if batch {
			a.AssembleBatch(segs)
		} else {
			for i := range segs {
				a.Assemble(&segs[i])
			}
		}
		// A retransmission with other bytes is still told apart.
		bad := f.seg(0, 4000, ACK|PSH, strings.Repeat("c", 100), 0)
		a.Assemble(&bad)
		a.Close()
		var confl []Conflict
		for _, rs := range rec.order {
			confl = append(confl, rs.confl...)
		}
		if len(confl) != 1 || confl[0].Offset != 4000 || confl[0].Length != 100 {
			t.Fatalf("batch %v: conflicts %+v, want only [4000, 4100)", batch, confl)
		}
	}
}
