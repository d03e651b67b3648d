package layers

import (
	"encoding/binary"
	"math/bits"
)

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
	return verdict(sum16(p.Payload, s))
}

// IPv4TransportChecksum verifies the checksum of msg, a whole TCP or UDP
// message (header and payload) of IP protocol proto carried by an IPv4
// datagram with header h (its addresses make the pseudo-header): for a
// datagram reassembled from fragments, which TransportChecksum leaves
// unverified. A message too short for its header, or UDP without a
// checksum, is unverified.
func IPv4TransportChecksum(h IPv4, proto uint8, msg []byte) Checksum {
	switch {
	case len(h) < 20:
		return ChecksumUnverified
	case proto == IPProtoTCP && len(msg) >= 20:
	case proto == IPProtoUDP && len(msg) >= 8 && UDP(msg).Checksum() != 0:
	default:
		return ChecksumUnverified
	}
	s := sum16(h[12:20], uint64(proto)+uint64(len(msg)))
	return verdict(sum16(msg, s))
}

// verdict folds an unfolded one's-complement sum over a pseudo-header and a
// transport message: all ones is a good checksum.
func verdict(s uint64) Checksum {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	if s == 0xffff {
		return ChecksumGood
	}
	return ChecksumBad
}

// sum16 adds the big-endian 16-bit words of b (a last odd byte padded with
// zero) to s, without folding; s stays far from overflow for any b shorter
// than 2^32 bytes. The one's complement sum does not depend on byte order
// (RFC 1071, 2.(B)), so it adds b as little-endian 64-bit words with
// end-around carry (one add with carry per 8 bytes, no byte swap), folds
// that to 16 bits and swaps the two bytes once; the last bytes, fewer than
// 8, start at an even offset and are added as big-endian words.
func sum16(b []byte, s uint64) uint64 {
	le := binary.LittleEndian
	var acc, c uint64
	for len(b) >= 64 {
		_ = b[63] // one bounds check for the eight loads
		acc, c = bits.Add64(acc, le.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, le.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, le.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, le.Uint64(b[24:32]), c)
		acc, c = bits.Add64(acc, le.Uint64(b[32:40]), c)
		acc, c = bits.Add64(acc, le.Uint64(b[40:48]), c)
		acc, c = bits.Add64(acc, le.Uint64(b[48:56]), c)
		acc, c = bits.Add64(acc, le.Uint64(b[56:64]), c)
		b = b[64:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, le.Uint64(b), c)
		b = b[8:]
	}
	acc, c = bits.Add64(acc, 0, c)
	acc += c // acc was 0 if that carried: no second carry
	f := acc>>32 + acc&0xffffffff
	f = f>>16 + f&0xffff
	f = f>>16 + f&0xffff
	f = f>>16 + f&0xffff
	s += f>>8 | f&0xff<<8
	for len(b) >= 2 {
		s += uint64(be.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}
