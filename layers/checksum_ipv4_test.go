package layers

import "testing"

// TestIPv4TransportChecksum: a message of a reassembled datagram is verified
// against its IPv4 header's addresses; UDP without a checksum and messages
// too short for their header stay unverified.
func TestIPv4TransportChecksum(t *testing.T) {
	h := IPv4{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	// msg with its checksum field (at off) set so that the sum is all ones.
	seal := func(proto uint8, msg []byte, off int) []byte {
		pseudo := uint32(be.Uint16(h[12:])) + uint32(be.Uint16(h[14:])) + uint32(be.Uint16(h[16:])) + uint32(be.Uint16(h[18:])) + uint32(proto) + uint32(len(msg))
		c := ^checksum(msg, pseudo)
		msg[off], msg[off+1] = byte(c>>8), byte(c)
		return msg
	}
	tcp := seal(IPProtoTCP, append(make([]byte, 20), "odd payload"...), 16)
	udp := seal(IPProtoUDP, append(make([]byte, 8), "udp"...), 6)
	bad := append([]byte(nil), tcp...)
	bad[len(bad)-1] ^= 1
	noSum := append([]byte(nil), udp...)
	noSum[6], noSum[7] = 0, 0
	for _, c := range []struct {
		name  string
		proto uint8
		msg   []byte
		want  Checksum
	}{
		{"tcp good", IPProtoTCP, tcp, ChecksumGood},
		{"tcp bad", IPProtoTCP, bad, ChecksumBad},
		{"udp good", IPProtoUDP, udp, ChecksumGood},
		{"udp without checksum", IPProtoUDP, noSum, ChecksumUnverified},
		{"tcp shorter than its header", IPProtoTCP, tcp[:19], ChecksumUnverified},
		{"not tcp or udp", 47, tcp, ChecksumUnverified},
	} {
		if got := IPv4TransportChecksum(h, c.proto, c.msg); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
