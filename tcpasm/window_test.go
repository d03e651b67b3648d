package tcpasm

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// ACKs each almost 1 GiB beyond the one before (a 71 KB capture once made a
// 1000 GiB sparse file of them): none corroborates another, so none
// stretches the stream; each is dropped and counted.
func TestAckWalkDoesNotStretch(t *testing.T) {
	r := newRecorder(t)
	r.noBytes = true
	a := New(Config{}, r)
	f := newFeeder(a, 1000, 5000)
	f.handshake()
	f.data(0, 0, "0123456789")
	off := int64(10)
	for range 1000 {
		off += 1<<30 - 1
		f.ack(1, off)
	}
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if rs.s.Extent != 10 {
		t.Errorf("extent %d, want 10", rs.s.Extent)
	}
	// Every other one wraps below the frontier (an old number): ignored.
	if got := rs.s.Stats.OutOfWindow; got < 400 {
		t.Errorf("OutOfWindow %d, want about 500", got)
	}
}

// Random sequence and acknowledgment numbers in both directions of 200
// connections, 200 packets each (a capture of random numbers once made 13 TB
// of sparse files): a number lands within reach of a stream's frontier by
// chance only (4 MiB of 4 GiB), and a far one is corroborated by chance only
// (about one in 2^16 a packet), so the streams stay short.
func TestRandomSeqsDoNotStretch(t *testing.T) {
	r := newRecorder(t)
	r.noBytes = true
	a := New(Config{}, r)
	rng := rand.New(rand.NewPCG(1, 2))
	const conns, n = 200, 200
	for c := range conns {
		f := newFeeder(a, rng.Uint32(), rng.Uint32())
		f.key.SrcPort = uint16(1000 + c)
		f.handshake()
		for range n {
			d := rng.IntN(2)
			s := f.seg(d, 0, ACK, "0123456789"[:rng.IntN(11)], 0)
			s.Seq, s.Ack = rng.Uint32(), rng.Uint32()
			f.send(s)
		}
	}
	a.Close()
	r.allClosed()
	var total, most, oow int64
	for _, rs := range r.order {
		total += rs.s.Extent
		most = max(most, rs.s.Extent)
		oow += rs.s.Stats.OutOfWindow
	}
	t.Logf("%d streams: extents total %d, largest %d; %d out of window", len(r.order), total, most, oow)
	if total > 1<<30 || most > 64<<20 {
		t.Errorf("random numbers stretched the streams to %d bytes in all, %d the largest", total, most)
	}
}

// A capture that missed 100 MiB of a stream: the first packet after the
// loss is suspect, the next one (or the peer's ACK) corroborates it, and
// both are delivered at their offsets.
func TestFarJumpCorroborated(t *testing.T) {
	for _, byAck := range []bool{false, true} {
		r := newRecorder(t)
		a := New(Config{}, r)
		f := newFeeder(a, 1000, 5000)
		f.handshake()
		f.data(0, 0, "abc")
		far := int64(100 << 20)
		f.data(0, far, "def")
		if byAck {
			f.ack(1, far+3)
		} else {
			f.data(0, far+3, "ghi")
		}
		a.Close()
		r.allClosed()
		rs := r.stream(0, ClientToServer)
		want := far + 3
		if !byAck {
			want += 3
		}
		if rs.s.Extent != want || rs.s.Stats.OutOfWindow != 0 {
			t.Errorf("byAck %v: extent %d (want %d), out of window %d", byAck, rs.s.Extent, want, rs.s.Stats.OutOfWindow)
		}
		if got := string([]byte{rs.bytes[far], rs.bytes[far+1], rs.bytes[far+2]}); got != "def" {
			t.Errorf("byAck %v: bytes at %d: %q", byAck, far, got)
		}
	}
}

// A capture that saw only the receiver's ACKs after a blackout of 100 MiB:
// the first far ACK is suspect, the two after it (each a little further)
// corroborate it.
func TestFarAckChainCorroborated(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFeeder(a, 1000, 5000)
	f.handshake()
	f.data(0, 0, "abc")
	far := int64(100 << 20)
	f.ack(1, far)
	f.ack(1, far+1000)
	if e := r.stream(0, ClientToServer).s.Extent; e != 3 {
		t.Errorf("extent %d after two far ACKs, want 3", e)
	}
	f.ack(1, far+3000)
	a.Close()
	r.allClosed()
	rs := r.stream(0, ClientToServer)
	if rs.s.Extent != far+3000 || rs.s.Stats.OutOfWindow != 0 {
		t.Errorf("extent %d (want %d), out of window %d", rs.s.Extent, far+3000, rs.s.Stats.OutOfWindow)
	}
}

// A sparse capture of a stream of several laps: each captured step is below
// 2^31 but far beyond the plausibility distance, announced by the peer's ACK
// (ACK first, then data at it) or corroborated by it (data first, then the
// ACK of its start or of its FIN). Offsets stay exact over every lap.
func TestSparseLaps(t *testing.T) {
	for _, ackFirst := range []bool{true, false} {
		r := newRecorder(t)
		a := New(Config{}, r)
		f := newFeeder(a, 1000, 4294967000)
		f.handshake()
		off := int64(0)
		f.data(1, off, "start")
		steps := []int64{1_900_000_000, 2_000_000_000, 1_500_000_000, 2_100_000_000, 1_999_999_999}
		for i, st := range steps {
			off += st
			if ackFirst {
				f.ack(0, off)
				f.data(1, off, "x")
			} else {
				fl := uint8(ACK | PSH)
				if i == len(steps)-1 {
					fl |= FIN
				}
				f.send(f.seg(1, off, fl, "x", 0))
				if i == len(steps)-1 {
					f.ack(0, off+2)
				} else {
					f.ack(0, off)
				}
			}
		}
		a.Close()
		r.allClosed()
		rs := r.stream(0, ServerToClient)
		if rs.s.Extent != off+1 || rs.s.Stats.OutOfWindow != 0 || rs.s.Stats.LateBytes != 0 || rs.s.Stats.Conflicts != 0 {
			t.Errorf("ackFirst %v: extent %d (want %d), out of window %d, late %d, conflicts %d", ackFirst,
				rs.s.Extent, off+1, rs.s.Stats.OutOfWindow, rs.s.Stats.LateBytes, rs.s.Stats.Conflicts)
		}
		if rs.s.Stats.Bytes != 5+int64(len(steps)) {
			t.Errorf("ackFirst %v: %d bytes delivered, want %d", ackFirst, rs.s.Stats.Bytes, 5+len(steps))
		}
	}
}

// The distance at which evidence becomes suspect follows the receiver's
// window (RFC 7323): twice the largest window it advertised, scaled by the
// shift both SYNs agreed on, at least 64 KiB (the largest window without
// scaling) and at most 1 GiB (the largest with it); without the handshake,
// four times what the capture saw in flight, from 64 KiB up to 4 MiB. The
// server's ACK lies `far` beyond the client's 10 bytes; with nothing to
// corroborate it, it is believed (the stream reaches it) or dropped.
func TestWindowReach(t *testing.T) {
	const none = -1
	cases := []struct {
		name            string
		synWS, synAckWS int    // window scale options; none: absent
		window          uint16 // the server's advertised window (raw)
		far             int64
		believed        bool
	}{
		{"shift 7, within", 7, 7, 8000, 1_900_000, true},     // reach 2 × 8000<<7 = 2,048,000
		{"shift 7, beyond", 7, 7, 8000, 2_100_000, false},    //
		{"shift 14 capped", 14, 14, 65535, 1<<30 - 20, true}, // 2 GiB capped at 1 GiB
		{"shift 14, beyond 1 GiB", 14, 14, 65535, 1<<30 + 100, false},
		{"shift 20 is 14", 20, 20, 65535, 1<<30 - 20, true},
		{"no option on the SYN", none, 7, 65535, 140_000, false}, // unscaled: 2 × 65535
		{"no option on the SYN-ACK", 7, none, 65535, 120_000, true},
		{"no option, small window", none, none, 1000, 70_000, false}, // the 64 KiB floor
		{"no option, within the floor", none, none, 1000, 60_000, true},
	}
	mid := []struct {
		name     string
		inflight int64
		far      int64
		believed bool
	}{
		{"mid-stream, little in flight", 0, 70_000, false},
		{"mid-stream, little in flight, within", 0, 60_000, true},
		{"mid-stream, 600 KB in flight", 600_000, 2_300_000, true}, // 4 × 600,010
		{"mid-stream, 600 KB in flight, beyond", 600_000, 2_500_000, false},
		{"mid-stream, 2 MB in flight", 2_000_000, 4<<20 - 100, true}, // capped at 4 MiB
		{"mid-stream, 2 MB in flight, beyond", 2_000_000, 4<<20 + 100, false},
	}
	run := func(name string, setup func(f *feeder), from, far int64, believed bool) {
		t.Helper()
		r := newRecorder(t)
		r.noBytes = true
		a := New(Config{}, r)
		f := newFeeder(a, 1000, 5000)
		setup(f)
		f.ack(1, from+far)
		a.Close()
		r.allClosed()
		rs := r.stream(0, ClientToServer)
		want, oow := from, int64(1)
		if believed {
			want, oow = from+far, 0
		}
		if rs.s.Extent != want || rs.s.Stats.OutOfWindow != oow {
			t.Errorf("%s: extent %d, out of window %d; want %d, %d", name, rs.s.Extent, rs.s.Stats.OutOfWindow, want, oow)
		}
	}
	for _, c := range cases {
		run(c.name, func(f *feeder) {
			syn := f.seg(0, -1, SYN, "", 0)
			sa := f.seg(1, -1, SYN|ACK, "", 0)
			syn.Window, sa.Window = 64240, c.window
			if c.synWS != none {
				syn.WindowScale, syn.HasWindowScale = uint8(c.synWS), true
			}
			if c.synAckWS != none {
				sa.WindowScale, sa.HasWindowScale = uint8(c.synAckWS), true
			}
			f.send(syn)
			f.send(sa)
			f.send(f.seg(0, 0, ACK, "", 0))
			d := f.seg(0, 0, ACK|PSH, "0123456789", 0)
			f.send(d)
			ack := f.seg(1, 0, ACK, "", 10)
			ack.Window = c.window
			f.send(ack)
		}, 10, c.far, c.believed)
	}
	for _, c := range mid {
		run(c.name, func(f *feeder) {
			f.data(0, 0, "0123456789") // the client's base
			if c.inflight > 0 {
				f.data(0, 10+c.inflight-1, "x") // corroborated by the next ACK
				f.ack(1, 10+c.inflight-1)
			}
			f.ack(1, 10)
		}, 10+c.inflight, c.far, c.believed)
	}
}

// A segment the capture took before segmentation (GSO, BIG TCP: tcpdump's
// bigtcp-ipv4.pcap holds one of 80,000 bytes) may be longer than the reach:
// starting at the stream's frontier it is believed, mid-stream or after a
// handshake that advertised a small window.
func TestWindowBigSegment(t *testing.T) {
	big := strings.Repeat("b", 200_000)
	for _, handshake := range []bool{false, true} {
		r := newRecorder(t)
		a := New(Config{}, r)
		f := newFeeder(a, 1000, 5000)
		if handshake {
			f.handshake()
		}
		f.data(0, 0, big)
		a.Close()
		r.allClosed()
		rs := r.stream(0, ClientToServer)
		if rs.s.Extent != int64(len(big)) || rs.s.Stats.Bytes != int64(len(big)) || rs.s.Stats.OutOfWindow != 0 {
			t.Errorf("handshake %v: extent %d, bytes %d, out of window %d; want %d, %d, 0", handshake,
				rs.s.Extent, rs.s.Stats.Bytes, rs.s.Stats.OutOfWindow, len(big), len(big))
		}
	}
}
