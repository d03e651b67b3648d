package layers

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// withChecksum fills the transport checksum of a raw IP datagram (no
// extension headers) the slow way: pseudo-header and segment concatenated.
func withChecksum(ip []byte, off int) []byte {
	var pseudo []byte
	var seg []byte
	var proto byte
	if ip[0]>>4 == 4 {
		hl := int(ip[0]&0xf) * 4
		seg, proto = ip[hl:], ip[9]
		pseudo = append(append([]byte{}, ip[12:20]...), 0, proto)
		pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(seg)))
	} else {
		seg, proto = ip[40:], ip[6]
		pseudo = append([]byte{}, ip[8:40]...)
		pseudo = binary.BigEndian.AppendUint32(pseudo, uint32(len(seg)))
		pseudo = append(pseudo, 0, 0, 0, proto)
	}
	seg[off], seg[off+1] = 0, 0
	cs := ^checksum(append(pseudo, seg...), 0)
	binary.BigEndian.PutUint16(seg[off:], cs)
	return ip
}

func TestTransportChecksum(t *testing.T) {
	udp := func(payload string) []byte {
		b := []byte{0x13, 0x89, 0x00, 0x35, 0, byte(8 + len(payload)), 0, 0}
		return append(b, payload...)
	}
	type tc struct {
		name    string
		lt      LinkType
		data    []byte
		origLen int
		want    Checksum
	}
	var cases []tc
	for _, pl := range []string{"", "a", "ab", "abc", "hello, world", "odd length payload!"} {
		cases = append(cases,
			tc{"tcp4 " + pl, LinkTypeRaw, withChecksum(tcp4(defTCP(pl)), 16), 0, ChecksumGood},
			tc{"tcp6 " + pl, LinkTypeRaw, withChecksum(tcp6(defTCP(pl)), 16), 0, ChecksumGood},
			tc{"udp4 " + pl, LinkTypeRaw, withChecksum(ipv4(v4Spec{proto: IPProtoUDP, totalLen: -1}, udp(pl)), 6), 0, ChecksumGood},
			tc{"udp6 " + pl, LinkTypeRaw, withChecksum(ipv6(IPProtoUDP, -1, udp(pl)), 6), 0, ChecksumGood},
		)
	}
	good := withChecksum(tcp4(defTCP("payload")), 16)
	flip := func(b []byte, i int) []byte { c := append([]byte{}, b...); c[i] ^= 0x40; return c }
	opts := defTCP("xyz")
	opts.opts = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	padded := cat(eth(EtherTypeIPv4, withChecksum(tcp4(opts), 16)), []byte{0xff, 0xff, 0xff})
	cases = append(cases,
		tc{"payload byte flipped", LinkTypeRaw, flip(good, len(good)-1), 0, ChecksumBad},
		tc{"port flipped", LinkTypeRaw, flip(good, 20), 0, ChecksumBad},
		tc{"address flipped", LinkTypeRaw, flip(good, 13), 0, ChecksumBad},
		tc{"options and ethernet padding", LinkTypeEthernet, padded, 0, ChecksumGood},
		tc{"snaplen cut", LinkTypeRaw, good[:len(good)-2], len(good), ChecksumUnverified},
		tc{"tso", LinkTypeRaw, func() []byte { b := append([]byte{}, good...); b[2], b[3] = 0, 0; return b }(), 0, ChecksumUnverified},
		tc{"udp4 no checksum", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoUDP, totalLen: -1}, udp("x")), 0, ChecksumUnverified},
		tc{"udp6 zero checksum is bad", LinkTypeRaw, ipv6(IPProtoUDP, -1, udp("x")), 0, ChecksumBad},
		tc{"first fragment", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, flags: 0x2000}, defTCP("x").bytes()), 0, ChecksumUnverified},
		tc{"icmp", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoICMP, totalLen: -1}, []byte{8, 0, 0, 0}), 0, ChecksumUnverified},
		tc{"arp", LinkTypeEthernet, eth(EtherTypeARP, make([]byte, 28)), 0, ChecksumUnverified},
	)
	var p Packet
	for _, c := range cases {
		p.Decode(c.lt, c.data, c.origLen)
		if got := p.TransportChecksum(); got != c.want {
			t.Errorf("%s: %v, want %v (stop %v)", c.name, got, c.want, p.Stop)
		}
	}
	if n := testing.AllocsPerRun(10, func() { p.TransportChecksum() }); n != 0 {
		t.Errorf("TransportChecksum allocates %v", n)
	}
}

// sum16 adds 32-bit words where it can; folded, it must equal the sum of the
// 16-bit words for every length and starting sum.
func TestSum16Words(t *testing.T) {
	fold := func(s uint64) uint64 {
		for s > 0xffff {
			s = s>>16 + s&0xffff
		}
		return s
	}
	mixed := make([]byte, 1600)
	for i := range mixed {
		mixed[i] = byte(i*131 + i>>3)
	}
	// All ones carries out of every 64-bit add; a zero run ends it.
	ones := bytes.Repeat([]byte{0xff}, 1600)
	onesZero := bytes.Repeat([]byte{0xff}, 1600)
	clear(onesZero[800:808])
	for _, tc := range []struct {
		name string
		b    []byte
	}{{"mixed", mixed}, {"ones", ones}, {"ones-zero", onesZero}, {"zero", make([]byte, 1600)}} {
		b := tc.b
		for n := 0; n <= len(b); n++ {
			for _, s0 := range []uint64{0, 0xffff, 0x1234567} {
				want := s0
				for i := 0; i+1 < n; i += 2 {
					want += uint64(b[i])<<8 | uint64(b[i+1])
				}
				if n%2 == 1 {
					want += uint64(b[n-1]) << 8
				}
				if got := sum16(b[:n], s0); fold(got) != fold(want) {
					t.Fatalf("%s n=%d s0=%#x: folded %#x, want %#x", tc.name, n, s0, fold(got), fold(want))
				}
			}
		}
	}
}

// BenchmarkSum16 sums a reassembled datagram's worth of bytes.
func BenchmarkSum16(b *testing.B) {
	buf := make([]byte, 8192)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(buf)))
	var s uint64
	for b.Loop() {
		s = sum16(buf, s&0xffff)
	}
	if s == 0 {
		b.Fatal("zero sum")
	}
}
