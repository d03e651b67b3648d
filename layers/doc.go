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
// link type or protocol, an IP fragment, too deep). Everything decoded before
// that point stays usable: a frame whose TCP header was cut by the snaplen
// still has its IP addresses.
//
// Tunnels and carriers are decoded through, in any nesting, up to MaxTunnels:
// MPLS (the payload guessed from the nibble after the label stack: 4 IPv4, 6
// IPv6, 0 an Ethernet pseudowire with its control word), PPPoE sessions, GRE
// (keys, checksums, sequence numbers; Ethernet, MPLS and ERSPAN type I, II
// and III payloads), IPv4 and IPv6 in IPv4 or IPv6, and the UDP tunnels VXLAN,
// Geneve and GTP-U by destination port (DecodeOptions). Each is a Tunnel of the
// Packet's Encap, outermost first, with its identifier (label, session, key,
// VNI, TEID) and the addresses of the IP header outside it; the network and
// transport fields describe the innermost layers. Link framings are decoded
// too: 802.2 LLC/SNAP in 802.3 length frames, the PPP link types, Cisco HDLC
// and NFLOG. A tunnel's payload Decode does not know stops unsupported at the
// tunnel's layer, and a malformed tunnel header malformed: neither is ever
// read as TCP.
//
// Every IP fragment, the first included (but not an atomic one), stops the
// decode at its IP header with StopFragment: Payload is the fragment's data,
// Encap the encapsulation outside it, NetworkOffset and FragmentHeaderOffset
// locate the headers. A reassembler rebuilds the datagram and decodes it with
// DecodeIP and the kept Encap.
//
// The captured payload and the payload length the IP header claims are both
// kept, so callers know how many bytes the snaplen cut. The VLAN stack is kept
// whole (up to MaxVLANs tags, each with its TPID, ID, priority and DEI); the
// outer tag of a stack of two or more on the outermost link names the capture
// point.
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
