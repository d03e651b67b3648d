package layers

import "encoding/binary"

// MaxVLANs is the deepest VLAN stack Decode keeps; a frame with more tags stops
// with StopTooDeep at LayerVLAN.
const MaxVLANs = 8

// MaxIPv6ExtHeaders caps the IPv6 extension header chain Decode walks.
const MaxIPv6ExtHeaders = 16

// Layer names a header in a decode.
type Layer uint8

// Layers, outermost first.
const (
	LayerNone   Layer = iota
	LayerLink         // Ethernet, SLL, SLL2, NULL/LOOP, raw IP version nibble
	LayerVLAN         // 802.1Q/802.1ad tags
	LayerIPv4         // IPv4 header and options
	LayerIPv6         // IPv6 header and extension headers
	LayerTCP          // TCP header and options
	LayerUDP          // UDP header
	LayerMPLS         // MPLS label stack (and an Ethernet pseudowire's control word)
	LayerPPPoE        // PPPoE session header
	LayerPPP          // PPP protocol field inside PPPoE
	LayerLLC          // 802.2 LLC/SNAP header of an 802.3 length frame
	LayerGRE          // GRE header
	LayerERSPAN       // ERSPAN type II or III header
	LayerVXLAN        // VXLAN header
	LayerGeneve       // Geneve header and options
	LayerGTP          // GTP-U header, optional fields and extension headers
	LayerNFLOG        // NFLOG header and TLVs
)

var layerNames = [...]string{"none", "link", "vlan", "ipv4", "ipv6", "tcp", "udp",
	"mpls", "pppoe", "ppp", "llc", "gre", "erspan", "vxlan", "geneve", "gtp", "nflog"}

func (l Layer) String() string {
	if int(l) < len(layerNames) {
		return layerNames[l]
	}
	return "layer?"
}

// StopReason says why a decode stopped before the transport payload.
type StopReason uint8

// Stop reasons.
const (
	StopOK          StopReason = iota // decoded to the transport payload (or an other transport)
	StopLinkType                      // the link type is not supported
	StopUnsupported                   // not IP: another EtherType, LLC SAP or address family, an unknown IP version, a tunnel payload or message type Decode does not know
	StopTruncated                     // the header was cut by the end of the capture (the snaplen)
	StopMalformed                     // the header's fields are inconsistent (lengths, version), or the frame ends inside it though the capture kept all of it
	StopFragment                      // an IP fragment (first or not, outer or inner; not an atomic one): reassemble it, then DecodeIP
	StopTooDeep                       // more than MaxVLANs tags, MaxIPv6ExtHeaders extension headers, MaxMPLSLabels labels, MaxGTPExtHeaders GTP extension headers or MaxTunnels tunnels
)

var reasonNames = [...]string{"ok", "unsupported link type", "unsupported", "truncated", "malformed", "fragment", "too deep"}

func (r StopReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason?"
}

// Stop says where and why a decode stopped. The zero Stop means the decode
// reached the transport layer. Stop is comparable, so callers can count stops in
// a map or an array indexed by Layer and Reason.
type Stop struct {
	Layer  Layer
	Reason StopReason
}

// OK reports whether the decode reached the transport layer.
func (s Stop) OK() bool { return s.Reason == StopOK }

func (s Stop) String() string {
	if s.Reason == StopOK {
		return "ok"
	}
	return s.Layer.String() + " " + s.Reason.String()
}

// Network is the network-layer protocol of a decode.
type Network uint8

// Network protocols.
const (
	NetworkNone Network = iota
	NetworkIPv4
	NetworkIPv6
)

// Transport is the transport-layer protocol of a decode.
type Transport uint8

// Transport protocols. TransportOther is any protocol Decode does not parse
// (ICMP, ESP, SCTP, ...): Packet.Protocol says which.
const (
	TransportNone Transport = iota
	TransportTCP
	TransportUDP
	TransportOther
)

// Packet is a caller-owned, reusable decode result. Decode sets every field
// (the fields of layers it does not reach are zero); the views and Payload
// alias the decoded bytes. Fields are read as Decode left them: a Packet whose
// fields the caller changed is reset with *p = Packet{} before it is reused.
//
// A view is set (non-nil) only when its header was decoded completely; its
// accessors are then safe to call.
//
// In a tunnelled frame the network and transport fields (IPv4, IPv6,
// NetworkOffset, Protocol, TCP, UDP, Payload, fragment fields, ...) describe
// the innermost layers reached; the link fields (Ethernet, SLL, SLL2, Family)
// the outermost link, that of LinkType; EtherType the last EtherType read;
// the embedded Encap what lies between.
//
// The fields every TCP decode sets come first, so a decode writes few cache
// lines.
type Packet struct {
	Stop Stop

	Network   Network
	Transport Transport
	// Protocol is the transport protocol number: the IPv4 protocol, or the
	// IPv6 next header after the extension headers.
	Protocol uint8

	LinkType LinkType
	// EtherType is the protocol type after the VLAN stack (Ethernet, SLL,
	// SLL2, an LLC/SNAP header, or an Ethernet frame carried by a tunnel: the
	// innermost one read); 0 for link types without one.
	EtherType uint16

	// NetworkOffset is the offset in the decoded bytes of the IP header that
	// IPv4 or IPv6 views (the innermost one reached); 0 without one.
	NetworkOffset int

	// Payload is the captured transport payload (the IP payload for an other
	// transport or a fragment), trimmed of Ethernet padding.
	// PayloadOffset is its offset in the decoded bytes. PayloadLength is the
	// length the IP header claims, >= len(Payload): the difference is what the
	// snaplen cut. For TSO/GSO frames (IP length 0) the claimed length comes
	// from the frame's original length.
	Payload       []byte
	PayloadOffset int
	PayloadLength int

	TCP TCP
	// Link layer: at most one of Ethernet, SLL, SLL2 and Family is set.
	Ethernet Ethernet
	IPv4     IPv4 // header with options
	IPv6     IPv6 // fixed header

	TCPOptions TCPOptions // parsed options of TCP (zero when it has none)

	// Encap holds the VLAN stack (NumVLANs, VLANs, LinkVLANs) and the
	// tunnels (NumTunnels, Tunnels) outside the innermost network layer.
	// The tunnels are rare fields: zero in the common decodes.
	Encap

	// The fields below are zero in the common decodes (Ethernet, IPv4 or IPv6
	// without extension headers, TCP).

	SLL    SLL
	SLL2   SLL2
	Family uint32 // NULL/LOOP address family in host order, or the NFLOG one

	// IPv6ExtHeaders counts the IPv6 extension headers walked.
	IPv6ExtHeaders int

	// Fragment is set for any IP fragment that is not atomic (offset 0 and
	// no more fragments): the decode stops at its IP header with
	// StopFragment, Payload holds the fragment's data (after the IPv6
	// Fragment header) and Protocol the protocol of the fragmented datagram.
	Fragment       bool
	MoreFragments  bool
	FragmentOffset int    // in bytes
	FragmentID     uint32 // IPv4 identification or IPv6 fragment identification
	// FragmentHeaderOffset is the offset in the decoded bytes of the IPv6
	// Fragment extension header of a fragment (0 for IPv4): the bytes from
	// NetworkOffset up to it are the unfragmentable part a reassembler
	// puts in front of the reassembled data.
	FragmentHeaderOffset int

	UDP UDP

	// rare is set by a decode that may have set a field the fast path leaves
	// alone (those below the VLAN stack, the tunnels, and TCP options other
	// than the timestamps): the next fast decode clears them first.
	rare bool
}

// reset zeroes p for a decode of link type lt by the general walker. Unused
// tunnel and VLAN entries are kept zero by every decode, so only the used
// ones are cleared; the fields are zeroed one by one, which is much cheaper
// than writing the whole Packet (TestResetIsZero checks none is missed).
func (p *Packet) reset(lt LinkType) {
	if nt := p.NumTunnels; nt != 0 {
		if nt > 0 && nt <= MaxTunnels {
			clear(p.Tunnels[:nt])
		} else {
			clear(p.Tunnels[:])
		}
	}
	if nv := p.NumVLANs; nv != 0 {
		if nv > 0 && nv <= MaxVLANs {
			clear(p.VLANs[:nv])
		} else {
			clear(p.VLANs[:])
		}
	}
	p.Stop = Stop{}
	p.Network, p.Transport, p.Protocol = NetworkNone, TransportNone, 0
	p.LinkType, p.EtherType = lt, 0
	p.NetworkOffset = 0
	p.Payload, p.PayloadOffset, p.PayloadLength = nil, 0, 0
	p.TCP, p.Ethernet, p.IPv4, p.IPv6 = nil, nil, nil, nil
	p.TCPOptions = TCPOptions{}
	p.LinkVLANs, p.NumVLANs, p.NumTunnels = 0, 0, 0
	p.SLL, p.SLL2, p.Family = nil, nil, 0
	p.IPv6ExtHeaders = 0
	p.Fragment, p.MoreFragments, p.FragmentOffset, p.FragmentID = false, false, 0, 0
	p.FragmentHeaderOffset = 0
	p.UDP = nil
	p.rare = true
}

// decode is the general walker: every link type, any VLAN stack, IPv4 options,
// IPv6 extension headers, fragments, UDP, tunnels, and every way a frame can
// stop.
func (p *Packet) decode(o *DecodeOptions, lt LinkType, data []byte, origLen int) Stop {
	p.reset(lt)
	wire := -1 // unknown
	if origLen > 0 {
		wire = max(origLen, len(data))
	}
	switch lt {
	case LinkTypeEthernet:
		if len(data) < EthernetLen {
			return p.short(LayerLink, len(data), wire)
		}
		p.Ethernet = data[:EthernetLen:EthernetLen]
		return p.ether(o, data, EthernetLen, p.Ethernet.EtherType(), wire, true)
	case LinkTypeLinuxSLL:
		if len(data) < SLLLen {
			return p.short(LayerLink, len(data), wire)
		}
		p.SLL = data[:SLLLen:SLLLen]
		return p.sllProto(o, data, SLLLen, p.SLL.Protocol(), wire)
	case LinkTypeLinuxSLL2:
		if len(data) < SLL2Len {
			return p.short(LayerLink, len(data), wire)
		}
		p.SLL2 = data[:SLL2Len:SLL2Len]
		return p.sllProto(o, data, SLL2Len, p.SLL2.Protocol(), wire)
	case LinkTypeNull, LinkTypeLoop:
		if len(data) < NullLen {
			return p.short(LayerLink, len(data), wire)
		}
		// NULL is in the capturing host's byte order, LOOP in network order;
		// both are seen written the other way. Families fit in 16 bits.
		var fam uint32
		if lt == LinkTypeNull {
			fam = binary.LittleEndian.Uint32(data)
			if fam > 0xffff {
				fam = be.Uint32(data)
			}
		} else {
			fam = be.Uint32(data)
			if fam > 0xffff {
				fam = binary.LittleEndian.Uint32(data)
			}
		}
		p.Family = fam
		switch fam {
		case 2:
			return p.ipv4(o, data, NullLen, wire)
		case 24, 28, 30: // AF_INET6 on NetBSD/OpenBSD/BSD/OS, FreeBSD, Darwin
			return p.ipv6(o, data, NullLen, wire)
		}
		return p.stop(LayerLink, StopUnsupported)
	case LinkTypeRaw, LinkTypeRawOld12, LinkTypeRawOld14:
		return p.ipAny(o, data, 0, wire, LayerLink)
	case LinkTypeIPv4:
		return p.ipv4(o, data, 0, wire)
	case LinkTypeIPv6:
		return p.ipv6(o, data, 0, wire)
	case LinkTypePPP, LinkTypePPPHDLC, LinkTypePPPPPPD, LinkTypePPPWithDir, LinkTypeCHDLC:
		return p.pppLink(o, lt, data, wire)
	case LinkTypeNFLOG:
		return p.nflog(o, data, wire)
	}
	return p.stop(LayerLink, StopLinkType)
}

func (p *Packet) stop(l Layer, r StopReason) Stop {
	p.Stop = Stop{l, r}
	return p.Stop
}

// short stops at a header the frame ends inside: truncated when the capture
// cut the frame (or its original length is unknown), malformed when the
// capture kept the whole frame.
func (p *Packet) short(l Layer, caplen, wire int) Stop {
	if wire >= 0 && wire <= caplen {
		return p.stop(l, StopMalformed)
	}
	return p.stop(l, StopTruncated)
}

// need reports whether the n bytes at data[off:] are there; when they are not
// it stops at l: malformed when they lie beyond wire (the end the enclosing
// layers claim, or the frame's length; -1 when unknown), truncated when the
// capture cut them.
func (p *Packet) need(l Layer, data []byte, off, n, wire int) bool {
	if off+n <= len(data) {
		return true
	}
	if wire >= 0 && off+n > wire {
		p.stop(l, StopMalformed)
	} else {
		p.stop(l, StopTruncated)
	}
	return false
}

func isVLANTPID(et uint16) bool {
	return et == EtherTypeVLAN || et == EtherTypeQinQ || et == EtherTypeQinQ1
}

// sllProto decodes what follows the protocol field of a Linux cooked header:
// an EtherType, or 0x0004 for 802.2 LLC frames.
func (p *Packet) sllProto(o *DecodeOptions, data []byte, off int, proto uint16, wire int) Stop {
	if proto == 0x0004 {
		return p.llc(o, data, off, wire)
	}
	return p.ether(o, data, off, proto, wire, false)
}

// ether decodes the VLAN stack and the network layer that follow an EtherType
// field; off is the offset of the bytes after it. dot3 says that a type field
// of 1500 or less is an 802.3 length (an Ethernet header's), which an 802.2
// LLC header follows.
func (p *Packet) ether(o *DecodeOptions, data []byte, off int, et uint16, wire int, dot3 bool) Stop {
	for isVLANTPID(et) {
		if p.NumVLANs == MaxVLANs {
			return p.stop(LayerVLAN, StopTooDeep)
		}
		if len(data)-off < VLANTagLen {
			return p.short(LayerVLAN, len(data), wire)
		}
		tci := be.Uint16(data[off:])
		p.VLANs[p.NumVLANs] = VLAN{TPID: et, ID: tci & 0x0fff, Priority: uint8(tci >> 13), DEI: tci&0x1000 != 0}
		p.NumVLANs++
		if p.NumTunnels == 0 {
			p.LinkVLANs = uint8(p.NumVLANs)
		}
		et = be.Uint16(data[off+2:])
		off += VLANTagLen
	}
	if dot3 && et <= 1500 {
		return p.llc(o, data, off, wire)
	}
	p.EtherType = et
	switch et {
	case EtherTypeIPv4:
		return p.ipv4(o, data, off, wire)
	case EtherTypeIPv6:
		return p.ipv6(o, data, off, wire)
	case EtherTypeMPLS, EtherTypeMPLSMulticast:
		return p.mpls(o, data, off, wire)
	case EtherTypePPPoESession:
		return p.pppoe(o, data, off, wire)
	}
	return p.stop(LayerLink, StopUnsupported)
}

// ipAny decodes an IP header whose version its first nibble gives; l is the
// layer that stops when there is none.
func (p *Packet) ipAny(o *DecodeOptions, data []byte, off, wire int, l Layer) Stop {
	if !p.need(l, data, off, 1, wire) {
		return p.Stop
	}
	switch data[off] >> 4 {
	case 4:
		return p.ipv4(o, data, off, wire)
	case 6:
		return p.ipv6(o, data, off, wire)
	}
	return p.stop(l, StopUnsupported)
}

// ipv4 decodes an IPv4 header at data[off:] and what follows it.
// wire is the frame's original length, or -1 when unknown; inside a tunnel it
// is the end the enclosing layers claim, and data ends at the captured part
// of that.
func (p *Packet) ipv4(o *DecodeOptions, data []byte, off int, wire int) Stop {
	b := data[off:]
	if len(b) < IPv4MinLen {
		return p.short(LayerIPv4, len(data), wire)
	}
	if b[0]>>4 != 4 {
		return p.stop(LayerIPv4, StopMalformed)
	}
	hl := int(b[0]&0x0f) * 4
	if hl < IPv4MinLen {
		return p.stop(LayerIPv4, StopMalformed)
	}
	tl := int(be.Uint16(b[2:]))
	end := off + tl // the end of the datagram the header claims
	if tl == 0 {
		// TSO/GSO: the length is the frame's.
		end = max(wire, len(data))
	} else if tl < hl {
		return p.stop(LayerIPv4, StopMalformed)
	}
	if hl > len(b) {
		return p.short(LayerIPv4, len(data), wire)
	}
	if wire >= 0 && end > wire {
		end = wire // the header claims more than the wire carried
	}
	p.IPv4 = b[:hl:hl]
	p.IPv6 = nil // an outer header's
	p.IPv6ExtHeaders = 0
	p.Network = NetworkIPv4
	p.NetworkOffset = off
	p.Protocol = b[9]
	capEnd := min(end, len(data))
	frag := be.Uint16(b[6:])
	if fo, mf := int(frag&0x1fff)*8, frag&0x2000 != 0; fo != 0 || mf {
		p.Fragment, p.MoreFragments, p.FragmentOffset = true, mf, fo
		p.FragmentID = uint32(be.Uint16(b[4:]))
		p.Transport = TransportOther
		p.setPayload(data, off+hl, capEnd, end)
		return p.stop(LayerIPv4, StopFragment)
	}
	return p.transport(o, data, off+hl, capEnd, end)
}

// ipv6 decodes an IPv6 header at data[off:], its extension headers and what
// follows them.
func (p *Packet) ipv6(o *DecodeOptions, data []byte, off int, wire int) Stop {
	b := data[off:]
	if len(b) < IPv6Len {
		return p.short(LayerIPv6, len(data), wire)
	}
	if b[0]>>4 != 6 {
		return p.stop(LayerIPv6, StopMalformed)
	}
	end := off + IPv6Len + int(be.Uint16(b[4:]))
	if be.Uint16(b[4:]) == 0 {
		// Jumbogram or TSO/GSO: the length is the frame's.
		end = max(wire, len(data))
	}
	if wire >= 0 && end > wire {
		end = wire // the header claims more than the wire carried
	}
	p.IPv6 = b[:IPv6Len:IPv6Len]
	p.IPv4 = nil // an outer header's
	p.IPv6ExtHeaders = 0
	p.Network = NetworkIPv6
	p.NetworkOffset = off
	p.Protocol = 0
	capEnd := min(end, len(data))
	nh := b[6]
	pos := off + IPv6Len
	for {
		var l int
		switch nh {
		case IPProtoHopByHop, IPProtoRouting, IPProtoDstOpts, IPProtoMobility, IPProtoHIP, IPProtoShim6,
			IPProtoAH, IPProtoFragment:
		default:
			p.Protocol = nh
			return p.transport(o, data, pos, capEnd, end)
		}
		if p.IPv6ExtHeaders == MaxIPv6ExtHeaders {
			p.Protocol = nh
			return p.stop(LayerIPv6, StopTooDeep)
		}
		if end-pos < 2 {
			return p.stop(LayerIPv6, StopMalformed)
		}
		if capEnd-pos < 2 {
			return p.stop(LayerIPv6, StopTruncated)
		}
		switch nh {
		case IPProtoFragment:
			l = 8
		case IPProtoAH:
			l = (int(data[pos+1]) + 2) * 4
		default:
			l = (int(data[pos+1]) + 1) * 8
		}
		if end-pos < l {
			return p.stop(LayerIPv6, StopMalformed)
		}
		if capEnd-pos < l {
			return p.stop(LayerIPv6, StopTruncated)
		}
		p.IPv6ExtHeaders++
		cur := nh
		nh = data[pos]
		if cur == IPProtoFragment {
			// An atomic fragment (offset 0, no more fragments) is a whole
			// datagram (RFC 6946): not flagged, and decoded on.
			field := be.Uint16(data[pos+2:])
			if fo, mf := int(field&^7), field&1 != 0; fo != 0 || mf {
				p.Fragment, p.MoreFragments, p.FragmentOffset = true, mf, fo
				p.FragmentID = be.Uint32(data[pos+4:])
				p.FragmentHeaderOffset = pos
				p.Protocol = nh
				p.Transport = TransportOther
				p.setPayload(data, pos+l, capEnd, end)
				return p.stop(LayerIPv6, StopFragment)
			}
		}
		pos += l
	}
}

// transport decodes the transport header at data[pos:]; capEnd is the end of
// the captured datagram and end the end it claims (capEnd <= end). A tunnel
// it carries (GRE, IP in IP, a UDP tunnel port) is decoded on with data cut
// at capEnd and end as the claimed end.
func (p *Packet) transport(o *DecodeOptions, data []byte, pos, capEnd, end int) Stop {
	switch p.Protocol {
	case IPProtoTCP:
		if end-pos < TCPMinLen {
			return p.stop(LayerTCP, StopMalformed)
		}
		if capEnd-pos < TCPMinLen {
			return p.stop(LayerTCP, StopTruncated)
		}
		doff := int(data[pos+12]>>4) * 4
		if doff < TCPMinLen || end-pos < doff {
			return p.stop(LayerTCP, StopMalformed)
		}
		if capEnd-pos < doff {
			return p.stop(LayerTCP, StopTruncated)
		}
		p.TCP = data[pos : pos+doff : pos+doff]
		p.Transport = TransportTCP
		if doff > TCPMinLen {
			p.TCPOptions.Parse(p.TCP[TCPMinLen:])
		}
		p.setPayload(data, pos+doff, capEnd, end)
	case IPProtoUDP:
		if end-pos < UDPLen {
			return p.stop(LayerUDP, StopMalformed)
		}
		if capEnd-pos < UDPLen {
			return p.stop(LayerUDP, StopTruncated)
		}
		u := UDP(data[pos : pos+UDPLen : pos+UDPLen])
		if ul := int(u.Length()); ul >= UDPLen && ul <= end-pos {
			end = pos + ul
			capEnd = min(capEnd, end)
		}
		if t := o.udpTunnel(u.DstPort()); t != TunnelNone {
			return p.udpTunnel(o, t, data[:capEnd], pos+UDPLen, end)
		}
		p.UDP = u
		p.Transport = TransportUDP
		p.setPayload(data, pos+UDPLen, capEnd, end)
	case IPProtoGRE:
		return p.gre(o, data[:capEnd], pos, end)
	case IPProtoIPIP, IPProtoIPv6:
		// The layer that would be too deep is the carried IP header.
		if p.Protocol == IPProtoIPIP {
			if !p.push(LayerIPv4, TunnelIPIP, false, 0) {
				return p.Stop
			}
			return p.ipv4(o, data[:capEnd], pos, end)
		}
		if !p.push(LayerIPv6, TunnelIPIP, false, 0) {
			return p.Stop
		}
		return p.ipv6(o, data[:capEnd], pos, end)
	default:
		p.Transport = TransportOther
		p.setPayload(data, pos, capEnd, end)
	}
	return p.Stop
}

func (p *Packet) setPayload(data []byte, start, capEnd, end int) {
	p.Payload = data[start:capEnd:capEnd]
	p.PayloadOffset = start
	p.PayloadLength = end - start
}

// CapturePoint returns the outer VLAN ID of a stack of two or more tags on
// the outermost link (LinkVLANs): the probe that captured the frame. Tags of
// frames carried in tunnels do not count.
func (p *Packet) CapturePoint() (id uint16, ok bool) {
	if p.LinkVLANs >= 2 {
		return p.VLANs[0].ID, true
	}
	return 0, false
}

// FlowKey returns the flow key of the packet's direction: the VLAN IDs of the
// key (outer first; with capturePoint true the outer tag of a stack of two or
// more on the outermost link is left out, with false every tag is in the key;
// at most MaxKeyVLANs, the outermost ones), the IP addresses of the innermost
// IP header and the TCP or UDP ports (0 for other transports and fragments).
// A packet without an IP header gives a key with zero addresses.
func (p *Packet) FlowKey(capturePoint bool) FlowKey {
	var k FlowKey
	i := 0
	if p.NumTunnels > 0 {
		// The tags of the link a tunnel crossed belong to the carrier's
		// network, not the flow's: a flow seen through two mirror sessions
		// on different carrier VLANs is one flow. The tags inside the
		// tunnel are the flow's.
		i = int(p.LinkVLANs)
		for t := p.NumTunnels - 1; t >= 0; t-- {
			if ty := p.Tunnels[t].Type; ty == TunnelVXLAN || ty == TunnelGeneve {
				if p.Tunnels[t].HasID {
					k.VNI, k.HasVNI = p.Tunnels[t].ID, true
				}
				break
			}
		}
	} else if capturePoint && p.LinkVLANs >= 2 {
		i = 1
	}
	for ; i < p.NumVLANs && int(k.NumVLANs) < MaxKeyVLANs; i++ {
		k.VLANs[k.NumVLANs] = p.VLANs[i].ID
		k.NumVLANs++
	}
	switch p.Network {
	case NetworkIPv4:
		copy(k.SrcIP[:4], p.IPv4[12:16])
		copy(k.DstIP[:4], p.IPv4[16:20])
	case NetworkIPv6:
		k.V6 = true
		copy(k.SrcIP[:], p.IPv6[8:24])
		copy(k.DstIP[:], p.IPv6[24:40])
	}
	switch p.Transport {
	case TransportTCP:
		k.SrcPort, k.DstPort = p.TCP.SrcPort(), p.TCP.DstPort()
	case TransportUDP:
		k.SrcPort, k.DstPort = p.UDP.SrcPort(), p.UDP.DstPort()
	}
	return k
}
