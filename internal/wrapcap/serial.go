package wrapcap

import (
	"encoding/binary"
	"fmt"
)

// This file holds the header serializers. They are written from the RFCs and
// drafts, independently of the repository's layers package, so that tests
// built on them check reseq's decoders against a second implementation.
//
// Throughout, a packet is its captured bytes plus its wire length (the length
// it had on the wire, at least the captured length): headers put in front of
// it add to both, and length fields name the wire length.

// EtherTypes and IP protocol numbers used here.
const (
	etIPv4     = 0x0800
	etIPv6     = 0x86DD
	etVLAN     = 0x8100
	etQinQ     = 0x88A8
	etMPLS     = 0x8847
	etPPPoE    = 0x8864
	etTEB      = 0x6558 // transparent Ethernet bridging (GRE, Geneve)
	etERSPAN2  = 0x88BE
	etERSPAN3  = 0x22EB
	ipProtoIP4 = 4
	ipProtoTCP = 6
	ipProtoUDP = 17
	ipProtoIP6 = 41
	ipProtoFrg = 44
	ipProtoGRE = 47
)

// Checksum returns the Internet checksum (RFC 1071) of the concatenated
// parts, as it is stored in a header.
func Checksum(parts ...[]byte) uint16 {
	var sum uint32
	odd := false
	var carry byte
	for _, b := range parts {
		i := 0
		if odd && len(b) > 0 {
			sum += uint32(carry)<<8 | uint32(b[0])
			i, odd = 1, false
		}
		for ; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if i < len(b) {
			carry, odd = b[i], true
		}
	}
	if odd {
		sum += uint32(carry) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ipv4Header returns a 20-byte IPv4 header (no options, DF clear, TTL 64)
// for a payload of payloadWire bytes on the wire, checksum set.
func ipv4Header(proto byte, src, dst [4]byte, id uint16, payloadWire int) ([]byte, error) {
	total := 20 + payloadWire
	if total > 0xffff {
		return nil, fmt.Errorf("outer IPv4 packet of %d bytes exceeds 65535", total)
	}
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(total))
	binary.BigEndian.PutUint16(h[4:], id)
	h[8] = 64
	h[9] = proto
	copy(h[12:16], src[:])
	copy(h[16:20], dst[:])
	binary.BigEndian.PutUint16(h[10:], Checksum(h))
	return h, nil
}

// ipv6Header returns a 40-byte IPv6 header (hop limit 64) for a payload of
// payloadWire bytes on the wire.
func ipv6Header(next byte, src, dst [16]byte, payloadWire int) ([]byte, error) {
	if payloadWire > 0xffff {
		return nil, fmt.Errorf("outer IPv6 payload of %d bytes exceeds 65535", payloadWire)
	}
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(payloadWire))
	h[6] = next
	h[7] = 64
	copy(h[8:24], src[:])
	copy(h[24:40], dst[:])
	return h, nil
}

// udpHeader returns an 8-byte UDP header for payloadWire bytes. With v6 the
// checksum is computed over the pseudo-header and the captured payload (so it
// is right only when the payload is complete); over IPv4 it is left zero, as
// tunnel endpoints commonly do (RFC 7348 section 5).
func udpHeader(sport, dport uint16, payload []byte, payloadWire int, v6 bool, src, dst [16]byte) ([]byte, error) {
	n := 8 + payloadWire
	if n > 0xffff {
		return nil, fmt.Errorf("UDP datagram of %d bytes exceeds 65535", n)
	}
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(n))
	if v6 {
		var ph [40]byte
		copy(ph[0:16], src[:])
		copy(ph[16:32], dst[:])
		binary.BigEndian.PutUint32(ph[32:], uint32(n))
		ph[39] = ipProtoUDP
		c := Checksum(ph[:], h, payload)
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(h[6:], c)
	}
	return h, nil
}

// greOpts selects the optional GRE fields (RFC 2784, RFC 2890).
type greOpts struct {
	csum, key, seq bool
	keyVal, seqVal uint32
}

// greHeader returns a GRE header for proto; with csum the checksum covers the
// header and the captured payload (RFC 2784 section 2.5).
func greHeader(proto uint16, o greOpts, payload []byte) []byte {
	n := 4
	var flags uint16
	if o.csum {
		flags |= 0x8000
		n += 4
	}
	if o.key {
		flags |= 0x2000
		n += 4
	}
	if o.seq {
		flags |= 0x1000
		n += 4
	}
	h := make([]byte, n)
	binary.BigEndian.PutUint16(h[0:], flags)
	binary.BigEndian.PutUint16(h[2:], proto)
	i := 4
	if o.csum {
		i += 4 // filled below
	}
	if o.key {
		binary.BigEndian.PutUint32(h[i:], o.keyVal)
		i += 4
	}
	if o.seq {
		binary.BigEndian.PutUint32(h[i:], o.seqVal)
	}
	if o.csum {
		binary.BigEndian.PutUint16(h[4:], Checksum(h, payload))
	}
	return h
}

// erspan2Header returns the 8-byte ERSPAN type II header: version 1, no VLAN,
// the 10-bit session ID, index 0.
func erspan2Header(session uint16) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint32(h[0:], 1<<28|uint32(session&0x3ff))
	return h
}

// erspan3Header returns the 12-byte ERSPAN type III header (version 2,
// Ethernet frame type, 100 ns timestamp granularity), plus the 8-byte
// platform-specific subheader (platform ID 3: port ID and the upper half of
// the timestamp) when platform is set (the O bit).
func erspan3Header(session uint16, ts int64, egress, platform bool) []byte {
	n := 12
	if platform {
		n += 8
	}
	h := make([]byte, n)
	binary.BigEndian.PutUint32(h[0:], 2<<28|uint32(session&0x3ff))
	t := uint64(ts / 100)
	binary.BigEndian.PutUint32(h[4:], uint32(t))
	var w uint16 = 1 << 1 // Gra 01: 100 ns
	if egress {
		w |= 1 << 3
	}
	if platform {
		w |= 1
	}
	binary.BigEndian.PutUint16(h[10:], w)
	if platform {
		binary.BigEndian.PutUint32(h[12:], 3<<26|1) // platform ID 3, port ID 1
		binary.BigEndian.PutUint32(h[16:], uint32(t>>32))
	}
	return h
}

// vxlanHeader returns the 8-byte VXLAN header (RFC 7348): I flag, VNI.
func vxlanHeader(vni uint32) []byte {
	h := make([]byte, 8)
	h[0] = 0x08
	binary.BigEndian.PutUint32(h[4:], vni<<8)
	return h
}

// geneveHeader returns a Geneve header (RFC 8926) carrying Ethernet, with one
// option (class 0x0103, type 0x01, 4 bytes of data), so that a decoder has to
// skip options by the Opt Len field.
func geneveHeader(vni uint32) []byte {
	h := make([]byte, 8+8)
	h[0] = 2 // version 0, Opt Len 2 (4-byte words)
	binary.BigEndian.PutUint16(h[2:], etTEB)
	binary.BigEndian.PutUint32(h[4:], vni<<8)
	binary.BigEndian.PutUint16(h[8:], 0x0103)
	h[10] = 0x01
	h[11] = 1 // R bits 0, length 1 word
	copy(h[12:], "wcap")
	return h
}

// gtpuHeader returns a GTP-U G-PDU header (3GPP TS 29.281) with the E flag
// and one PDU session container extension header (type 0x85, UL PDU, QFI 9),
// for an inner packet of innerWire bytes.
func gtpuHeader(teid uint32, seq uint16, innerWire int) ([]byte, error) {
	h := make([]byte, 8+4+4)
	n := len(h) - 8 + innerWire
	if n > 0xffff {
		return nil, fmt.Errorf("GTP-U payload of %d bytes exceeds 65535", n)
	}
	h[0] = 0x34 // version 1, PT 1, E
	h[1] = 0xff // G-PDU
	binary.BigEndian.PutUint16(h[2:], uint16(n))
	binary.BigEndian.PutUint32(h[4:], teid)
	binary.BigEndian.PutUint16(h[8:], seq) // not valid (S clear), present because E is set
	h[10] = 0                              // N-PDU number
	h[11] = 0x85                           // next extension header: PDU session container
	h[12] = 1                              // length in 4-byte units
	h[13] = 0x10                           // PDU type 1 (UL)
	h[14] = 0x09                           // QFI 9
	h[15] = 0                              // no further extension header
	return h, nil
}

// mplsStack returns the label stack entries for labels, the last with the
// bottom-of-stack bit, TTL 64.
func mplsStack(labels []uint32) []byte {
	h := make([]byte, 4*len(labels))
	for i, l := range labels {
		v := l<<12 | 64
		if i == len(labels)-1 {
			v |= 1 << 8
		}
		binary.BigEndian.PutUint32(h[4*i:], v)
	}
	return h
}

// pwControlWord returns the 4-byte generic PW control word (RFC 4385): first
// nibble 0, flags 0, length 0, the sequence number.
func pwControlWord(seq uint16) []byte {
	h := make([]byte, 4)
	binary.BigEndian.PutUint16(h[2:], seq)
	return h
}

// pppoeSession returns the PPPoE session header (RFC 2516) plus the PPP
// protocol field for an IP packet of ipWire bytes.
func pppoeSession(session uint16, pppProto uint16, ipWire int) ([]byte, error) {
	n := 2 + ipWire
	if n > 0xffff {
		return nil, fmt.Errorf("PPPoE payload of %d bytes exceeds 65535", n)
	}
	h := make([]byte, 8)
	h[0] = 0x11
	binary.BigEndian.PutUint16(h[2:], session)
	binary.BigEndian.PutUint16(h[4:], uint16(n))
	binary.BigEndian.PutUint16(h[6:], pppProto)
	return h, nil
}

// ethHeader returns dst, src and the EtherType (or 802.3 length).
func ethHeader(dst, src [6]byte, typ uint16) []byte {
	h := make([]byte, 14)
	copy(h[0:6], dst[:])
	copy(h[6:12], src[:])
	binary.BigEndian.PutUint16(h[12:], typ)
	return h
}

// NFLOG TLV types (linux/netfilter/nfnetlink_log.h).
const (
	nfulaPacketHdr = 1
	nfulaPayload   = 9
	nfulaPrefix    = 10
)

// nflogHeader returns the NFLOG pseudo-header (family, version 0, resource ID
// 42), a packet-header TLV, a prefix TLV and the payload TLV's own header for
// an IP packet of ipWire bytes. TLV length and type are in little-endian
// (host) byte order; the payload TLV's padding is added by the caller.
func nflogHeader(v6 bool, ipWire int) ([]byte, error) {
	if 4+ipWire > 0xffff {
		return nil, fmt.Errorf("NFLOG payload of %d bytes exceeds 65535", ipWire)
	}
	fam, et := byte(2), uint16(etIPv4) // AF_INET
	if v6 {
		fam, et = 10, etIPv6 // AF_INET6
	}
	h := []byte{fam, 0, 0, 42}
	tlv := func(typ uint16, val []byte, declared int) {
		var t [4]byte
		binary.LittleEndian.PutUint16(t[0:], uint16(4+declared))
		binary.LittleEndian.PutUint16(t[2:], typ)
		h = append(h, t[:]...)
		h = append(h, val...)
		for len(val)%4 != 0 && typ != nfulaPayload {
			h = append(h, 0)
			val = append(val, 0)
		}
	}
	var ph [4]byte
	binary.BigEndian.PutUint16(ph[0:], et)
	ph[2] = 3 // NF_INET_LOCAL_OUT
	tlv(nfulaPacketHdr, ph[:], 4)
	prefix := []byte("wrapcap\x00")
	tlv(nfulaPrefix, prefix, len(prefix))
	tlv(nfulaPayload, nil, ipWire)
	return h, nil
}
