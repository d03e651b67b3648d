package ipfrag

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/reseq/reseq/layers"
)

// v4hdr is an IPv4 header with optLen bytes of options (a multiple of 4).
func v4hdr(id uint16, proto, src uint8, optLen int) []byte {
	h := make([]byte, 20+optLen)
	h[0] = 0x40 | uint8(len(h)/4)
	binary.BigEndian.PutUint16(h[4:], id)
	h[8], h[9] = 64, proto
	copy(h[12:], []byte{10, 0, 0, src, 10, 0, 0, 99})
	for i := 20; i < len(h); i++ {
		h[i] = 1 // NOP options
	}
	return h
}

// v6hdr is an IPv6 header with a destination options header of extLen bytes
// (0 or a multiple of 8) and a Fragment header.
func v6hdr(id uint32, nh, src uint8, extLen int) []byte {
	h := make([]byte, 40+extLen+8)
	h[0] = 0x60
	h[6], h[7] = layers.IPProtoFragment, 64
	h[23], h[39] = src, 99
	if extLen > 0 {
		h[6] = layers.IPProtoDstOpts
		h[40], h[41] = layers.IPProtoFragment, uint8(extLen/8-1)
	}
	fh := h[len(h)-8:]
	fh[0] = nh
	binary.BigEndian.PutUint32(fh[4:], id)
	return h
}

// mk is a fragment of hdr for payload[off:off+n], its header fields set as on
// the wire.
func mk(hdr []byte, off, n int, more bool, payload []byte) *Fragment {
	h := bytes.Clone(hdr)
	v6 := h[0]>>4 == 6
	f := &Fragment{V6: v6, Header: h, Offset: off, More: more, Data: payload[off : off+n], Length: n}
	if v6 {
		fh := h[len(h)-8:]
		field := uint16(off)
		if more {
			field |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], field)
		binary.BigEndian.PutUint16(h[4:], uint16(len(h)-40+n))
		f.ID, f.Protocol = binary.BigEndian.Uint32(fh[4:]), fh[0]
	} else {
		field := uint16(off / 8)
		if more {
			field |= 0x2000
		}
		binary.BigEndian.PutUint16(h[6:], field)
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)+n))
		f.ID, f.Protocol = uint32(binary.BigEndian.Uint16(h[4:])), h[9]
	}
	return f
}

// split cuts payload into fragments of size bytes (a multiple of 8).
func split(hdr, payload []byte, size int) []*Fragment {
	var fs []*Fragment
	for off := 0; off < len(payload) || off == 0; off += size {
		n := min(size, len(payload)-off)
		fs = append(fs, mk(hdr, off, n, off+n < len(payload), payload))
	}
	return fs
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7+i/251)
	}
	return b
}

// got is a copy of a datagram Next returned.
type got struct {
	complete  bool
	v6        bool
	ip        []byte
	runs      []Run
	ts, index int64
}

// drain copies out every ready datagram and releases its buffer poisoned.
func drain(r *Reassembler) []got {
	var out []got
	var d Datagram
	for r.Next(&d) {
		g := got{complete: d.Complete, v6: d.V6, ip: bytes.Clone(d.IP), ts: d.Timestamp, index: d.Index}
		for _, run := range d.Runs {
			g.runs = append(g.runs, Run{Offset: run.Offset, Data: bytes.Clone(run.Data)})
		}
		release(r, d.Buf)
		out = append(out, g)
	}
	return out
}

// release poisons a buffer and gives it back.
func release(r *Reassembler, b *Buffer) {
	for i := range b.b {
		b.b[i] = 0xEE
	}
	r.Release(b)
}

// payloadOf checks a complete datagram's header and returns its payload.
func payloadOf(t *testing.T, g got, hdrLen int) []byte {
	t.Helper()
	if !g.complete {
		t.Fatalf("datagram not complete")
	}
	h := g.ip[:hdrLen]
	if g.v6 {
		if pl := int(binary.BigEndian.Uint16(h[4:])); pl != len(g.ip)-40 {
			t.Errorf("payload length %d, datagram %d bytes", pl, len(g.ip))
		}
		if field := binary.BigEndian.Uint16(h[hdrLen-6:]); field&^6 != 0 {
			t.Errorf("fragment field %#x not atomic", field)
		}
	} else {
		ip := layers.IPv4(h)
		if int(ip.TotalLength()) != len(g.ip) || ip.MoreFragments() || ip.FragmentOffset() != 0 || !ip.ChecksumValid() {
			t.Errorf("header: total %d of %d, MF %v, offset %d, checksum ok %v",
				ip.TotalLength(), len(g.ip), ip.MoreFragments(), ip.FragmentOffset(), ip.ChecksumValid())
		}
	}
	return g.ip[hdrLen:]
}

func TestIPFragOrders(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, tc := range []struct {
			name  string
			order func(n int) []int
		}{
			{"in order", func(n int) []int { return seq(n, false) }},
			{"reversed", func(n int) []int { return seq(n, true) }},
			{"middle first", func(n int) []int {
				o := seq(n, false)
				o[0], o[n/2] = o[n/2], o[0]
				return o
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				hdr, hl := v4hdr(7, 6, 1, 8), 28
				if v6 {
					hdr, hl = v6hdr(7, 6, 1, 16), 64
				}
				payload := pattern(5000, 3)
				fs := split(hdr, payload, 1480)
				r := New(Config{})
				for i, j := range tc.order(len(fs)) {
					fs[j].Timestamp, fs[j].Index = int64(i+1), int64(i+1)
					r.Add(fs[j])
					if out := drain(r); i < len(fs)-1 && len(out) != 0 {
						t.Fatalf("ready after %d of %d fragments", i+1, len(fs))
					} else if i == len(fs)-1 {
						if len(out) != 1 {
							t.Fatalf("%d datagrams", len(out))
						}
						if !bytes.Equal(payloadOf(t, out[0], hl), payload) {
							t.Fatal("payload differs")
						}
						if out[0].ts != int64(len(fs)) || out[0].index != fs[0].Index {
							t.Errorf("ts %d index %d", out[0].ts, out[0].index)
						}
					}
				}
				if s := r.Stats(); s.Datagrams != 1 || s.BytesHeld != 0 || s.Pending != 0 || s.Malformed != 0 {
					t.Errorf("stats %+v", s)
				}
			})
		}
	}
}

func seq(n int, rev bool) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
		if rev {
			o[i] = n - 1 - i
		}
	}
	return o
}

func TestIPFragInterleaved(t *testing.T) {
	r := New(Config{})
	pa, pb := pattern(3000, 1), pattern(3000, 2)
	ha, hb := v4hdr(1, 17, 1, 0), v4hdr(1, 17, 2, 0) // same ID, other source
	hc := v4hdr(1, 6, 1, 0)                          // same ID and source, other protocol
	fa, fb, fc := split(ha, pa, 1000), split(hb, pb, 1000), split(hc, pb, 1000)
	vlan := layers.Encap{NumVLANs: 1}
	for _, f := range fc {
		f.Encap = &vlan
	}
	fd := split(hc, pa, 1000) // same as fc but no VLAN
	for i := range fa {
		r.Add(fa[i])
		r.Add(fb[i])
		r.Add(fc[i])
		r.Add(fd[i])
	}
	out := drain(r)
	if len(out) != 4 {
		t.Fatalf("%d datagrams", len(out))
	}
	for i, want := range [][]byte{pa, pb, pb, pa} {
		if !bytes.Equal(payloadOf(t, out[i], 20), want) {
			t.Errorf("datagram %d differs", i)
		}
	}
}

func TestIPFragDuplicates(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		hdr, hl := v4hdr(9, 17, 1, 0), 20
		if v6 {
			hdr, hl = v6hdr(9, 17, 1, 0), 48
		}
		payload := pattern(2000, 5)
		fs := split(hdr, payload, 1000)
		r := New(Config{})
		r.Add(fs[0])
		r.Add(fs[0])
		r.Add(fs[1])
		out := drain(r)
		if len(out) != 1 || !bytes.Equal(payloadOf(t, out[0], hl), payload) {
			t.Fatalf("v6 %v: %d datagrams", v6, len(out))
		}
		if s := r.Stats(); s.Duplicates != 1 || s.Overlaps != 0 || s.Discarded != 0 {
			t.Errorf("v6 %v: stats %+v", v6, s)
		}
	}
}

// IPv4: an overlap with the same bytes only fills holes; one with other bytes
// is identification reuse: the pending datagram is delivered partial with its
// own bytes and the fragment starts a new datagram.
func TestIPFragOverlapV4(t *testing.T) {
	hdr := v4hdr(3, 17, 1, 0)
	a, b := bytes.Repeat([]byte("A"), 32), bytes.Repeat([]byte("B"), 32)
	r := New(Config{})
	r.Add(mk(hdr, 8, 16, true, a)) // A at [8,24)
	r.Add(mk(hdr, 0, 24, true, b)) // B conflicts: A's datagram ends
	out := drain(r)
	if len(out) != 1 || out[0].complete || out[0].ip != nil || len(out[0].runs) != 1 ||
		out[0].runs[0].Offset != 8 || !bytes.Equal(out[0].runs[0].Data, a[8:24]) {
		t.Fatalf("first datagram %+v", out)
	}
	r.Add(mk(hdr, 16, 16, false, b)) // B's own datagram: overlaps B, equal bytes
	out = drain(r)
	if len(out) != 1 || !bytes.Equal(payloadOf(t, out[0], 20), b) {
		t.Fatalf("second datagram %+v", out)
	}
	if s := r.Stats(); s.Reused != 1 || s.Partial != 1 || s.Overlaps != 1 || s.OverlapConflicts != 0 || s.Duplicates != 0 {
		t.Errorf("stats %+v", s)
	}
	// Same bytes: an overlap without conflict.
	r.Add(mk(hdr, 0, 16, true, a))
	r.Add(mk(hdr, 8, 24, false, a))
	if out := drain(r); len(out) != 1 || !bytes.Equal(payloadOf(t, out[0], 20), a) {
		t.Fatal("overlap of equal bytes")
	}
	if s := r.Stats(); s.Overlaps != 2 || s.Reused != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestIPFragOverlapV6Discards(t *testing.T) {
	hdr := v6hdr(3, 17, 1, 0)
	p := pattern(32, 1)
	r := New(Config{Timeout: 100})
	r.Add(mk(hdr, 0, 16, true, p))
	f := mk(hdr, 8, 16, true, p)
	f.Timestamp = 50
	r.Add(f)
	if s := r.Stats(); s.Discarded != 1 || s.Overlaps != 1 || s.BytesHeld != TombstoneBytes || s.Pending != 1 {
		t.Fatalf("stats %+v", s)
	}
	r.Add(mk(hdr, 16, 16, false, p))
	r.Add(mk(hdr, 0, 16, true, p))
	if s := r.Stats(); s.AfterDiscard != 2 {
		t.Errorf("stats %+v", s)
	}
	if r.Deadline() != 100 {
		t.Errorf("deadline %d", r.Deadline())
	}
	r.Expire(100)
	if out := drain(r); len(out) != 0 {
		t.Fatalf("discarded datagram delivered")
	}
	if s := r.Stats(); s.BytesHeld != 0 || s.Pending != 0 || s.Partial != 0 {
		t.Errorf("stats %+v", s)
	}
	// After the tombstone, the identity starts afresh.
	r.Add(mk(hdr, 0, 16, true, p))
	r.Add(mk(hdr, 16, 16, false, p))
	if out := drain(r); len(out) != 1 || !bytes.Equal(payloadOf(t, out[0], 48), p) {
		t.Fatal("not reassembled after the tombstone")
	}
}

func TestIPFragTruncated(t *testing.T) {
	hdr := v4hdr(4, 17, 1, 0)
	p := pattern(48, 1)
	r := New(Config{})
	f := mk(hdr, 0, 16, true, p)
	f.Data = f.Data[:10] // the snaplen cut 6 bytes
	r.Add(f)
	r.Add(mk(hdr, 16, 16, true, p))
	if out := drain(r); len(out) != 0 {
		t.Fatal("a datagram made ready early")
	}
	// The last fragment: every byte claimed, some not captured: it can
	// never complete, and is ready at once.
	r.Add(mk(hdr, 32, 16, false, p))
	var d Datagram
	if !r.Next(&d) || d.Complete || d.Length != 48 || d.Cut0 != 6 || len(d.Runs) != 1 || d.Runs[0].Cut != 0 {
		t.Fatalf("datagram %+v", d)
	}
	if !bytes.Equal(d.IP[20:], p[:10]) || binary.BigEndian.Uint16(d.IP[2:]) != 30 || !layers.IPv4(d.IP[:20]).ChecksumValid() {
		t.Errorf("IP % x", d.IP)
	}
	if d.Runs[0].Offset != 16 || !bytes.Equal(d.Runs[0].Data, p[16:]) {
		t.Errorf("runs %v", d.Runs)
	}
	r.Release(d.Buf)
	if s := r.Stats(); s.Truncated != 1 || s.Partial != 1 || s.Pending != 0 {
		t.Errorf("stats %+v", s)
	}
	// A duplicate with the whole fragment, before the end is known, fills
	// the hole.
	r.Add(f)
	r.Add(mk(hdr, 0, 16, true, p))
	r.Add(mk(hdr, 16, 32, false, p))
	if out := drain(r); len(out) != 1 || !bytes.Equal(payloadOf(t, out[0], 20), p) {
		t.Fatal("hole not filled by a duplicate")
	}
	if s := r.Stats(); s.Duplicates != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestIPFragCut: Cut tells claimed-but-cut bytes from unclaimed ones, and
// Length is -1 without the last fragment.
func TestIPFragCut(t *testing.T) {
	hdr := v4hdr(5, 17, 1, 0)
	p := pattern(80, 1)
	r := New(Config{})
	cut := func(off, n, keep int, more bool) *Fragment {
		f := mk(hdr, off, n, more, p)
		f.Data = f.Data[:keep]
		return f
	}
	r.Add(cut(0, 16, 16, true))  // [0,16) whole
	r.Add(cut(16, 16, 4, true))  // [16,20) held, [20,32) cut
	r.Add(cut(48, 16, 16, true)) // [32,48) lost; [48,64) whole
	r.Add(cut(64, 8, 0, true))   // [64,72) all cut
	r.Flush()
	var d Datagram
	if !r.Next(&d) || d.Complete || d.Length != -1 || len(d.IP) != 20+20 || d.Cut0 != 12 {
		t.Fatalf("datagram: %d IP bytes, cut0 %d, length %d", len(d.IP), d.Cut0, d.Length)
	}
	if len(d.Runs) != 1 || d.Runs[0].Offset != 48 || len(d.Runs[0].Data) != 16 || d.Runs[0].Cut != 8 {
		t.Fatalf("runs %+v", d.Runs)
	}
	r.Release(d.Buf)
}

func TestIPFragExpire(t *testing.T) {
	hdr := v4hdr(5, 17, 1, 0)
	p := pattern(64, 1)
	r := New(Config{Timeout: 1000})
	if r.Deadline() != math.MaxInt64 {
		t.Fatal("deadline with nothing pending")
	}
	f := mk(hdr, 16, 16, true, p) // no first fragment: IP nil
	f.Timestamp, f.Index = 500, 7
	r.Add(f)
	g := mk(v4hdr(6, 17, 1, 0), 0, 16, true, p)
	g.Timestamp = 200 // time went backwards: expires first
	r.Add(g)
	if r.Deadline() != 1200 {
		t.Fatalf("deadline %d", r.Deadline())
	}
	r.Expire(1199)
	if out := drain(r); len(out) != 0 {
		t.Fatal("expired early")
	}
	r.Expire(1500)
	out := drain(r)
	if len(out) != 2 || out[0].ts != 1500 || len(out[0].ip) != 36 || out[0].runs != nil {
		t.Fatalf("%+v", out)
	}
	if out[1].ip != nil || out[1].index != 7 || len(out[1].runs) != 1 || out[1].runs[0].Offset != 16 {
		t.Fatalf("%+v", out[1])
	}
	if s := r.Stats(); s.TimedOut != 2 || s.Partial != 2 || s.BytesHeld != 0 {
		t.Errorf("stats %+v", s)
	}
	// Never expires.
	r = New(Config{Timeout: -1})
	r.Add(f)
	if r.Deadline() != math.MaxInt64 {
		t.Error("negative timeout expires")
	}
}

func TestIPFragFlush(t *testing.T) {
	r := New(Config{})
	p := pattern(64, 1)
	for i := range 3 {
		f := mk(v4hdr(uint16(i), 17, 1, 0), 0, 16, true, p)
		f.Timestamp = int64(10 * i)
		r.Add(f)
	}
	r.Flush()
	out := drain(r)
	if len(out) != 3 || out[2].ts != 20 {
		t.Fatalf("%+v", out)
	}
	if s := r.Stats(); s.Partial != 3 || s.TimedOut != 0 || s.Pending != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestIPFragEvict(t *testing.T) {
	r := New(Config{MaxBytes: 2 * BufferBytes})
	p := pattern(64, 1)
	for i := range 3 {
		f := mk(v4hdr(uint16(i), 17, 1, 0), 0, 16, true, p)
		f.Timestamp, f.Index = int64(10*i), int64(i)
		r.Add(f)
	}
	out := drain(r)
	if len(out) != 1 || out[0].index != 0 || out[0].ts != 20 || out[0].complete {
		t.Fatalf("%+v", out)
	}
	if s := r.Stats(); s.Evicted != 1 || s.BytesHeld != 2*BufferBytes || s.PeakBytes != 2*BufferBytes {
		t.Errorf("stats %+v", s)
	}
}

func TestIPFragMalformed(t *testing.T) {
	p := pattern(70000, 1)
	h4, h6 := v4hdr(1, 17, 1, 0), v6hdr(1, 17, 1, 0)
	for _, tc := range []struct {
		name  string
		frags []*Fragment
		mal   int64
		disc  int64
		ok    bool // the datagram of the first and last fragments completes
	}{
		{"unaligned offset", []*Fragment{mk(h4, 0, 16, true, p), func() *Fragment { f := mk(h4, 16, 8, false, p); f.Offset = 12; return f }(), mk(h4, 16, 8, false, p)}, 1, 0, true},
		{"odd more", []*Fragment{mk(h4, 0, 16, true, p), mk(h4, 16, 9, true, p), mk(h4, 16, 8, false, p)}, 1, 0, true},
		{"empty more", []*Fragment{mk(h4, 0, 16, true, p), mk(h4, 16, 0, true, p), mk(h4, 16, 8, false, p)}, 1, 0, true},
		{"short Length", []*Fragment{func() *Fragment { f := mk(h4, 0, 16, true, p); f.Length = 8; return f }(), mk(h4, 0, 16, true, p), mk(h4, 16, 8, false, p)}, 1, 0, true},
		{"bad header", []*Fragment{func() *Fragment { f := mk(h4, 0, 16, true, p); f.Header = f.Header[:19]; return f }(), mk(h4, 0, 16, true, p), mk(h4, 16, 8, false, p)}, 1, 0, true},
		// IPv4: another end is identification reuse (TestIPFragIDReuseEnd).
		{"v4 past last", []*Fragment{mk(h4, 16, 8, false, p), mk(h4, 16, 16, true, p), mk(h4, 0, 16, true, p)}, 0, 0, false},
		{"v4 second last", []*Fragment{mk(h4, 16, 8, false, p), mk(h4, 24, 8, false, p), mk(h4, 0, 16, true, p)}, 0, 0, false},
		{"v6 past last", []*Fragment{mk(h6, 16, 8, false, p), mk(h6, 16, 16, true, p), mk(h6, 0, 16, true, p)}, 1, 1, false},
		{"v6 last before held", []*Fragment{mk(h6, 16, 16, true, p), mk(h6, 16, 8, false, p)}, 1, 1, false},
		{"v4 too long", []*Fragment{mk(h4, 0, 16, true, p), mk(h4, 65512, 8, false, p), mk(h4, 16, 8, false, p)}, 1, 0, true},
		{"v4 fits", []*Fragment{mk(h4, 0, 65512, true, p), mk(h4, 65512, 3, false, p)}, 0, 0, true},
		{"v6 fits", []*Fragment{mk(h6, 0, 65520, true, p), mk(h6, 65520, 7, false, p)}, 0, 0, true},
		{"v6 too long", []*Fragment{mk(h6, 0, 65520, true, p), mk(h6, 65520, 8, false, p)}, 1, 0, false},
		{"header too long for the end", []*Fragment{mk(h4, 65512, 3, false, p), mk(v4hdr(1, 17, 1, 4), 0, 65512, true, p)}, 1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Config{})
			for _, f := range tc.frags {
				if f != nil {
					r.Add(f)
				}
			}
			out := drain(r)
			if ok := len(out) == 1 && out[0].complete; ok != tc.ok {
				t.Errorf("completed %v", ok)
			}
			if s := r.Stats(); s.Malformed != tc.mal || s.Discarded != tc.disc {
				t.Errorf("stats %+v", s)
			}
			r.Flush()
			drain(r)
		})
	}
}

func TestIPFragTooManyFragments(t *testing.T) {
	hdr := v4hdr(1, 17, 1, 0)
	p := pattern(16*(MaxFragments+2), 1)
	r := New(Config{})
	for i := range MaxFragments + 1 {
		r.Add(mk(hdr, 16*i, 8, true, p)) // every other 8 bytes: never contiguous
	}
	if s := r.Stats(); s.Malformed != 1 {
		t.Errorf("stats %+v", s)
	}
	r.Flush()
	out := drain(r)
	if len(out) != 1 || len(out[0].runs) != MaxFragments-1 || len(out[0].ip) != 28 {
		t.Fatalf("%d datagrams", len(out))
	}
}

// Buffers are reused after Release, and a datagram still held is not touched
// by later ones.
func TestIPFragReuse(t *testing.T) {
	r := New(Config{})
	pa, pb, pc := pattern(3000, 1), pattern(3000, 2), pattern(3000, 3)
	add := func(id uint16, p []byte) Datagram {
		for _, f := range split(v4hdr(id, 17, 1, 0), p, 1480) {
			r.Add(f)
		}
		var d Datagram
		if !r.Next(&d) || !d.Complete {
			t.Fatal("no datagram")
		}
		return d
	}
	da := add(1, pa)
	db := add(2, pb)
	if da.Buf == db.Buf || !bytes.Equal(da.IP[20:], pa) {
		t.Fatal("datagram a overwritten")
	}
	release(r, da.Buf)
	dc := add(3, pc)
	if dc.Buf != da.Buf {
		t.Error("buffer not reused")
	}
	if !bytes.Equal(dc.IP[20:], pc) || !bytes.Equal(db.IP[20:], pb) {
		t.Fatal("bytes differ after reuse")
	}
	r.Release(da.Buf) // already released: nothing
	release(r, db.Buf)
	release(r, dc.Buf)
	if len(r.freeBufs) != 2 {
		t.Errorf("%d free buffers", len(r.freeBufs))
	}
}

func TestIPFragAllocs(t *testing.T) {
	for _, n := range []int{2, 45} {
		r := New(Config{})
		payload := pattern(1480*n, 1)
		var fs [][]*Fragment
		for id := range 4 {
			fs = append(fs, split(v4hdr(uint16(id), 17, 1, 0), payload, 1480))
		}
		i := 0
		var d Datagram
		run := func() {
			for _, f := range fs[i%4] {
				r.Add(f)
			}
			for r.Next(&d) {
				r.Release(d.Buf)
			}
			r.Expire(0)
			i++
		}
		for range 10 {
			run()
		}
		if a := testing.AllocsPerRun(100, run); a != 0 {
			t.Errorf("%d fragments: %v allocs per datagram", n, a)
		}
		// Partial datagrams too.
		partial := func() {
			r.Add(fs[i%4][0])
			r.Flush()
			for r.Next(&d) {
				r.Release(d.Buf)
			}
			i++
		}
		for range 10 {
			partial()
		}
		if a := testing.AllocsPerRun(100, partial); a != 0 {
			t.Errorf("partial: %v allocs", a)
		}
	}
}

// A duplicate with the same captured bytes fills the snaplen's hole in the
// first copy, and those bytes then win; a duplicate with other bytes is
// identification reuse.
func TestIPFragDuplicateFills(t *testing.T) {
	hdr := v4hdr(8, 17, 1, 0)
	ab := []byte("AAAABBBBBBBBBBBBCCCCCCCC")
	r := New(Config{})
	f := mk(hdr, 0, 16, true, ab)
	f.Data = f.Data[:4]
	r.Add(f)
	r.Add(mk(hdr, 0, 16, true, ab))
	r.Add(mk(hdr, 16, 8, false, ab))
	out := drain(r)
	if len(out) != 1 || !bytes.Equal(payloadOf(t, out[0], 20), ab) {
		t.Fatalf("%d datagrams", len(out))
	}
	if s := r.Stats(); s.Duplicates != 1 || s.Overlaps != 0 || s.Reused != 0 {
		t.Errorf("stats %+v", s)
	}
	r.Add(f)
	r.Add(mk(hdr, 0, 16, true, bytes.Repeat([]byte("D"), 16)))
	out = drain(r)
	if len(out) != 1 || out[0].complete || !bytes.Equal(out[0].ip[20:], ab[:4]) {
		t.Fatalf("%+v", out)
	}
	if s := r.Stats(); s.Duplicates != 1 || s.Reused != 1 {
		t.Errorf("stats %+v", s)
	}
}

// pureOf reports which of the payloads every byte of g came from: 1 or 2, 0
// for a mix (or a byte of neither).
func pureOf(g got, hl int, p1, p2 []byte) int {
	from := 3
	check := func(off int, b []byte) {
		for i, x := range b {
			m := 0
			if x == p1[off+i] {
				m |= 1
			}
			if off+i < len(p2) && x == p2[off+i] {
				m |= 2
			}
			from &= m
		}
	}
	if g.ip != nil {
		check(0, g.ip[hl:])
	}
	for _, run := range g.runs {
		check(run.Offset, run.Data)
	}
	return from
}

// TestIPFragIDReuse: a datagram lost one fragment (its first, a middle one,
// its last) and a later datagram reuses its identification, whole, in order
// or shuffled, cut as the old one or otherwise, right after it or after other
// fragments of the same addresses. A complete mix is possible only when
// fragments of the new datagram fill the old one's hole before any of its
// fragments conflicts (the limit of the rules): cut as the old one, the old
// datagram then completes (so the TCP checksum can catch it). A partial
// datagram never mixes: the pieces that arrived after the old ones go to the
// new datagram when a gap in arrival tells them apart (it completes), else
// they are dropped.
func TestIPFragIDReuse(t *testing.T) {
	p1, p2 := pattern(2000, 1), pattern(2000, 101)
	hdr := v4hdr(77, 6, 1, 0)
	orders := map[string]func(n int) []int{
		"in order": func(n int) []int { return seq(n, false) },
		"reversed": func(n int) []int { return seq(n, true) },
		"rotated":  func(n int) []int { o := seq(n, false); return append(o[1:], o[0]) },
		"swapped":  func(n int) []int { o := seq(n, false); o[0], o[n-1] = o[n-1], o[0]; return o },
	}
	for _, gap := range []int{0, 3} {
		for _, miss := range []int{0, 1, 3} {
			for _, cut := range []int{552, 1480, 256} {
				for name, order := range orders {
					r := New(Config{})
					old := split(hdr, p1, 552)
					for i, f := range old {
						if i != miss {
							r.Add(f)
						}
					}
					for i := range gap {
						// Unfragmented datagrams between the same hosts.
						r.Add(mk(v4hdr(uint16(1000+i), 6, 1, 0), 0, 8, false, p1))
					}
					nw := split(hdr, p2, cut)
					for _, i := range order(len(nw)) {
						r.Add(nw[i])
					}
					r.Flush()
					out := drain(r)
					mixed, complete2 := false, false
					for _, g := range out {
						if g.ip != nil && binary.BigEndian.Uint16(g.ip[4:]) != 77 {
							continue
						}
						from := pureOf(g, 20, p1, p2)
						if from == 0 {
							mixed = true
							if !g.complete {
								t.Errorf("gap %d miss %d cut %d %s: a partial datagram mixes the two", gap, miss, cut, name)
							}
						}
						complete2 = complete2 || from == 2 && g.complete
					}
					s := r.Stats()
					if !mixed && !complete2 && (gap > 0 || s.Dropped == 0) {
						t.Errorf("gap %d miss %d cut %d %s: the new datagram did not complete; %+v", gap, miss, cut, name, s)
					}
					// With other cuts every fragment of the new datagram
					// overlaps the old one's bytes: no mix.
					if mixed && cut > 552 {
						t.Errorf("gap %d miss %d cut %d %s: mixed", gap, miss, cut, name)
					}
					if !mixed && s.Reused != 1 {
						t.Errorf("gap %d miss %d cut %d %s: stats %+v", gap, miss, cut, name, s)
					}
				}
			}
		}
	}
}

// A last fragment with another end is identification reuse too.
func TestIPFragIDReuseEnd(t *testing.T) {
	p1, p2 := pattern(2000, 1), pattern(1000, 101)
	hdr := v4hdr(77, 6, 1, 0)
	r := New(Config{})
	old := split(hdr, p1, 552)
	r.Add(old[1])
	r.Add(old[3])
	nw := split(hdr, p2, 552)
	r.Add(nw[1]) // [552,1000) last: ends before the old end
	r.Add(nw[0])
	out := drain(r)
	if len(out) != 2 || out[0].complete || pureOf(out[0], 20, p1, p2) != 1 ||
		!out[1].complete || !bytes.Equal(payloadOf(t, out[1], 20), p2) {
		t.Fatalf("%d datagrams", len(out))
	}
	if s := r.Stats(); s.Reused != 1 || s.Malformed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestIPFragStale: a datagram that waits while more than MaxDist other
// fragments of its addresses pass is given up before the next fragment of its
// identity, even one that would fill its hole exactly; fragments of other
// addresses do not count.
func TestIPFragStale(t *testing.T) {
	p1, p2 := pattern(2000, 1), pattern(2000, 101)
	hdr := v4hdr(77, 6, 1, 0)
	for _, tc := range []struct {
		maxDist, others int
		otherSrc        uint8
		stale           bool
	}{
		{4, 5, 1, true},
		{4, 4, 1, false},
		{4, 50, 2, false}, // other addresses
		{0, 70, 1, true},  // the default, 64
		{0, 64, 1, false},
		{-1, 500, 1, false},
	} {
		r := New(Config{MaxDist: tc.maxDist})
		old := split(hdr, p1, 552)
		for _, f := range old[1:] {
			r.Add(f)
		}
		for i := range tc.others {
			// Fragments of other datagrams between the same hosts.
			r.Add(mk(v4hdr(uint16(1000+i), 6, tc.otherSrc, 0), 0, 8, true, p1))
		}
		nw := split(hdr, p2, 552)
		r.Add(nw[0]) // fills the old datagram's hole exactly
		r.Flush()
		s := r.Stats()
		var mine []got
		for _, g := range drain(r) {
			if g.ip == nil || binary.BigEndian.Uint16(g.ip[4:]) == 77 {
				mine = append(mine, g)
			}
		}
		if tc.stale {
			if s.Stale < 1 || len(mine) != 2 || mine[0].complete || pureOf(mine[0], 20, p1, p2) != 1 || pureOf(mine[1], 20, p1, p2) != 2 {
				t.Errorf("%+v: stats %+v, %d datagrams", tc, s, len(mine))
			}
		} else if len(mine) != 1 || !mine[0].complete {
			// The limit: the hole is filled by the new datagram.
			t.Errorf("%+v: stats %+v, %d datagrams", tc, s, len(mine))
		}
		if n := livePairs(r); n != 0 {
			t.Errorf("%d pair counters left", n)
		}
	}
}

// TestIPFragStaleEager: a datagram more than MaxDist fragments of its
// addresses behind is given up as they arrive, not at the next fragment of
// its identity or the timeout.
func TestIPFragStaleEager(t *testing.T) {
	p := pattern(2000, 1)
	hdr := v4hdr(77, 6, 1, 0)
	r := New(Config{MaxDist: 4})
	for _, f := range split(hdr, p, 552)[1:] {
		r.Add(f)
	}
	for i := range 5 {
		// Complete datagrams between the same hosts.
		r.Add(mk(v4hdr(uint16(1000+i), 6, 1, 0), 0, 8, false, p))
		r.Add(mk(v4hdr(uint16(1000+i), 6, 2, 0), 0, 8, false, p)) // other hosts: not counted
		for _, g := range drain(r) {
			if !g.complete {
				t.Fatalf("given up after %d other fragments", i+1)
			}
		}
	}
	r.Add(mk(v4hdr(2000, 6, 1, 0), 0, 8, false, p))
	out := drain(r)
	if len(out) != 2 || out[0].complete || out[0].ip != nil || len(out[0].runs) != 1 {
		t.Fatalf("%d datagrams", len(out))
	}
	if s := r.Stats(); s.Stale != 1 || s.Pending != 0 || livePairs(r) != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestIPFragSuspect: a partial datagram whose fragments arrived far apart
// (each within MaxDist of the one before, but not as one train) delivers
// only the train around its first fragment.
func TestIPFragSuspect(t *testing.T) {
	p := pattern(3000, 1)
	hdr := v4hdr(77, 6, 1, 0)
	r := New(Config{MaxDist: 4})
	fs := split(hdr, p, 552)
	other := uint16(1000)
	gap := func(n int) {
		for range n {
			r.Add(mk(v4hdr(other, 6, 1, 0), 0, 8, false, p))
			other++
		}
	}
	r.Add(fs[0])
	gap(1)
	r.Add(fs[1])
	gap(4)
	r.Add(fs[3])
	gap(4)
	r.Add(fs[4])
	r.Flush()
	var mine []got
	for _, g := range drain(r) {
		if !g.complete {
			mine = append(mine, g)
		}
	}
	if len(mine) != 1 || len(mine[0].ip) != 20+1104 || len(mine[0].runs) != 0 {
		t.Fatalf("%d partial datagrams", len(mine))
	}
	if s := r.Stats(); s.Dropped != 2 {
		t.Errorf("stats %+v", s)
	}
}

// livePairs counts the pairs with pending entries.
func livePairs(r *Reassembler) int {
	n := 0
	for _, pr := range r.pairs {
		for ; pr != nil; pr = pr.next {
			if pr.refs > 0 {
				n++
			}
		}
	}
	return n
}

// TestIPFragIdlePairs: pairs with nothing pending are kept for reuse, but
// only so many.
func TestIPFragIdlePairs(t *testing.T) {
	p := pattern(16, 1)
	r := New(Config{})
	for i := range 5 * maxIdlePairs {
		h := v4hdr(1, 6, uint8(i), 0)
		binary.BigEndian.PutUint16(h[14:], uint16(i))
		r.Add(mk(h, 0, 8, true, p))
		r.Add(mk(h, 8, 8, false, p))
		if out := drain(r); len(out) != 1 || !out[0].complete {
			t.Fatalf("%d datagrams", len(out))
		}
		if len(r.pairs) > maxIdlePairs*2 || len(r.idle) > maxIdlePairs*2 {
			t.Fatalf("%d pairs, %d idle", len(r.pairs), len(r.idle))
		}
	}
	if livePairs(r) != 0 || len(r.pairs) < maxIdlePairs {
		t.Errorf("%d pairs", len(r.pairs))
	}
}

// TestIPFragFIFOBounded: datagrams completing behind one that waits do not
// grow the pending FIFO, and the waiting one still times out first.
func TestIPFragFIFOBounded(t *testing.T) {
	p := pattern(16, 1)
	r := New(Config{Timeout: 1000, MaxDist: -1})
	r.Add(mk(v4hdr(1, 6, 1, 0), 0, 8, true, p))
	for i := range 10000 {
		h := v4hdr(uint16(2+i), 6, 1, 0)
		f := mk(h, 0, 8, true, p)
		f.Timestamp = int64(i / 100)
		r.Add(f)
		f = mk(h, 8, 8, false, p)
		f.Timestamp = int64(i / 100)
		r.Add(f)
		drain(r)
		if len(r.fifo) > 256 {
			t.Fatalf("%d in the FIFO after %d datagrams", len(r.fifo), i)
		}
	}
	if r.Deadline() != 1000 {
		t.Fatalf("deadline %d", r.Deadline())
	}
	r.Expire(1000)
	if out := drain(r); len(out) != 1 || out[0].complete {
		t.Fatalf("%d datagrams", len(out))
	}
}

// TestIPFragReuseSplit: the old datagram lost its first fragment and
// another; the new one (same ID, other bytes) sends its first fragment, which
// fills the hole, before one that conflicts. With other fragments of the
// hosts between the two trains, the first fragment moves to the new datagram
// (which completes) and the old one is given up pure; with none between, the
// pieces after the conflicting one are dropped, never mixed.
func TestIPFragReuseSplit(t *testing.T) {
	p1, p2 := pattern(2000, 1), pattern(2000, 101)
	hdr := v4hdr(77, 6, 1, 0)
	for _, between := range []int{0, 2} {
		r := New(Config{})
		old := split(hdr, p1, 552) // [0,552) [552,1104) [1104,1656) [1656,2000)
		r.Add(old[1])
		r.Add(old[3])
		for i := range between {
			r.Add(mk(v4hdr(uint16(1000+i), 6, 1, 0), 0, 8, false, p1))
		}
		nw := split(hdr, p2, 552)
		r.Add(nw[0]) // fills the old one's hole
		r.Add(nw[1]) // conflicts with old[1]
		r.Add(nw[2])
		r.Add(nw[3])
		var mine []got
		for _, g := range drain(r) {
			if g.ip == nil || binary.BigEndian.Uint16(g.ip[4:]) == 77 {
				mine = append(mine, g)
			}
		}
		s := r.Stats()
		for _, g := range mine {
			if pureOf(g, 20, p1, p2) == 0 {
				t.Fatalf("between %d: a datagram mixes the two", between)
			}
		}
		if between > 0 {
			if len(mine) != 2 || mine[0].complete || !mine[1].complete || !bytes.Equal(payloadOf(t, mine[1], 20), p2) ||
				s.Moved != 1 || s.Dropped != 0 || s.Reused != 1 {
				t.Errorf("between %d: %d datagrams, stats %+v", between, len(mine), s)
			}
		} else if len(mine) != 1 || mine[0].complete || s.Dropped != 2 || s.Moved != 0 || s.Pending != 1 {
			// Dropped: old[3] and nw[0] (after old[1], no gap the only
			// largest); the new datagram waits for its first fragment.
			t.Errorf("between %d: %d datagrams, stats %+v", between, len(mine), s)
		}
	}
}

// A reused buffer holds exactly the Encap of its new datagram: the slots the
// previous one used past the new counts do not survive.
func TestIPFragEncapReuse(t *testing.T) {
	tun := func(typ layers.TunnelType, id uint32, src byte) layers.Tunnel {
		x := layers.Tunnel{Type: typ, HasID: true, ID: id, Network: layers.NetworkIPv4}
		x.Src[0], x.Dst[0] = src, 99
		return x
	}
	two := layers.Encap{LinkVLANs: 1, NumVLANs: 2, NumTunnels: 2}
	two.VLANs[0], two.VLANs[1] = layers.VLAN{ID: 10, TPID: 0x88a8}, layers.VLAN{ID: 20, TPID: 0x8100}
	two.Tunnels[0], two.Tunnels[1] = tun(layers.TunnelGRE, 7, 1), tun(layers.TunnelVXLAN, 5001, 2)
	one := layers.Encap{NumTunnels: 1}
	one.Tunnels[0] = tun(layers.TunnelVXLAN, 5002, 3)
	payload := pattern(1200, 3)
	r := New(Config{})
	for i, enc := range []layers.Encap{two, one, {}, two} {
		for _, f := range split(v4hdr(uint16(i), 6, 1, 0), payload, 600) {
			f.Encap = &enc
			r.Add(f)
		}
		var d Datagram
		if !r.Next(&d) || !d.Complete {
			t.Fatalf("datagram %d: not complete", i)
		}
		if *d.Encap != enc {
			t.Errorf("datagram %d: Encap %+v, want %+v", i, *d.Encap, enc)
		}
		r.Release(d.Buf)
	}
}

// Datagram.Train: complete, and fragments back to back, in order from 0,
// one copy each, nothing between them.
func TestIPFragTrain(t *testing.T) {
	payload := pattern(1800, 4)
	ha, hb := v4hdr(1, 6, 1, 0), v4hdr(2, 6, 1, 0)
	fa, fb := split(ha, payload, 600), split(hb, payload, 600)
	v6 := split(v6hdr(3, 6, 1, 0), payload, 600)
	bad := mk(ha, 4, 600, true, payload) // offset not a multiple of 8: malformed
	for _, tc := range []struct {
		name  string
		in    []*Fragment
		train []bool // per datagram, in the order they complete
	}{
		{"in order", fa, []bool{true}},
		{"ipv6 in order", v6, []bool{true}},
		{"two in turn", append(append([]*Fragment{}, fa...), fb...), []bool{true, true}},
		{"reversed", []*Fragment{fa[2], fa[1], fa[0]}, []bool{false}},
		{"last two swapped", []*Fragment{fa[0], fa[2], fa[1]}, []bool{false}},
		{"duplicate", []*Fragment{fa[0], fa[0], fa[1], fa[2]}, []bool{false}},
		{"interleaved", []*Fragment{fa[0], fb[0], fa[1], fb[1], fa[2], fb[2]}, []bool{false, false}},
		{"one around another", []*Fragment{fb[0], fa[0], fa[1], fa[2], fb[1], fb[2]}, []bool{true, false}},
		{"malformed between", []*Fragment{fa[0], bad, fa[1], fa[2]}, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Config{})
			var got []bool
			var d Datagram
			for _, f := range tc.in {
				r.Add(f)
				for r.Next(&d) {
					if !d.Complete {
						t.Fatalf("partial datagram")
					}
					got = append(got, d.Train)
					r.Release(d.Buf)
				}
			}
			if !slices.Equal(got, tc.train) {
				t.Errorf("trains %v, want %v", got, tc.train)
			}
		})
	}
}

// segment is an IPv4 transport payload for hdr (TCP or UDP per proto) of n
// bytes with its checksum filled the slow way; csum false leaves a UDP
// checksum zero (none).
func segment(hdr []byte, n int, seed byte, csum bool) []byte {
	seg := pattern(n, seed)
	ck := 16
	if hdr[9] == 17 {
		ck = 6
		binary.BigEndian.PutUint16(seg[4:], uint16(n))
	} else {
		seg[12] = 5 << 4 // data offset: no options
	}
	seg[ck], seg[ck+1] = 0, 0
	if !csum {
		return seg
	}
	pseudo := append(bytes.Clone(hdr[12:20]), 0, hdr[9], byte(n>>8), byte(n))
	all := append(pseudo, seg...)
	var s uint32
	for i := 0; i < len(all); i += 2 {
		w := uint32(all[i]) << 8
		if i+1 < len(all) {
			w |= uint32(all[i+1])
		}
		s += w
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	binary.BigEndian.PutUint16(seg[ck:], ^uint16(s))
	return seg
}

// TestIPFragOverlapCompletes: an IPv4 fragment whose bytes conflict with held
// ones but that completes the datagram under first-copy-wins, with a good
// transport checksum, is an overlap (Zeek's fragmented-4.pcap pattern);
// otherwise it shows identification reuse, as before.
func TestIPFragOverlapCompletes(t *testing.T) {
	type frag struct {
		off, n int
		more   bool
		alter  [2]int // bytes [alter[0], alter[1]) of the fragment differ from the datagram's
	}
	// fragmented-4.pcap: [0,24) [48,72) [72,89) last, then [24,72) with
	// other bytes at [48,72).
	zeek := []frag{{0, 24, true, [2]int{}}, {48, 24, true, [2]int{}}, {72, 17, false, [2]int{}}}
	cases := []struct {
		name  string
		proto uint8
		n     int
		csum  bool // UDP: a checksum at all
		frags []frag
		last  frag
		want  bool // complete, an overlap
	}{
		{"tcp good", 6, 89, true, zeek, frag{24, 48, true, [2]int{48, 72}}, true},
		{"tcp bad: the hole's bytes differ too", 6, 89, true, zeek, frag{24, 48, true, [2]int{40, 72}}, false},
		{"udp good", 17, 89, true, zeek, frag{24, 48, true, [2]int{48, 72}}, true},
		{"udp without checksum", 17, 89, false, zeek, frag{24, 48, true, [2]int{48, 72}}, false},
		{"tcp good, no last fragment", 6, 89, true, zeek[:2], frag{24, 48, true, [2]int{48, 72}}, false},
		{"tcp good, no first fragment", 6, 89, true, zeek[1:], frag{24, 48, true, [2]int{48, 72}}, false},
		{"tcp good, a hole left", 6, 89, true, zeek, frag{32, 40, true, [2]int{48, 72}}, false},
		{"tcp good, the conflict brings the header", 6, 89, true, zeek[1:],
			frag{0, 56, true, [2]int{48, 56}}, true},
		{"tcp good, the conflict is the last fragment", 6, 89, true, zeek[:2],
			frag{64, 25, false, [2]int{64, 72}}, false}, // hole [24,48) left
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := v4hdr(0, c.proto, 1, 0)
			want := segment(hdr, c.n, 3, c.csum)
			other := bytes.Clone(want)
			for i := c.last.alter[0]; i < c.last.alter[1]; i++ {
				other[i] ^= 0x5a
			}
			r := New(Config{})
			for _, f := range c.frags {
				r.Add(mk(hdr, f.off, f.n, f.more, want))
			}
			if out := drain(r); len(out) != 0 {
				t.Fatalf("%d datagrams before the conflict", len(out))
			}
			r.Add(mk(hdr, c.last.off, c.last.n, c.last.more, other))
			out := drain(r)
			s := r.Stats()
			if c.want {
				if len(out) != 1 || !bytes.Equal(payloadOf(t, out[0], 20), want) {
					t.Fatalf("%d datagrams, want one complete with the first copies", len(out))
				}
				var p layers.Packet
				p.Decode(layers.LinkTypeRaw, out[0].ip, 0)
				if cs := p.TransportChecksum(); cs != layers.ChecksumGood {
					t.Errorf("checksum %v", cs)
				}
				if s.Datagrams != 1 || s.Overlaps != 1 || s.OverlapConflicts != 1 || s.Reused != 0 || s.Partial != 0 || s.Duplicates != 0 {
					t.Errorf("stats %+v", s)
				}
				// The test and the completion do not allocate.
				var fs []*Fragment
				for _, f := range c.frags {
					fs = append(fs, mk(hdr, f.off, f.n, f.more, want))
				}
				fs = append(fs, mk(hdr, c.last.off, c.last.n, c.last.more, other))
				var d Datagram
				n := testing.AllocsPerRun(20, func() {
					for _, f := range fs {
						r.Add(f)
					}
					for r.Next(&d) {
						r.Release(d.Buf)
					}
				})
				if n != 0 || r.Stats().Datagrams != 22 {
					t.Errorf("%v allocations per datagram, %d datagrams", n, r.Stats().Datagrams)
				}
				return
			}
			// Identification reuse, as without the rule: the old datagram
			// is given up holding only its own fragments' bytes.
			if s.Reused != 1 || s.OverlapConflicts != 0 || s.Datagrams != 0 {
				t.Errorf("stats %+v", s)
			}
			for _, g := range out {
				if g.complete {
					t.Fatalf("a complete datagram")
				}
				if g.ip != nil && !bytes.Equal(g.ip[20:], want[:len(g.ip)-20]) {
					t.Errorf("run at 0 holds other bytes")
				}
				for _, run := range g.runs {
					if !bytes.Equal(run.Data, want[run.Offset:run.Offset+len(run.Data)]) {
						t.Errorf("run at %d (%d bytes) holds other bytes", run.Offset, len(run.Data))
					}
				}
			}
			r.Flush()
			for _, g := range drain(r) {
				// The conflicting fragment's own datagram: its bytes.
				for _, run := range g.runs {
					if run.Offset == c.last.off && !bytes.Equal(run.Data, other[run.Offset:run.Offset+len(run.Data)]) {
						t.Errorf("new datagram's run at %d holds other bytes", run.Offset)
					}
				}
			}
		})
	}
}
