package layers

import (
	"encoding/binary"
	"net/netip"
)

var be = binary.BigEndian

// Header lengths.
const (
	EthernetLen = 14
	VLANTagLen  = 4
	SLLLen      = 16
	SLL2Len     = 20
	NullLen     = 4
	IPv4MinLen  = 20
	IPv6Len     = 40
	TCPMinLen   = 20
	UDPLen      = 8
)

// Ethernet is an Ethernet II header (14 bytes, without VLAN tags).
type Ethernet []byte

// Dst returns the destination MAC address.
func (e Ethernet) Dst() [6]byte { return [6]byte(e[0:6]) }

// Src returns the source MAC address.
func (e Ethernet) Src() [6]byte { return [6]byte(e[6:12]) }

// EtherType returns the type field (the first TPID when the frame is tagged).
func (e Ethernet) EtherType() uint16 { return be.Uint16(e[12:14]) }

// VLAN is one IEEE 802.1Q/802.1ad tag of a frame.
type VLAN struct {
	TPID     uint16 // 0x8100, 0x88a8 or 0x9100
	ID       uint16 // 12-bit VLAN identifier
	Priority uint8  // 3-bit priority code point (PCP)
	DEI      bool   // drop eligible indicator
}

// SLL is a Linux cooked capture v1 header (16 bytes).
type SLL []byte

// PacketType returns the packet type (0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing).
func (s SLL) PacketType() uint16 { return be.Uint16(s[0:2]) }

// ARPHRD returns the link-layer device type (ARPHRD_* value).
func (s SLL) ARPHRD() uint16 { return be.Uint16(s[2:4]) }

// AddrLen returns the link-layer address length field as captured (it may exceed 8).
func (s SLL) AddrLen() uint16 { return be.Uint16(s[4:6]) }

// Addr returns the link-layer address: at most the 8 bytes the header has room for.
func (s SLL) Addr() []byte { return s[6 : 6+min(int(s.AddrLen()), 8)] }

// Protocol returns the protocol type (an EtherType for Ethernet-like devices).
func (s SLL) Protocol() uint16 { return be.Uint16(s[14:16]) }

// SLL2 is a Linux cooked capture v2 header (20 bytes).
type SLL2 []byte

// Protocol returns the protocol type (an EtherType for Ethernet-like devices).
func (s SLL2) Protocol() uint16 { return be.Uint16(s[0:2]) }

// InterfaceIndex returns the index of the interface the packet was captured on.
func (s SLL2) InterfaceIndex() uint32 { return be.Uint32(s[4:8]) }

// ARPHRD returns the link-layer device type (ARPHRD_* value).
func (s SLL2) ARPHRD() uint16 { return be.Uint16(s[8:10]) }

// PacketType returns the packet type (0 to us, ... 4 outgoing).
func (s SLL2) PacketType() uint8 { return s[10] }

// AddrLen returns the link-layer address length field as captured (it may exceed 8).
func (s SLL2) AddrLen() uint8 { return s[11] }

// Addr returns the link-layer address: at most the 8 bytes the header has room for.
func (s SLL2) Addr() []byte { return s[12 : 12+min(int(s.AddrLen()), 8)] }

// IPv4 is an IPv4 header including its options (IHL*4 bytes).
type IPv4 []byte

// Version returns the version nibble (4 for a decoded header).
func (h IPv4) Version() uint8 { return h[0] >> 4 }

// HeaderLength returns the header length in bytes (IHL*4).
func (h IPv4) HeaderLength() int { return int(h[0]&0x0f) * 4 }

// TOS returns the type-of-service (DSCP/ECN) byte.
func (h IPv4) TOS() uint8 { return h[1] }

// TotalLength returns the total length field (0 for TSO/GSO frames).
func (h IPv4) TotalLength() uint16 { return be.Uint16(h[2:4]) }

// ID returns the identification field.
func (h IPv4) ID() uint16 { return be.Uint16(h[4:6]) }

// DontFragment reports the DF flag.
func (h IPv4) DontFragment() bool { return h[6]&0x40 != 0 }

// MoreFragments reports the MF flag.
func (h IPv4) MoreFragments() bool { return h[6]&0x20 != 0 }

// FragmentOffset returns the fragment offset in bytes.
func (h IPv4) FragmentOffset() int { return int(be.Uint16(h[6:8])&0x1fff) * 8 }

// TTL returns the time to live.
func (h IPv4) TTL() uint8 { return h[8] }

// Protocol returns the transport protocol number.
func (h IPv4) Protocol() uint8 { return h[9] }

// Checksum returns the header checksum field.
func (h IPv4) Checksum() uint16 { return be.Uint16(h[10:12]) }

// Src returns the source address.
func (h IPv4) Src() netip.Addr { return netip.AddrFrom4([4]byte(h[12:16])) }

// Dst returns the destination address.
func (h IPv4) Dst() netip.Addr { return netip.AddrFrom4([4]byte(h[16:20])) }

// Options returns the option bytes (empty when IHL is 5).
func (h IPv4) Options() []byte { return h[IPv4MinLen:] }

// ChecksumValid reports whether the header checksum is correct.
func (h IPv4) ChecksumValid() bool { return checksum(h, 0) == 0xffff }

// IPv6 is the fixed 40-byte IPv6 header (extension headers not included).
type IPv6 []byte

// Version returns the version nibble (6 for a decoded header).
func (h IPv6) Version() uint8 { return h[0] >> 4 }

// TrafficClass returns the traffic class.
func (h IPv6) TrafficClass() uint8 { return uint8(be.Uint16(h[0:2]) >> 4) }

// FlowLabel returns the 20-bit flow label.
func (h IPv6) FlowLabel() uint32 { return be.Uint32(h[0:4]) & 0xfffff }

// PayloadLength returns the payload length field (0 for jumbograms and TSO/GSO frames).
func (h IPv6) PayloadLength() uint16 { return be.Uint16(h[4:6]) }

// NextHeader returns the protocol of the header after the fixed header.
func (h IPv6) NextHeader() uint8 { return h[6] }

// HopLimit returns the hop limit.
func (h IPv6) HopLimit() uint8 { return h[7] }

// Src returns the source address.
func (h IPv6) Src() netip.Addr { return netip.AddrFrom16([16]byte(h[8:24])) }

// Dst returns the destination address.
func (h IPv6) Dst() netip.Addr { return netip.AddrFrom16([16]byte(h[24:40])) }

// TCP flag bits as they stand in the flags byte of the TCP header.
const (
	TCPFlagFIN = 1 << iota
	TCPFlagSYN
	TCPFlagRST
	TCPFlagPSH
	TCPFlagACK
	TCPFlagURG
	TCPFlagECE
	TCPFlagCWR
)

// TCP is a TCP header including its options (data offset*4 bytes).
type TCP []byte

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return be.Uint16(t[0:2]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return be.Uint16(t[2:4]) }

// Seq returns the sequence number.
func (t TCP) Seq() uint32 { return be.Uint32(t[4:8]) }

// Ack returns the acknowledgment number.
func (t TCP) Ack() uint32 { return be.Uint32(t[8:12]) }

// DataOffset returns the header length in bytes (data offset*4).
func (t TCP) DataOffset() int { return int(t[12]>>4) * 4 }

// Flags returns the flags byte (TCPFlagFIN ... TCPFlagCWR).
func (t TCP) Flags() uint8 { return t[13] }

// NS reports the (historic) ECN-nonce bit.
func (t TCP) NS() bool { return t[12]&1 != 0 }

// Window returns the raw (unscaled) window field.
func (t TCP) Window() uint16 { return be.Uint16(t[14:16]) }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return be.Uint16(t[16:18]) }

// Urgent returns the urgent pointer.
func (t TCP) Urgent() uint16 { return be.Uint16(t[18:20]) }

// Options returns the option bytes (empty when the data offset is 5).
func (t TCP) Options() []byte { return t[TCPMinLen:] }

// UDP is a UDP header (8 bytes).
type UDP []byte

// SrcPort returns the source port.
func (u UDP) SrcPort() uint16 { return be.Uint16(u[0:2]) }

// DstPort returns the destination port.
func (u UDP) DstPort() uint16 { return be.Uint16(u[2:4]) }

// Length returns the length field (header and payload; 0 for IPv6 jumbograms).
func (u UDP) Length() uint16 { return be.Uint16(u[4:6]) }

// Checksum returns the checksum field.
func (u UDP) Checksum() uint16 { return be.Uint16(u[6:8]) }

// checksum folds the one's-complement sum of b onto initial.
func checksum(b []byte, initial uint32) uint16 {
	s := initial
	for len(b) >= 2 {
		s += uint32(be.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}
