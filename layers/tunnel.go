package layers

import "encoding/binary"

// This file holds the carriers and tunnels the general walker descends
// through: MPLS, PPPoE and the PPP link types, 802.2 LLC/SNAP, NFLOG, GRE
// (with ERSPAN), IP in IP, and the UDP tunnels VXLAN, Geneve and GTP-U.
//
// Every function takes the bytes to decode and wire, the end the enclosing
// layers claim (the frame's length at the outermost level, -1 when unknown);
// inside IP, data is cut at the captured part of that end, so Ethernet padding
// and the bytes after a datagram are never read as part of it.

// MaxMPLSLabels caps the MPLS label stack Decode walks.
const MaxMPLSLabels = 16

// MaxGTPExtHeaders caps the GTP-U extension header chain Decode walks.
const MaxGTPExtHeaders = 16

// DecodeWith is Decode with options: the UDP ports of the tunnels. A nil opt
// is the IANA ports (what Decode uses).
func (p *Packet) DecodeWith(opt *DecodeOptions, lt LinkType, data []byte, origLen int) Stop {
	return p.decodeFast(opt, lt, data, origLen)
}

// DecodeIP decodes datagram, a whole IP datagram (version from its first
// nibble), as if it had been found inside enc: p gets link type lt, enc's
// VLAN stack and tunnels, and the decode goes on from there (a tunnel in the
// datagram adds to enc's, up to MaxTunnels). It is meant for datagrams
// rebuilt from fragments: enc is then the Encap of the fragments' decode.
// The original length is len(datagram); offsets are in datagram. A nil enc is
// no encapsulation.
func (p *Packet) DecodeIP(opt *DecodeOptions, lt LinkType, enc *Encap, datagram []byte) Stop {
	p.reset(lt)
	if enc != nil {
		// Only the entries in use are copied, so the unused ones stay zero
		// as every decode leaves them; counts out of range are clamped.
		nv := min(max(enc.NumVLANs, 0), MaxVLANs)
		nt := min(max(enc.NumTunnels, 0), MaxTunnels)
		copy(p.VLANs[:nv], enc.VLANs[:nv])
		copy(p.Tunnels[:nt], enc.Tunnels[:nt])
		p.NumVLANs, p.NumTunnels = nv, nt
		p.LinkVLANs = min(enc.LinkVLANs, uint8(nv))
	}
	return p.ipAny(opt, datagram, 0, len(datagram), LayerLink)
}

// UDP ports of the UDP tunnels.
const (
	PortVXLAN      = 4789 // IANA VXLAN
	PortVXLANLinux = 8472 // the Linux kernel's VXLAN default before the IANA port: only when configured
	PortGeneve     = 6081
	PortGTPU       = 2152
)

func portIn(ports []uint16, port, def uint16) bool {
	if ports == nil {
		return port == def
	}
	for _, q := range ports {
		if q == port {
			return true
		}
	}
	return false
}

// udpTunnel returns the tunnel a UDP destination port carries.
func (o *DecodeOptions) udpTunnel(port uint16) TunnelType {
	if o == nil {
		switch port {
		case PortVXLAN:
			return TunnelVXLAN
		case PortGeneve:
			return TunnelGeneve
		case PortGTPU:
			return TunnelGTPU
		}
		return TunnelNone
	}
	switch {
	case portIn(o.VXLANPorts, port, PortVXLAN):
		return TunnelVXLAN
	case portIn(o.GenevePorts, port, PortGeneve):
		return TunnelGeneve
	case portIn(o.GTPUPorts, port, PortGTPU):
		return TunnelGTPU
	}
	return TunnelNone
}

// push records a tunnel, with the addresses of the innermost IP header
// decoded so far, or stops at l with StopTooDeep when MaxTunnels are
// recorded already.
func (p *Packet) push(l Layer, t TunnelType, hasID bool, id uint32) bool {
	if p.NumTunnels >= MaxTunnels || p.NumTunnels < 0 {
		p.stop(l, StopTooDeep)
		return false
	}
	e := &p.Tunnels[p.NumTunnels]
	*e = Tunnel{Type: t, HasID: hasID, ID: id, Network: p.Network}
	switch p.Network {
	case NetworkIPv4:
		copy(e.Src[:4], p.IPv4[12:16])
		copy(e.Dst[:4], p.IPv4[16:20])
	case NetworkIPv6:
		copy(e.Src[:], p.IPv6[8:24])
		copy(e.Dst[:], p.IPv6[24:40])
	}
	p.NumTunnels++
	return true
}

// innerEther decodes an Ethernet frame a tunnel carries at data[off:].
func (p *Packet) innerEther(o *DecodeOptions, data []byte, off, wire int) Stop {
	if !p.need(LayerLink, data, off, EthernetLen, wire) {
		return p.Stop
	}
	return p.ether(o, data, off+EthernetLen, be.Uint16(data[off+12:]), wire, true)
}

// udpTunnel decodes the tunnel header of type t at data[off:] (after a UDP
// header) and what it carries.
func (p *Packet) udpTunnel(o *DecodeOptions, t TunnelType, data []byte, off, wire int) Stop {
	switch t {
	case TunnelVXLAN:
		if !p.need(LayerVXLAN, data, off, VXLANLen, wire) {
			return p.Stop
		}
		h := VXLAN(data[off : off+VXLANLen])
		if !h.ValidVNI() {
			return p.stop(LayerVXLAN, StopMalformed)
		}
		if !p.push(LayerVXLAN, TunnelVXLAN, true, h.VNI()) {
			return p.Stop
		}
		return p.innerEther(o, data, off+VXLANLen, wire)
	case TunnelGeneve:
		if !p.need(LayerGeneve, data, off, GeneveMinLen, wire) {
			return p.Stop
		}
		h := Geneve(data[off:])
		if h.Version() != 0 {
			return p.stop(LayerGeneve, StopMalformed)
		}
		hl := h.HeaderLength()
		if !p.need(LayerGeneve, data, off, hl, wire) {
			return p.Stop
		}
		if !p.push(LayerGeneve, TunnelGeneve, true, h.VNI()) {
			return p.Stop
		}
		switch h.Protocol() {
		case EtherTypeTransparentBridging:
			return p.innerEther(o, data, off+hl, wire)
		case EtherTypeIPv4:
			return p.ipv4(o, data, off+hl, wire)
		case EtherTypeIPv6:
			return p.ipv6(o, data, off+hl, wire)
		}
		return p.stop(LayerGeneve, StopUnsupported)
	default:
		return p.gtpu(o, data, off, wire)
	}
}

// gtpu decodes a GTP-U (version 1) header, its optional fields and extension
// headers, and the user datagram of a G-PDU.
func (p *Packet) gtpu(o *DecodeOptions, data []byte, off, wire int) Stop {
	if !p.need(LayerGTP, data, off, GTPUMinLen, wire) {
		return p.Stop
	}
	h := GTPU(data[off : off+GTPUMinLen])
	if h.Version() != 1 || !h.ProtocolGTP() {
		return p.stop(LayerGTP, StopMalformed)
	}
	// The length field counts the bytes after the mandatory header; a claim
	// beyond the UDP datagram is cut back to it, as IP lengths are.
	end := off + GTPUMinLen + int(h.Length())
	if end < wire {
		wire = end
		data = data[:min(len(data), end)]
	}
	hl := GTPUMinLen
	if h.Flags()&(GTPFlagE|GTPFlagS|GTPFlagPN) != 0 {
		// Sequence number, N-PDU number and next extension header type are
		// all present when any of the three flags is.
		hl += 4
		if !p.need(LayerGTP, data, off, hl, wire) {
			return p.Stop
		}
		next := data[off+hl-1]
		for n := 0; h.Flags()&GTPFlagE != 0 && next != 0; n++ {
			if n == MaxGTPExtHeaders {
				return p.stop(LayerGTP, StopTooDeep)
			}
			if !p.need(LayerGTP, data, off, hl+1, wire) {
				return p.Stop
			}
			l := int(data[off+hl]) * 4 // in units of 4 bytes, length and next type included
			if l == 0 {
				return p.stop(LayerGTP, StopMalformed)
			}
			if !p.need(LayerGTP, data, off, hl+l, wire) {
				return p.Stop
			}
			hl += l
			next = data[off+hl-1]
		}
	}
	if !p.push(LayerGTP, TunnelGTPU, true, h.TEID()) {
		return p.Stop
	}
	if h.MessageType() != GTPMsgGPDU {
		// Echo, error indication, end marker, ...: no user datagram.
		return p.stop(LayerGTP, StopUnsupported)
	}
	return p.ipAny(o, data, off+hl, wire, LayerGTP)
}

// gre decodes a GRE header (RFC 2784, 2890) at data[off:] and what it carries.
func (p *Packet) gre(o *DecodeOptions, data []byte, off, wire int) Stop {
	if !p.need(LayerGRE, data, off, GREMinLen, wire) {
		return p.Stop
	}
	h := GRE(data[off:])
	if h.Version() != 0 || h.Flags()&GREFlagRouting != 0 {
		// Version 1 is PPTP's enhanced GRE; a routing field is RFC 1701's
		// source routing.
		return p.stop(LayerGRE, StopUnsupported)
	}
	hl := h.HeaderLength()
	if !p.need(LayerGRE, data, off, hl, wire) {
		return p.Stop
	}
	key, hasKey := h.Key()
	if !p.push(LayerGRE, TunnelGRE, hasKey, key) {
		return p.Stop
	}
	pos := off + hl
	switch h.Protocol() {
	case EtherTypeIPv4:
		return p.ipv4(o, data, pos, wire)
	case EtherTypeIPv6:
		return p.ipv6(o, data, pos, wire)
	case EtherTypeTransparentBridging:
		return p.innerEther(o, data, pos, wire)
	case EtherTypeMPLS, EtherTypeMPLSMulticast:
		return p.mpls(o, data, pos, wire)
	case EtherTypeERSPAN:
		if h.Flags()&GREFlagSeq == 0 {
			// ERSPAN type I: no ERSPAN header, the mirrored frame follows.
			if !p.push(LayerERSPAN, TunnelERSPAN, false, 0) {
				return p.Stop
			}
			return p.innerEther(o, data, pos, wire)
		}
		if !p.need(LayerERSPAN, data, pos, ERSPAN2Len, wire) {
			return p.Stop
		}
		e := ERSPAN(data[pos : pos+ERSPAN2Len])
		if e.Version() != 1 {
			return p.stop(LayerERSPAN, StopMalformed)
		}
		if !p.push(LayerERSPAN, TunnelERSPAN, true, uint32(e.SessionID())) {
			return p.Stop
		}
		return p.innerEther(o, data, pos+ERSPAN2Len, wire)
	case EtherTypeERSPAN3:
		if !p.need(LayerERSPAN, data, pos, ERSPAN3Len, wire) {
			return p.Stop
		}
		e := ERSPAN(data[pos : pos+ERSPAN3Len])
		if e.Version() != 2 {
			return p.stop(LayerERSPAN, StopMalformed)
		}
		el := ERSPAN3Len
		if e.PlatformSubheader() {
			el += 8
			if !p.need(LayerERSPAN, data, pos, el, wire) {
				return p.Stop
			}
		}
		if !p.push(LayerERSPAN, TunnelERSPAN, true, uint32(e.SessionID())) {
			return p.Stop
		}
		if e.FrameType() != 0 {
			return p.stop(LayerERSPAN, StopUnsupported) // not an Ethernet frame
		}
		return p.innerEther(o, data, pos+el, wire)
	}
	return p.stop(LayerGRE, StopUnsupported)
}

// mpls decodes an MPLS label stack at data[off:] and what follows its bottom.
//
// MPLS does not say what it carries; like Wireshark, Decode looks at the
// first nibble after the stack: 4 is IPv4, 6 is IPv6, and 0 is an Ethernet
// pseudowire whose 4-byte control word (RFC 4385, first nibble 0) comes
// first. A pseudowire without a control word, whose destination MAC address
// starts with any other nibble, stops unsupported (and one starting with 4 or
// 6 is misread as IP: the guess is the usual one, not a certainty).
func (p *Packet) mpls(o *DecodeOptions, data []byte, off, wire int) Stop {
	var label uint32
	for n := 0; ; n++ {
		if n == MaxMPLSLabels {
			return p.stop(LayerMPLS, StopTooDeep)
		}
		if !p.need(LayerMPLS, data, off, MPLSLabelLen, wire) {
			return p.Stop
		}
		e := MPLSLabel(be.Uint32(data[off:]))
		off += MPLSLabelLen
		if e.BottomOfStack() {
			label = e.Label()
			break
		}
	}
	if !p.push(LayerMPLS, TunnelMPLS, true, label) {
		return p.Stop
	}
	if !p.need(LayerMPLS, data, off, 1, wire) {
		return p.Stop
	}
	switch data[off] >> 4 {
	case 4:
		return p.ipv4(o, data, off, wire)
	case 6:
		return p.ipv6(o, data, off, wire)
	case 0:
		if !p.need(LayerMPLS, data, off, 4, wire) {
			return p.Stop
		}
		return p.innerEther(o, data, off+4, wire)
	}
	return p.stop(LayerMPLS, StopUnsupported)
}

// pppoe decodes a PPPoE session header (RFC 2516) at data[off:] and the PPP
// protocol and datagram after it.
func (p *Packet) pppoe(o *DecodeOptions, data []byte, off, wire int) Stop {
	if !p.need(LayerPPPoE, data, off, PPPoELen, wire) {
		return p.Stop
	}
	if data[off] != 0x11 || data[off+1] != 0 { // version 1, type 1; code 0 (session data)
		return p.stop(LayerPPPoE, StopMalformed)
	}
	// The length field bounds the PPP frame: what follows it is padding.
	if end := off + PPPoELen + int(be.Uint16(data[off+4:])); wire < 0 || end < wire {
		wire = end
		data = data[:min(len(data), end)]
	}
	if !p.push(LayerPPPoE, TunnelPPPoE, true, uint32(be.Uint16(data[off+2:]))) {
		return p.Stop
	}
	return p.ppp(o, data, off+PPPoELen, wire, LayerPPP)
}

// PPP protocol numbers Decode follows.
const (
	PPPProtoIPv4          = 0x0021
	PPPProtoIPv6          = 0x0057
	PPPProtoMPLS          = 0x0281
	PPPProtoMPLSMulticast = 0x0283
)

// ppp decodes a PPP protocol field (two bytes, or one when compressed: an odd
// first byte) at data[off:] and the datagram after it; l is the layer it
// stops at.
func (p *Packet) ppp(o *DecodeOptions, data []byte, off, wire int, l Layer) Stop {
	if !p.need(l, data, off, 1, wire) {
		return p.Stop
	}
	proto, n := uint16(data[off]), 1
	if proto&1 == 0 {
		if !p.need(l, data, off, 2, wire) {
			return p.Stop
		}
		proto, n = be.Uint16(data[off:]), 2
	}
	switch proto {
	case PPPProtoIPv4:
		return p.ipv4(o, data, off+n, wire)
	case PPPProtoIPv6:
		return p.ipv6(o, data, off+n, wire)
	case PPPProtoMPLS, PPPProtoMPLSMulticast:
		return p.mpls(o, data, off+n, wire)
	}
	return p.stop(l, StopUnsupported)
}

// pppLink decodes the PPP and Cisco HDLC link types.
func (p *Packet) pppLink(o *DecodeOptions, lt LinkType, data []byte, wire int) Stop {
	off := 0
	switch lt {
	case LinkTypePPPWithDir:
		off = 1 // direction: 0 received, else sent
		fallthrough
	case LinkTypePPP:
		// HDLC-like framing (address 0xff, control 0x03) or none.
		if len(data) > off && data[off] == 0xff {
			if !p.need(LayerLink, data, off, 2, wire) {
				return p.Stop
			}
			if data[off+1] != 0x03 {
				return p.stop(LayerLink, StopMalformed)
			}
			off += 2
		}
	case LinkTypePPPPPPD:
		// HDLC-like framing with a direction byte in place of the address.
		if !p.need(LayerLink, data, 0, 2, wire) {
			return p.Stop
		}
		off = 2
	case LinkTypePPPHDLC, LinkTypeCHDLC:
		if !p.need(LayerLink, data, 0, 1, wire) {
			return p.Stop
		}
		switch data[0] {
		case 0xff:
			if !p.need(LayerLink, data, 0, 2, wire) {
				return p.Stop
			}
			if data[1] != 0x03 {
				return p.stop(LayerLink, StopMalformed)
			}
			off = 2
		case 0x0f, 0x8f: // Cisco HDLC: address, control, EtherType
			if !p.need(LayerLink, data, 0, 4, wire) {
				return p.Stop
			}
			p.EtherType = be.Uint16(data[2:])
			return p.ether(o, data, 4, p.EtherType, wire, false)
		default:
			return p.stop(LayerLink, StopUnsupported)
		}
	}
	return p.ppp(o, data, off, wire, LayerLink)
}

// llc decodes an 802.2 LLC header at data[off:]: only SNAP with an EtherType
// (OUI 0, or Cisco's 0x0000f8) carries something Decode follows.
func (p *Packet) llc(o *DecodeOptions, data []byte, off, wire int) Stop {
	if !p.need(LayerLLC, data, off, 3, wire) {
		return p.Stop
	}
	if data[off] != 0xaa || data[off+1] != 0xaa || data[off+2] != 0x03 {
		return p.stop(LayerLLC, StopUnsupported) // STP, NetBIOS, IPX, ...
	}
	if !p.need(LayerLLC, data, off, SNAPLen, wire) {
		return p.Stop
	}
	if data[off+3] != 0 || data[off+4] != 0 || data[off+5] != 0 && data[off+5] != 0xf8 {
		return p.stop(LayerLLC, StopUnsupported) // an organisation's own protocol
	}
	return p.ether(o, data, off+SNAPLen, be.Uint16(data[off+6:]), wire, false)
}

// NFLOG TLV types.
const (
	nfulaPacketHdr = 1 // struct nfulnl_msg_packet_hdr: hardware protocol (big-endian), hook
	nfulaPayload   = 9
)

// nflog decodes a Linux NFLOG record: a 4-byte header (address family,
// version, resource ID) and TLVs, each a 2-byte length (the 4-byte TLV header
// included) and a 2-byte type in the logging host's byte order, padded to 4
// bytes. The NFULA_PAYLOAD TLV holds the IP datagram.
func (p *Packet) nflog(o *DecodeOptions, data []byte, wire int) Stop {
	if !p.need(LayerNFLOG, data, 0, NFLOGLen, wire) {
		return p.Stop
	}
	p.Family = uint32(data[0])
	if data[1] != 0 {
		return p.stop(LayerNFLOG, StopMalformed) // version 0 only
	}
	// The family says how to read the payload: AF_INET (2), AF_INET6
	// (10); for others (NFPROTO_BRIDGE, 7, from ebtables) the packet
	// header's hardware protocol (an EtherType) does.
	var hwProto uint16
	bigEndian := false
	for off := NFLOGLen; ; {
		if off >= len(data) && wire >= 0 && off >= wire {
			return p.stop(LayerNFLOG, StopUnsupported) // no payload TLV
		}
		if !p.need(LayerNFLOG, data, off, 4, wire) {
			return p.Stop
		}
		if off == NFLOGLen {
			// Types are small: one that reads above 0xff (flags aside)
			// in little-endian order was written big-endian.
			bigEndian = binary.LittleEndian.Uint16(data[off+2:])&0x3fff > 0xff
		}
		l, t := int(binary.LittleEndian.Uint16(data[off:])), binary.LittleEndian.Uint16(data[off+2:])
		if bigEndian {
			l, t = int(be.Uint16(data[off:])), be.Uint16(data[off+2:])
		}
		if l < 4 {
			return p.stop(LayerNFLOG, StopMalformed)
		}
		if t&0x3fff == nfulaPacketHdr && l >= 6 && off+6 <= len(data) {
			hwProto = be.Uint16(data[off+4:]) // network order whatever the TLVs'
		}
		if t&0x3fff == nfulaPayload {
			end := off + l
			if wire >= 0 && end > wire {
				end = wire
			}
			d := data[:min(len(data), end)]
			switch {
			case p.Family == 2 || p.Family != 10 && hwProto == EtherTypeIPv4:
				return p.ipv4(o, d, off+4, end)
			case p.Family == 10 || hwProto == EtherTypeIPv6:
				return p.ipv6(o, d, off+4, end)
			}
			return p.stop(LayerNFLOG, StopUnsupported)
		}
		off += (l + 3) &^ 3
	}
}
