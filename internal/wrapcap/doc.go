// Package wrapcap makes tunnelled, re-framed and fragmented variants of
// captures, to test reseq's tunnel decoding and IP reassembly on real traffic.
// Its header serializers are its own (written from RFC 7348, 8926, 2784, 2890,
// 2516, 4385, 3GPP TS 29.281 and the ERSPAN draft), not the layers package's,
// so a round trip through them and reseq's decoders checks two independent
// implementations against each other.
//
// Input: pcap or pcapng, Ethernet (VLAN tags allowed), Linux SLL or SLL2, or
// raw IP. The IP packet of every frame is taken out (Ethernet padding cut
// off) and re-encapsulated; non-IP Ethernet frames pass unchanged when the
// output is Ethernet, and are skipped otherwise. Output: a little-endian
// pcap, nanosecond timestamps when the input had them (pcapng: always),
// timestamps kept.
//
// # Spec
//
// A spec is a comma-separated list of items; an item that starts with a digit
// continues the previous one (mpls:100,200). Arguments are colon-separated
// and optional where a default is shown. At most one tunnel and at most one
// link framing; everything else composes:
//
//	drop:P[:SEED]        drop whole original TCP segments that carry data (no SYN, FIN, RST) with probability P,
//	                     before anything else (capture loss, as perturb.py models it)
//	frag:MTU             fragment the inner (original) IP packet so no fragment exceeds MTU bytes
//	                     (a whole TCP packet gets its checksum computed first, as a fragmenting host does)
//	frag-rev:MTU         ... fragments in reverse order
//	frag-shuffle:MTU[:SEED]  ... fragments in a random order
//	outer-frag:MTU       fragment the outer IP packet of the tunnel
//	fragdrop:P[:SEED]    drop single fragments made by frag or outer-frag
//
// Tunnels (an outer IP header, IPv4 unless noted):
//
//	gre | gre6           GRE carrying IP (EtherType 0x0800/0x86DD); gre6: outer IPv6
//	gre-key:K            GRE with the K bit; gre-seq: the S bit; gre-csum: the C bit
//	                     with a checksum; gre-eth: protocol 0x6558, the Ethernet frame.
//	                     These GRE items combine: gre6,gre-key:5,gre-seq,gre-csum
//	erspan2[:SESSION]    GRE (S bit) 0x88BE, ERSPAN type II, the Ethernet frame (session 7)
//	erspan3[:SESSION]    GRE (S bit) 0x22EB, ERSPAN type III; erspan3p: with the
//	                     platform-specific subheader (O bit)
//	vxlan[:VNI[:PORT]]   UDP to 4789 (VNI 5001), VXLAN, the Ethernet frame; vxlan6: outer
//	                     IPv6 with the UDP checksum (over IPv4 the UDP checksum is 0)
//	geneve[:VNI[:PORT]]  UDP to 6081 (VNI 5002), Geneve with one 8-byte option, the
//	                     Ethernet frame (protocol 0x6558); geneve6: outer IPv6
//	gtpu[:TEID[:PORT]]   UDP 2152 to 2152 (TEID 0x1001), GTP-U G-PDU with the E flag
//	                     and a PDU session container extension header, the IP packet;
//	                     gtpu6: outer IPv6
//	ipip | 4in4 | 6in4   outer IPv4, protocol 4 or 41 by the inner packet's version
//	ipip6 | 4in6 | 6in6  outer IPv6, next header 4 or 41 by the inner packet's version
//	                     (the digit before "in" is documentation: a 6in4 spec on
//	                     IPv4 traffic makes 4in4)
//	mirror-vxlan[:P[:SEED]]    two VXLAN mirror sessions: every packet twice, VNI 101
//	                     from 198.51.100.1 and VNI 102 from 198.51.100.2, both to
//	                     203.0.113.10:4789, each copy dropped with probability P on
//	                     its own, session B stamped MirrorDelay later, merged by time
//	mirror-erspan2[:P[:SEED]], mirror-erspan3[:P[:SEED]]  the same with ERSPAN
//	                     sessions 101 and 102
//
// Link framings (of the outer packet when there is a tunnel, else of the
// original one; Ethernet when none is given):
//
//	mpls[:L[,L...]]      Ethernet 0x8847, label stack (default 100), the IP packet
//	mpls-pw[:L]          Ethernet 0x8847, one label (200), control word with a sequence
//	                     number (RFC 4385), the Ethernet frame; mpls-pw-nocw: no control word
//	pppoe[:SESSION]      Ethernet 0x8864, PPPoE session (0x1234), PPP 0x0021/0x0057;
//	qinq-pppoe[:SESSION] the same behind an 0x88A8 tag (VLAN 10) and an 0x8100 tag (VLAN 20)
//	llcsnap              802.3 length, LLC aa aa 03, SNAP 00 00 00 + EtherType; the
//	                     802.3 payload must stay within 1500 bytes (add frag:1492)
//	nflog                link type 239: NFLOG header (resource 42), packet-header,
//	                     prefix ("wrapcap") and payload TLVs (TLV fields little-endian)
//	ppp | ppp-hdlc       link type 9 or 50: ff 03, PPP protocol, the IP packet
//	ppp-dir              link type 204 (PPP_WITH_DIR): a direction byte (1: sent by
//	                     the lower address, 0: received), then as ppp
//	ppp-pppd             link type 166 (PPP_PPPD): the direction byte replaces ff
//	                     (tshark 4.0 does not read link type 166)
//
// # Fixed addresses
//
// A packet's direction is forward when its inner source address is below its
// destination address (the client 10.77.0.1 / fd77::1 of the real captures).
// Outer Ethernet frames of tunnels go from 02:00:00:00:00:01 to
// 02:00:00:00:00:02 forward (swapped backward); outer IPv4 from 192.0.2.1 to
// 192.0.2.2, outer IPv6 from 2001:db8::1 to 2001:db8::2 (swapped backward).
// Mirror sessions do not swap. Without a tunnel, frames keep the original
// MACs (and, for plain Ethernet output, the original link header with its
// tags); a synthesized inner Ethernet header (input without Ethernet) uses
// 02:00:00:00:01:01 and 02:00:00:00:01:02. The UDP source port of VXLAN and
// Geneve is 49152 plus a hash of the inner addresses and ports, the same
// both ways. Outer IPv4 IDs count per tunnel from 1; IPv6 fragment IDs count
// from 0x10000001; IPv4 fragments keep the packet's own ID.
//
// # Lengths and truncation
//
// Every length field names the wire length. A packet cut by the input's
// snaplen stays cut: added headers add to both the captured and the original
// length, so the same tail is missing. A fragment holds the captured part of
// its range and keeps its full wire length (a fragment wholly past the
// capture has its headers only). Checksums that cover the payload (GRE with
// the C bit, UDP over IPv6) are computed over the captured bytes, so they are
// wrong for truncated packets.
package wrapcap
