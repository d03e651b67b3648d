package layers

import "testing"

// BenchmarkDecodeFrame decodes typical frames: Ethernet/IPv4/TCP with the
// timestamp option and a payload, a QinQ IPv6 frame, a pure ACK with SACK.
func BenchmarkDecodeFrame(b *testing.B) {
	data := defTCP("0123456789012345678901234567890123456789")
	data.opts = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	ack := defTCP("")
	ack.opts = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	frames := [][]byte{
		eth(EtherTypeIPv4, tcp4(data)),
		eth(EtherTypeIPv6, tcp6(data), tags(2)...),
		eth(EtherTypeIPv4, tcp4(ack)),
	}
	var p Packet
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			p.Decode(LinkTypeEthernet, f, len(f))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/frame")
}

// BenchmarkDecodeCommon decodes the frame nearly every packet of a Linux
// capture is: Ethernet/IPv4/TCP with NOP, NOP, timestamps and a payload.
func BenchmarkDecodeCommon(b *testing.B) {
	s := defTCP("0123456789012345678901234567890123456789")
	s.opts = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	f := eth(EtherTypeIPv4, tcp4(s))
	var p Packet
	var sink uint32
	b.ReportAllocs()
	for b.Loop() {
		p.Decode(LinkTypeEthernet, f, len(f))
		sink += p.TCP.Seq()
	}
	if p.Transport != TransportTCP || sink == 0 && p.TCP.Seq() != 0 {
		b.Fatalf("decode: %v", p.Stop)
	}
}

// BenchmarkDecodeVXLAN decodes the same TCP frame bare and wrapped in VXLAN
// (outer Ethernet, IPv4, UDP, VXLAN): the cost of the tunnel.
func BenchmarkDecodeVXLAN(b *testing.B) {
	s := defTCP("0123456789012345678901234567890123456789")
	s.opts = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	bare := eth(EtherTypeIPv4, tcp4(s))
	wrapped := eth(EtherTypeIPv4, outer4(IPProtoUDP, udpHdr(40000, PortVXLAN, vxlanHdr(0x08, 42, bare))))
	for _, c := range []struct {
		name string
		f    []byte
	}{{"bare", bare}, {"vxlan", wrapped}} {
		b.Run(c.name, func(b *testing.B) {
			var p Packet
			var sink uint32
			b.ReportAllocs()
			for b.Loop() {
				p.Decode(LinkTypeEthernet, c.f, len(c.f))
				sink += p.TCP.Seq()
			}
			if p.Transport != TransportTCP || sink == 0 && p.TCP.Seq() != 0 {
				b.Fatalf("decode: %v", p.Stop)
			}
		})
	}
}
