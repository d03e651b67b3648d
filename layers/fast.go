package layers

// The fast path decodes the frames nearly every capture is made of: Ethernet,
// zero to two VLAN tags, IPv4 without options or IPv6 without extension
// headers, not a fragment, TCP, all of it captured and consistent. It checks
// everything first and writes nothing until it knows the frame is one of
// these; any other frame goes to the general walker (decode), which gives the
// same result for the frames the fast path takes (TestFastPathAgrees).
//
// It writes only the fields such a decode sets; the rarely set ones are
// cleared only when the previous decode may have set them (Packet.rare).

// Decode decodes data, a frame of link type lt whose original length on the
// wire was origLen, into p and returns p.Stop. It never allocates and never
// panics.
//
// origLen bounds the lengths the IP header may claim: a datagram is never
// longer than the frame that carried it, so an IP length beyond origLen (a
// header that lies) is cut back to it, while one beyond the captured bytes but
// within origLen is a payload the snaplen truncated. Pass 0 when the original
// length is unknown: the IP header's claim is then taken as is. An origLen
// below len(data) counts as len(data).
//
// The common frames are decoded here, in one function; every other frame
// (and every frame that stops early) goes to the general walker.
func (p *Packet) Decode(lt LinkType, data []byte, origLen int) Stop {
	return p.decodeFast(nil, lt, data, origLen)
}

// decodeFast is Decode and DecodeWith: the options only matter to the
// general walker (the fast path takes TCP frames only).
func (p *Packet) decodeFast(opt *DecodeOptions, lt LinkType, data []byte, origLen int) Stop {
	// The shortest frame taken: Ethernet, IPv4, TCP headers.
	if lt != LinkTypeEthernet || len(data) < EthernetLen+IPv4MinLen+TCPMinLen {
		return p.decode(opt, lt, data, origLen)
	}
	off := EthernetLen
	et := uint16(data[12])<<8 | uint16(data[13])
	var tci0, tci1, tpid0, tpid1 uint16
	nv := 0
	if et != EtherTypeIPv4 && et != EtherTypeIPv6 && isVLANTPID(et) {
		// Each tag is checked against the shortest frame that can hold it,
		// the network headers after it included.
		if len(data) < EthernetLen+VLANTagLen+IPv4MinLen+TCPMinLen {
			return p.decode(opt, lt, data, origLen)
		}
		tpid0, tci0 = et, be.Uint16(data[14:16])
		et = be.Uint16(data[16:18])
		off, nv = EthernetLen+VLANTagLen, 1
		if isVLANTPID(et) {
			if len(data) < EthernetLen+2*VLANTagLen+IPv4MinLen+TCPMinLen {
				return p.decode(opt, lt, data, origLen)
			}
			tpid1, tci1 = et, be.Uint16(data[18:20])
			et = be.Uint16(data[20:22])
			off, nv = EthernetLen+2*VLANTagLen, 2
			if isVLANTPID(et) {
				return p.decode(opt, lt, data, origLen)
			}
		}
	}

	// wire is the frame's length on the wire; claims beyond it are cut back.
	wire := len(data)
	if origLen > wire {
		wire = origLen
	}
	clamp := origLen > 0

	var ipEnd, end int // the end of the IP header; the end of the datagram
	var proto uint8
	switch et {
	case EtherTypeIPv4:
		b := data[off:]
		if len(b) < IPv4MinLen+TCPMinLen {
			return p.decode(opt, lt, data, origLen)
		}
		_ = b[19]
		// Version 4, no options, not a fragment (DF and the reserved bit
		// are not looked at), TCP.
		if b[0] != 0x45 || be.Uint16(b[6:8])&0x3fff != 0 || b[9] != IPProtoTCP {
			return p.decode(opt, lt, data, origLen)
		}
		tl := int(b[2])<<8 | int(b[3])
		if tl < IPv4MinLen+TCPMinLen { // a TSO length of 0, or malformed
			return p.decode(opt, lt, data, origLen)
		}
		ipEnd, end, proto = off+IPv4MinLen, off+tl, IPProtoTCP
	case EtherTypeIPv6:
		b := data[off:]
		if len(b) < IPv6Len+TCPMinLen {
			return p.decode(opt, lt, data, origLen)
		}
		_ = b[39]
		pl := int(b[4])<<8 | int(b[5])
		if b[0]>>4 != 6 || b[6] != IPProtoTCP || pl < TCPMinLen { // a jumbogram or TSO length of 0, or malformed
			return p.decode(opt, lt, data, origLen)
		}
		ipEnd, end, proto = off+IPv6Len, off+IPv6Len+pl, IPProtoTCP
	default:
		return p.decode(opt, lt, data, origLen)
	}
	if clamp && end > wire {
		end = wire // the header claims more than the wire carried
	}
	capEnd := min(end, len(data))
	if end-ipEnd < TCPMinLen || capEnd-ipEnd < TCPMinLen {
		return p.decode(opt, lt, data, origLen)
	}
	t := data[ipEnd:capEnd]
	_ = t[19]
	doff := int(t[12]>>4) * 4
	if doff < TCPMinLen || doff > len(t) { // malformed or truncated (capEnd <= end)
		return p.decode(opt, lt, data, origLen)
	}

	// The frame is a common one: write the decode.
	if p.rare {
		p.clearRare()
	}
	o := &p.TCPOptions
	switch {
	case doff == TCPMinLen:
		o.TSVal, o.TSEcr, o.HasTimestamps = 0, 0, false
	case doff == TCPMinLen+12 && be.Uint32(t[20:24]) == TCPOptNOP<<24|TCPOptNOP<<16|TCPOptTimestamps<<8|10:
		// The layout of nearly every Linux segment: NOP, NOP, timestamps.
		o.TSVal, o.TSEcr, o.HasTimestamps = be.Uint32(t[24:28]), be.Uint32(t[28:32]), true
	default:
		o.Parse(t[TCPMinLen:doff])
		p.rare = true
	}
	p.Stop = Stop{}
	p.Transport = TransportTCP
	p.Protocol = proto
	p.LinkType = LinkTypeEthernet
	p.EtherType = et
	p.Payload = data[ipEnd+doff : capEnd : capEnd]
	p.PayloadOffset = ipEnd + doff
	p.PayloadLength = end - ipEnd - doff
	p.TCP = t[:doff:doff]
	p.Ethernet = data[:EthernetLen:EthernetLen]
	p.NetworkOffset = off
	if et == EtherTypeIPv4 {
		p.Network = NetworkIPv4
		p.IPv4 = data[off:ipEnd:ipEnd]
		if p.IPv6 != nil {
			p.IPv6 = nil
		}
	} else {
		p.Network = NetworkIPv6
		if p.IPv4 != nil {
			p.IPv4 = nil
		}
		p.IPv6 = data[off:ipEnd:ipEnd]
	}
	if p.NumVLANs > nv {
		clear(p.VLANs[nv:])
	}
	p.NumVLANs = nv
	p.LinkVLANs = uint8(nv)
	if nv > 0 {
		p.VLANs[0] = VLAN{TPID: tpid0, ID: tci0 & 0x0fff, Priority: uint8(tci0 >> 13), DEI: tci0&0x1000 != 0}
		if nv > 1 {
			p.VLANs[1] = VLAN{TPID: tpid1, ID: tci1 & 0x0fff, Priority: uint8(tci1 >> 13), DEI: tci1&0x1000 != 0}
		}
	}
	return Stop{}
}

// clearRare zeroes the fields the fast path does not set.
func (p *Packet) clearRare() {
	p.SLL, p.SLL2, p.Family = nil, nil, 0
	p.IPv6ExtHeaders = 0
	p.Fragment, p.MoreFragments, p.FragmentOffset, p.FragmentID = false, false, 0, 0
	p.FragmentHeaderOffset = 0
	if n := p.NumTunnels; n != 0 {
		if n > 0 && n <= MaxTunnels {
			clear(p.Tunnels[:n])
		} else {
			clear(p.Tunnels[:])
		}
		p.NumTunnels = 0
	}
	p.UDP = nil
	p.TCPOptions = TCPOptions{}
	p.rare = false
}
