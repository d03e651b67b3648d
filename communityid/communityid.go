// Package communityid computes Community ID flow hashes (version 1): a
// string that names a flow the same way in every tool that implements the
// specification (Zeek, Suricata, Wireshark, Elastic, ...), so that records of
// one connection can be joined across them.
//
// The version 1 hash is the SHA-1 of, in network byte order,
//
//	seed (2 bytes) | source address (4 or 16) | destination address |
//	protocol (1) | 0 (1) | source port (2) | destination port (2)
//
// with the endpoints ordered so that both directions give the same value
// (the smaller address first; for equal addresses, the smaller port), written
// as "1:" followed by the standard base64 of the 20 bytes. Protocols without
// ports (anything but TCP, UDP, SCTP, ICMP and ICMPv6) hash no port fields.
// For ICMP and ICMPv6 the type and code stand in for the ports: request and
// reply types of one exchange (echo, timestamp, neighbour solicitation, ...)
// map to the same pair, and messages without a counterpart keep their order.
package communityid

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers with ports (or their ICMP stand-ins).
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
	ProtoSCTP   = 132
)

// Flow is one direction of a flow as a packet shows it. For ICMP and ICMPv6,
// SrcPort is the message type and DstPort its code.
type Flow struct {
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
}

// String returns the Community ID of f with the given seed, e.g.
// "1:LQU9qZlK+B5F3KDmev6m5PMibrg=". Addresses of different families, or
// invalid ones, give "".
func String(seed uint16, f Flow) string {
	var b [32]byte
	return string(Append(b[:0], seed, f))
}

// Append appends the Community ID of f to dst (nothing when the addresses are
// of different families or invalid).
func Append(dst []byte, seed uint16, f Flow) []byte {
	src, dsta := f.Src.Unmap(), f.Dst.Unmap()
	if !src.IsValid() || !dsta.IsValid() || src.Is4() != dsta.Is4() {
		return dst
	}
	sp, dp := f.SrcPort, f.DstPort
	ports := true
	oneWay := false
	switch f.Proto {
	case ProtoTCP, ProtoUDP, ProtoSCTP:
	case ProtoICMP:
		sp, dp, oneWay = icmpPorts(icmp4Pairs[:], uint8(f.SrcPort), uint8(f.DstPort))
	case ProtoICMPv6:
		sp, dp, oneWay = icmpPorts(icmp6Pairs[:], uint8(f.SrcPort), uint8(f.DstPort))
	default:
		ports = false
		sp, dp = 0, 0
	}
	if !oneWay {
		if c := src.Compare(dsta); c > 0 || (c == 0 && sp > dp) {
			src, dsta = dsta, src
			sp, dp = dp, sp
		}
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	binary.BigEndian.PutUint16(buf[0:], seed)
	n := 2
	if src.Is4() {
		a, b := src.As4(), dsta.As4()
		n += copy(buf[n:], a[:])
		n += copy(buf[n:], b[:])
	} else {
		a, b := src.As16(), dsta.As16()
		n += copy(buf[n:], a[:])
		n += copy(buf[n:], b[:])
	}
	buf[n], buf[n+1] = f.Proto, 0
	n += 2
	if ports {
		binary.BigEndian.PutUint16(buf[n:], sp)
		binary.BigEndian.PutUint16(buf[n+2:], dp)
		n += 4
	}
	sum := sha1.Sum(buf[:n])
	dst = append(dst, "1:"...)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// icmpPorts maps an ICMP type and code to the port pair the hash takes: the
// type and its counterpart's type for the messages of a request/reply pair
// (so that both hash alike), else the type and the code, one way.
func icmpPorts(pairs [][2]uint8, typ, code uint8) (sp, dp uint16, oneWay bool) {
	for _, p := range pairs {
		switch typ {
		case p[0]:
			return uint16(typ), uint16(p[1]), false
		case p[1]:
			return uint16(typ), uint16(p[0]), false
		}
	}
	return uint16(typ), uint16(code), true
}

// Request/reply type pairs of ICMP: echo, router, timestamp, information,
// address mask.
var icmp4Pairs = [...][2]uint8{{8, 0}, {10, 9}, {13, 14}, {15, 16}, {17, 18}}

// Request/reply type pairs of ICMPv6: echo, multicast listener, router,
// neighbour, node information, home agent address discovery.
var icmp6Pairs = [...][2]uint8{{128, 129}, {130, 131}, {133, 134}, {135, 136}, {139, 140}, {144, 145}}
