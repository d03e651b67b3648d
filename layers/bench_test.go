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
