package layers

import "encoding/binary"

// Checksum is the result of verifying a transport checksum.
type Checksum uint8

// Checksum results.
const (
	// ChecksumUnverified: the checksum cannot be checked — not TCP or UDP, a
	// payload cut by the snaplen, an IP fragment, an IP length taken from the
	// capture (TSO/GSO frames, whose checksum the NIC fills in later), or UDP
	// over IPv4 without a checksum.
	ChecksumUnverified Checksum = iota
	ChecksumGood
	ChecksumBad
)

var checksumNames = [...]string{"unverified", "good", "bad"}

func (c Checksum) String() string {
	if int(c) < len(checksumNames) {
		return checksumNames[c]
	}
	return "checksum?"
}

// TransportChecksum verifies the TCP or UDP checksum of the decoded packet.
// Decode never does (captures on a sending host carry offloaded, unfilled
// checksums); callers that count or drop bad checksums call this. It does not
// allocate.
func (p *Packet) TransportChecksum() Checksum {
	var hdr []byte
	var proto uint8
	switch p.Transport {
	case TransportTCP:
		hdr, proto = p.TCP, IPProtoTCP
	case TransportUDP:
		hdr, proto = p.UDP, IPProtoUDP
		if p.Network == NetworkIPv4 && p.UDP.Checksum() == 0 {
			return ChecksumUnverified
		}
	default:
		return ChecksumUnverified
	}
	if p.Fragment || p.PayloadLength != len(p.Payload) {
		return ChecksumUnverified
	}
	n := len(hdr) + len(p.Payload)
	var s uint64
	switch p.Network {
	case NetworkIPv4:
		if p.IPv4.TotalLength() == 0 {
			return ChecksumUnverified
		}
		s = sum16(p.IPv4[12:20], 0)
		s += uint64(proto) + uint64(n)
	case NetworkIPv6:
		if p.IPv6.PayloadLength() == 0 {
			return ChecksumUnverified
		}
		s = sum16(p.IPv6[8:40], 0)
		s += uint64(proto) + uint64(n)
	default:
		return ChecksumUnverified
	}
	s = sum16(hdr, s) // even length: the payload's words stay aligned
	s = sum16(p.Payload, s)
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	if s == 0xffff {
		return ChecksumGood
	}
	return ChecksumBad
}

// sum16 adds the big-endian 16-bit words of b (a last odd byte padded with
// zero) to s, without folding. It adds 32-bit words where it can: 2^16 is 1
// modulo 2^16-1, so the folded sum is the same, and it reads a quarter as
// often. s stays far from overflow for any b shorter than 2^32 bytes.
func sum16(b []byte, s uint64) uint64 {
	for len(b) >= 32 {
		x0, x1 := binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
		x2, x3 := binary.BigEndian.Uint64(b[16:]), binary.BigEndian.Uint64(b[24:])
		s += x0>>32 + x0&0xffffffff + x1>>32 + x1&0xffffffff + x2>>32 + x2&0xffffffff + x3>>32 + x3&0xffffffff
		b = b[32:]
	}
	for len(b) >= 8 {
		x := binary.BigEndian.Uint64(b)
		s += x>>32 + x&0xffffffff
		b = b[8:]
	}
	for len(b) >= 2 {
		s += uint64(be.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}
