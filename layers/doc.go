// Package layers decodes captured frames into zero-copy header views.
//
// A header is a []byte with accessor methods, in the style of gvisor's
// pkg/tcpip/header: Ethernet, SLL, SLL2, IPv4, IPv6, TCP and UDP. A Packet is a
// caller-owned, reusable decode result: Decode fills it from a link type and the
// captured bytes without copying, allocating or panicking on any input. Every
// view Decode sets has been length-checked once, so its accessors never fail;
// views of layers that were not reached are nil.
//
// Decoding stops at the first header it cannot use, and says so in a Stop
// (which layer, and why: truncated by the capture, malformed, an unsupported
// link type or protocol, a non-first fragment). Everything decoded before that
// point stays usable: a frame whose TCP header was cut by the snaplen still has
// its IP addresses.
//
// The captured payload and the payload length the IP header claims are both
// kept, so callers know how many bytes the snaplen cut. The VLAN stack is kept
// whole (up to MaxVLANs tags, each with its TPID, ID, priority and DEI); the
// outer tag of a stack of two or more names the capture point.
//
// Decode takes the frames nearly every capture is made of (Ethernet, up to two
// VLAN tags, IPv4 without options or IPv6 without extension headers, TCP) on a
// straight-line path that writes only the fields such a decode sets; every
// other frame goes through the general walker. Both give the same Packet.
//
// FlowKey is the fixed-size, comparable flow identity built from a decode: the
// VLAN IDs of the key, the addresses and the ports.
//
// Decode verifies no checksum: captures taken on a sending host carry
// offloaded, unfilled ones. IPv4.ChecksumValid and Packet.TransportChecksum
// check them on demand, for callers that count or drop bad ones.
package layers
