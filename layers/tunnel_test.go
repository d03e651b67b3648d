package layers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
)

type tunnelCase struct {
	name   string
	lt     LinkType
	opt    *DecodeOptions
	f      tframe
	tun    []Tunnel // Type, HasID, ID, Network compared (addresses checked by Network)
	vlans  int
	link   uint8 // LinkVLANs
	inner6 bool
}

func tunnelTCP() tcpSpec { return defTCP("tunnelled payload") }

func in4() tframe {
	return innerTCP(tunnelTCP()).wrap(LayerIPv4, false, func(b []byte) []byte { return ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1}, b) })
}
func in6() tframe {
	return innerTCP(tunnelTCP()).wrap(LayerIPv6, false, func(b []byte) []byte { return ipv6(IPProtoTCP, -1, b) })
}

// Wrappers of a tframe in one more header.
func wEth(et uint16, f tframe, t ...VLAN) tframe {
	if len(t) == 0 {
		return f.wrap(LayerLink, false, func(b []byte) []byte { return eth(et, b) })
	}
	return f.wrap2(LayerLink, EthernetLen, LayerVLAN, func(b []byte) []byte { return eth(et, b, t...) })
}
func wO4(proto uint8, f tframe) tframe {
	return f.wrap(LayerIPv4, false, func(b []byte) []byte { return outer4(proto, b) })
}
func wO6(nh uint8, f tframe) tframe {
	return f.wrap(LayerIPv6, false, func(b []byte) []byte { return outer6(nh, b) })
}
func wUDP(dport uint16, f tframe) tframe {
	return f.wrap(LayerUDP, false, func(b []byte) []byte { return udpHdr(33333, dport, b) })
}
func wVXLAN(vni uint32, f tframe) tframe {
	return f.wrap(LayerVXLAN, false, func(b []byte) []byte { return vxlanHdr(0x08, vni, b) })
}

func tun(t TunnelType, id uint32, n Network) Tunnel {
	return Tunnel{Type: t, HasID: t != TunnelIPIP && !(t == TunnelGRE && id == 0) && !(t == TunnelERSPAN && id == 0), ID: id, Network: n}
}

func tunnelCases() []tunnelCase {
	var cs []tunnelCase
	add := func(name string, lt LinkType, f tframe, inner6 bool, tunnels ...Tunnel) *tunnelCase {
		cs = append(cs, tunnelCase{name: name, lt: lt, f: f, tun: tunnels, inner6: inner6})
		return &cs[len(cs)-1]
	}
	E := LinkTypeEthernet
	v4, v6 := NetworkIPv4, NetworkIPv6

	// UDP tunnels.
	add("vxlan", E, wEth(EtherTypeIPv4, wO4(IPProtoUDP, wUDP(4789, wVXLAN(0xabcdef, wEth(EtherTypeIPv4, in4()))))), false, tun(TunnelVXLAN, 0xabcdef, v4))
	c := add("vxlan/v6 outer, tags both sides", E, wEth(EtherTypeIPv6, wO6(IPProtoUDP, wUDP(4789, wVXLAN(7, wEth(EtherTypeIPv6, in6(), tagQ)))), tags(2)...), true, tun(TunnelVXLAN, 7, v6))
	c.vlans, c.link = 3, 2
	c = add("vxlan/linux port configured", E, wEth(EtherTypeIPv4, wO4(IPProtoUDP, wUDP(8472, wVXLAN(1, wEth(EtherTypeIPv4, in4()))))), false, tun(TunnelVXLAN, 1, v4))
	c.opt = &DecodeOptions{VXLANPorts: []uint16{PortVXLAN, PortVXLANLinux}}
	gen := func(words int, proto uint16, f tframe) tframe {
		return f.wrap(LayerGeneve, false, func(b []byte) []byte { return geneveHdr(0, words, proto, 0x123456, b) })
	}
	add("geneve/ethernet", E, wEth(EtherTypeIPv4, wO4(IPProtoUDP, wUDP(6081, gen(0, EtherTypeTransparentBridging, wEth(EtherTypeIPv4, in4()))))), false, tun(TunnelGeneve, 0x123456, v4))
	add("geneve/options, ipv6", E, wEth(EtherTypeIPv4, wO4(IPProtoUDP, wUDP(6081, gen(3, EtherTypeIPv6, in6())))), true, tun(TunnelGeneve, 0x123456, v4))
	gtp := func(flags byte, exts [][]byte, f tframe) tframe {
		return f.wrap(LayerGTP, true, func(b []byte) []byte { return gtpHdr(flags, GTPMsgGPDU, 0xdeadbeef, exts, b) })
	}
	add("gtpu", E, wEth(EtherTypeIPv4, wO4(IPProtoUDP, wUDP(2152, gtp(0, nil, in4())))), false, tun(TunnelGTPU, 0xdeadbeef, v4))
	add("gtpu/sequence", E, wEth(EtherTypeIPv6, wO6(IPProtoUDP, wUDP(2152, gtp(GTPFlagS, nil, in6())))), true, tun(TunnelGTPU, 0xdeadbeef, v6))
	add("gtpu/extension headers", LinkTypeLinuxSLL, sllF(EtherTypeIPv4, wO4(IPProtoUDP, wUDP(2152, gtp(GTPFlagE|GTPFlagPN, [][]byte{{0x10, 0x05}, {1, 2, 3, 4, 5, 6}}, in4())))), false, tun(TunnelGTPU, 0xdeadbeef, v4))

	// GRE and ERSPAN.
	gre := func(flags, proto uint16, key uint32, f tframe) tframe {
		return f.wrap(LayerGRE, false, func(b []byte) []byte { return greHdr(flags, proto, key, 77, b) })
	}
	add("gre/ipv4", E, wEth(EtherTypeIPv4, wO4(IPProtoGRE, gre(0, EtherTypeIPv4, 0, in4()))), false, tun(TunnelGRE, 0, v4))
	add("gre/csum key seq, ipv6", E, wEth(EtherTypeIPv6, wO6(IPProtoGRE, gre(GREFlagChecksum|GREFlagKey|GREFlagSeq, EtherTypeIPv6, 5555, in6()))), true, tun(TunnelGRE, 5555, v6))
	add("gre/transparent ethernet", E, wEth(EtherTypeIPv4, wO4(IPProtoGRE, gre(GREFlagKey, EtherTypeTransparentBridging, 0x10001, wEth(EtherTypeIPv4, in4(), tagQ)))), false, tun(TunnelGRE, 0x10001, v4)).vlans = 1
	add("gre/mpls", E, wEth(EtherTypeIPv4, wO4(IPProtoGRE, gre(0, EtherTypeMPLS, 0, mplsF([]uint32{16, 17}, in4())))), false, tun(TunnelGRE, 0, v4), tun(TunnelMPLS, 17, v4))
	add("erspan I", E, wEth(EtherTypeIPv4, wO4(IPProtoGRE, gre(0, EtherTypeERSPAN, 0, wEth(EtherTypeIPv4, in4())))), false, tun(TunnelGRE, 0, v4), tun(TunnelERSPAN, 0, v4))
	er2 := func(sess uint16, f tframe) tframe {
		return f.wrap(LayerERSPAN, false, func(b []byte) []byte { return erspan2Hdr(1, sess, b) })
	}
	er3 := func(sess uint16, sub bool, f tframe) tframe {
		return f.wrap(LayerERSPAN, false, func(b []byte) []byte { return erspan3Hdr(sess, sub, b) })
	}
	add("erspan II", E, wEth(EtherTypeIPv4, wO4(IPProtoGRE, gre(GREFlagSeq, EtherTypeERSPAN, 0, er2(0x3ff, wEth(EtherTypeIPv6, in6()))))), true, tun(TunnelGRE, 0, v4), tun(TunnelERSPAN, 0x3ff, v4))
	add("erspan III", E, wEth(EtherTypeIPv4, wO4(IPProtoGRE, gre(GREFlagSeq, EtherTypeERSPAN3, 0, er3(12, false, wEth(EtherTypeIPv4, in4()))))), false, tun(TunnelGRE, 0, v4), tun(TunnelERSPAN, 12, v4))
	add("erspan III/platform subheader", E, wEth(EtherTypeIPv6, wO6(IPProtoGRE, gre(GREFlagSeq|GREFlagKey, EtherTypeERSPAN3, 9, er3(13, true, wEth(EtherTypeIPv4, in4()))))), false, tun(TunnelGRE, 9, v6), tun(TunnelERSPAN, 13, v6))

	// IP in IP.
	add("4in4", E, wEth(EtherTypeIPv4, wO4(IPProtoIPIP, in4())), false, tun(TunnelIPIP, 0, v4))
	add("6in4", E, wEth(EtherTypeIPv4, wO4(IPProtoIPv6, in6())), true, tun(TunnelIPIP, 0, v4))
	add("4in6", LinkTypeRaw, wO6(IPProtoIPIP, in4()), false, tun(TunnelIPIP, 0, v6))
	add("6in6", LinkTypeIPv6, wO6(IPProtoIPv6, in6()), true, tun(TunnelIPIP, 0, v6))

	// Carriers below IP.
	add("mpls/ipv4", E, wEth(EtherTypeMPLS, mplsF([]uint32{100, 200}, in4())), false, tun(TunnelMPLS, 200, NetworkNone))
	add("mpls/ipv6 multicast", E, wEth(EtherTypeMPLSMulticast, mplsF([]uint32{1048575}, in6())), true, tun(TunnelMPLS, 1048575, NetworkNone))
	pw := wEth(EtherTypeIPv4, in4()).wrap(LayerMPLS, false, func(b []byte) []byte { return cat([]byte{0, 0, 0, 5}, b) })
	add("mpls/ethernet pseudowire", E, wEth(EtherTypeMPLS, mplsF([]uint32{30, 31}, pw), tagAD), false, tun(TunnelMPLS, 31, NetworkNone)).vlans = 1
	cs[len(cs)-1].link = 1
	pppoe := func(proto uint16, f tframe) tframe {
		g := f.wrap(LayerPPP, false, func(b []byte) []byte { return cat([]byte{byte(proto >> 8), byte(proto)}, b) })
		return g.wrap(LayerPPPoE, false, func(b []byte) []byte { return pppoeHdr(0x1234, b) })
	}
	add("pppoe/ipv4", E, wEth(EtherTypePPPoESession, pppoe(PPPProtoIPv4, in4())), false, tun(TunnelPPPoE, 0x1234, NetworkNone))
	c = add("pppoe/ipv6 tagged", E, wEth(EtherTypePPPoESession, pppoe(PPPProtoIPv6, in6()), tagQ, tagQ), true, tun(TunnelPPPoE, 0x1234, NetworkNone))
	c.vlans, c.link = 2, 2
	snap := func(et uint16, f tframe) tframe {
		return f.wrap(LayerLLC, false, func(b []byte) []byte { return snapHdr(et, b) })
	}
	add("llc snap/ipv4", E, wEth(100, snap(EtherTypeIPv4, in4())), false)
	vlan6 := in6().wrap(LayerVLAN, false, func(b []byte) []byte { return cat([]byte{0, 100, 0x86, 0xdd}, b) })
	c = add("llc snap/vlan/ipv6", E, wEth(100, snap(EtherTypeVLAN, vlan6)), true)
	c.vlans, c.link = 1, 1
	add("sll/llc snap", LinkTypeLinuxSLL, in4().wrap(LayerLLC, false, func(b []byte) []byte { return snapHdr(EtherTypeIPv4, b) }).wrap(LayerLink, false, func(b []byte) []byte { return sll(4, b) }), false)

	// Link types.
	link := func(f tframe, hdr ...byte) tframe {
		return f.wrap(LayerLink, false, func(b []byte) []byte { return cat(hdr, b) })
	}
	add("nflog/ipv4 little-endian", LinkTypeNFLOG, in4().wrap(LayerNFLOG, false, func(b []byte) []byte { return nflogRec(2, false, b) }), false)
	add("nflog/ipv6 big-endian", LinkTypeNFLOG, in6().wrap(LayerNFLOG, false, func(b []byte) []byte { return nflogRec(10, true, b) }), true)
	add("ppp/hdlc framing", LinkTypePPP, link(in4(), 0xff, 0x03, 0x00, 0x21), false)
	add("ppp/compressed protocol", LinkTypePPP, link(in6(), 0x57), true)
	add("ppp_hdlc", LinkTypePPPHDLC, link(in4(), 0xff, 0x03, 0x00, 0x21), false)
	add("ppp_hdlc/cisco", LinkTypePPPHDLC, link(in6(), 0x0f, 0x00, 0x86, 0xdd), true)
	add("c_hdlc", LinkTypeCHDLC, link(in4(), 0x8f, 0x00, 0x08, 0x00), false)
	add("ppp_pppd", LinkTypePPPPPPD, link(in4(), 0x01, 0x03, 0x00, 0x21), false)
	add("ppp_with_dir", LinkTypePPPWithDir, link(in4(), 0x00, 0xff, 0x03, 0x00, 0x21), false)
	add("ppp_with_dir/no framing", LinkTypePPPWithDir, link(in4(), 0x01, 0x21), false)

	// Nesting of any order.
	add("vxlan in gre in mpls", E, wEth(EtherTypeMPLS, mplsF([]uint32{8}, wO4(IPProtoGRE, gre(GREFlagKey, EtherTypeIPv4, 3, wO4(IPProtoUDP, wUDP(4789, wVXLAN(99, wEth(EtherTypeIPv4, in4())))))))), false,
		tun(TunnelMPLS, 8, NetworkNone), tun(TunnelGRE, 3, v4), tun(TunnelVXLAN, 99, v4))
	add("gtpu in geneve in pppoe", E, wEth(EtherTypePPPoESession, pppoe(PPPProtoIPv6, wO6(IPProtoUDP, wUDP(6081, gen(1, EtherTypeIPv4, wO4(IPProtoUDP, wUDP(2152, gtp(0, nil, in6())))))))), true,
		tun(TunnelPPPoE, 0x1234, NetworkNone), tun(TunnelGeneve, 0x123456, v6), tun(TunnelGTPU, 0xdeadbeef, v4))
	return cs
}

func sllF(et uint16, f tframe) tframe {
	return f.wrap(LayerLink, false, func(b []byte) []byte { return sll(et, b) })
}

func mplsF(labels []uint32, f tframe) tframe {
	return f.wrap(LayerMPLS, true, func(b []byte) []byte { return mplsHdr(labels, b) })
}

// checkInner checks the innermost TCP of a tunnelled decode and its tunnels.
func checkInner(t *testing.T, c tunnelCase, p *Packet, data []byte) {
	t.Helper()
	s := tunnelTCP()
	if !p.Stop.OK() || p.Transport != TransportTCP {
		t.Fatalf("stop %v, transport %v", p.Stop, p.Transport)
	}
	if p.TCP.SrcPort() != s.sport || p.TCP.DstPort() != s.dport || p.TCP.Seq() != s.seq || string(p.Payload) != string(s.payload) || p.PayloadLength != len(s.payload) {
		t.Errorf("inner tcp %d>%d seq %d payload %q/%d", p.TCP.SrcPort(), p.TCP.DstPort(), p.TCP.Seq(), p.Payload, p.PayloadLength)
	}
	if c.inner6 {
		if p.Network != NetworkIPv6 || p.IPv4 != nil || p.IPv6.Src() != addr16(v6a) {
			t.Errorf("inner network %v, ipv6 %x", p.Network, []byte(p.IPv6))
		}
	} else if p.Network != NetworkIPv4 || p.IPv6 != nil || p.IPv4.Src() != addr4(v4a) {
		t.Errorf("inner network %v, ipv4 %x", p.Network, []byte(p.IPv4))
	}
	if p.NumTunnels != len(c.tun) {
		t.Fatalf("%d tunnels %+v, want %d", p.NumTunnels, p.Tunnels[:p.NumTunnels], len(c.tun))
	}
	for i, w := range c.tun {
		g := p.Tunnels[i]
		if g.Type != w.Type || g.HasID != w.HasID || g.ID != w.ID || g.Network != w.Network {
			t.Errorf("tunnel %d = %v id %v/%d net %v, want %v id %v/%d net %v", i, g.Type, g.HasID, g.ID, g.Network, w.Type, w.HasID, w.ID, w.Network)
		}
		switch {
		case g.Network == NetworkIPv4 && (([4]byte(g.Src[:4]) != o4a && [4]byte(g.Src[:4]) != v4a) || g.Src[4] != 0),
			g.Network == NetworkIPv6 && g.Src != o6a && g.Src != v6a,
			g.Network == NetworkNone && (g.Src != [16]byte{} || g.Dst != [16]byte{}):
			t.Errorf("tunnel %d addresses %x > %x", i, g.Src, g.Dst)
		}
	}
	if p.NumVLANs != c.vlans || p.LinkVLANs != c.link {
		t.Errorf("VLANs %d (link %d), want %d (%d)", p.NumVLANs, p.LinkVLANs, c.vlans, c.link)
	}
	CheckInvariants(t, p, data)
}

func TestTunnels(t *testing.T) {
	var p Packet
	for _, c := range tunnelCases() {
		t.Run(c.name, func(t *testing.T) {
			data := c.f.b
			p.DecodeWith(c.opt, c.lt, data, len(data))
			checkInner(t, c, &p, data)
			if c.f.pay != p.PayloadOffset {
				t.Errorf("payload offset %d, the builder's %d", p.PayloadOffset, c.f.pay)
			}
			// A fresh Packet gives the same, and so does one origLen unknown.
			var q Packet
			q.DecodeWith(c.opt, c.lt, data, 0)
			if d := samePacket(&p, &q); d != "" {
				t.Errorf("origLen unknown differs: %s", d)
			}
			// Every cut inside the headers stops at the layer of the cut:
			// truncated when the wire frame was longer, malformed when the
			// cut frame is all there was. A cut in the payload decodes.
			for n := 1; n < len(data); n++ { // 0 bytes: an unknown original length, and the raw link peeks
				for _, origLen := range []int{len(data), n} {
					st := p.DecodeWith(c.opt, c.lt, data[:n], origLen)
					CheckInvariants(t, &p, data[:n])
					if n >= c.f.pay {
						if !st.OK() || p.PayloadLength != len(data)-c.f.pay && origLen == len(data) {
							t.Fatalf("cut at %d in the payload (origLen %d): %v, claimed %d", n, origLen, st, p.PayloadLength)
						}
						continue
					}
					want := Stop{c.f.expectAt(n), StopTruncated}
					if origLen == n {
						want.Reason = StopMalformed
					}
					if st == (Stop{LayerNFLOG, StopUnsupported}) && want == (Stop{LayerNFLOG, StopMalformed}) {
						continue // a whole record that ends between TLVs has no payload
					}
					if st != want {
						t.Fatalf("cut at %d (origLen %d): %v, want %v", n, origLen, st, want)
					}
				}
			}
		})
	}
}

func addr4(a [4]byte) netipAddr   { return netipFrom4(a) }
func addr16(a [16]byte) netipAddr { return netipFrom16(a) }

func TestTunnelsAllocs(t *testing.T) {
	cs := tunnelCases()
	var p Packet
	allocs := testing.AllocsPerRun(20, func() {
		for _, c := range cs {
			p.DecodeWith(c.opt, c.lt, c.f.b, len(c.f.b))
			_ = p.FlowKey(true)
		}
	})
	if allocs != 0 {
		t.Errorf("tunnelled decodes allocate: %v per run", allocs)
	}
}

// TestDecodeIP decodes the inner datagram of each tunnelled frame with
// DecodeIP and the frame's Encap: the result is the frame's decode, its
// offsets moved to the datagram.
func TestDecodeIP(t *testing.T) {
	var p, q Packet
	for _, c := range tunnelCases() {
		data := c.f.b
		p.DecodeWith(c.opt, c.lt, data, len(data))
		// The datagram's Encap: the decode's, without VLANs or tunnels it has not passed yet.
		enc := p.Encap
		dg := data[p.NetworkOffset:]
		ipLen := len(dg)
		if p.Network == NetworkIPv4 {
			ipLen = int(p.IPv4.TotalLength())
		} else {
			ipLen = IPv6Len + int(p.IPv6.PayloadLength())
		}
		dg = bytes.Clone(dg[:ipLen])
		q.DecodeIP(c.opt, c.lt, &enc, dg)
		if q.Stop != p.Stop || q.Encap != p.Encap || q.LinkType != c.lt || q.PayloadOffset != p.PayloadOffset-p.NetworkOffset ||
			!bytes.Equal(q.Payload, p.Payload) || q.FlowKey(true) != p.FlowKey(true) || q.NetworkOffset != 0 || !bytes.Equal(q.TCP, p.TCP) {
			t.Errorf("%s: DecodeIP %v %+v, frame %v %+v", c.name, q.Stop, q.Encap, p.Stop, p.Encap)
		}
		CheckInvariants(t, &q, dg)
	}
	// Tunnels inside the datagram add to enc's, up to MaxTunnels.
	enc := Encap{NumTunnels: MaxTunnels - 1}
	dg := outer4(IPProtoIPIP, outer4(IPProtoIPIP, tcp4(tunnelTCP())))
	if st := q.DecodeIP(nil, LinkTypeEthernet, &enc, dg); st != (Stop{LayerIPv4, StopTooDeep}) || q.NumTunnels != MaxTunnels {
		t.Errorf("depth continues from enc: %v, %d tunnels", st, q.NumTunnels)
	}
	bad := Encap{NumTunnels: 99, NumVLANs: -3, LinkVLANs: 200}
	q.DecodeIP(nil, LinkTypeEthernet, &bad, dg)
	CheckInvariants(t, &q, dg)
	if st := q.DecodeIP(nil, LinkTypeRaw, nil, nil); st.OK() {
		t.Errorf("empty datagram: %v", st)
	}
}

// TestTunnelStops covers the frames whose tunnel is too deep, malformed or
// carries something Decode does not follow.
func TestTunnelStops(t *testing.T) {
	E := LinkTypeEthernet
	inner4 := eth(EtherTypeIPv4, tcp4(tunnelTCP()))
	var deepIPIP, deepVXLAN []byte = tcp4(tunnelTCP()), inner4
	for i := 0; i < MaxTunnels+1; i++ {
		deepIPIP = outer4(IPProtoIPIP, deepIPIP)
		deepVXLAN = eth(EtherTypeIPv4, outer4(IPProtoUDP, udpHdr(1, 4789, vxlanHdr(8, uint32(i), deepVXLAN))))
	}
	var labels []uint32
	for i := 0; i <= MaxMPLSLabels; i++ {
		labels = append(labels, uint32(i))
	}
	gtpExt := make([][]byte, MaxGTPExtHeaders+1)
	for i := range gtpExt {
		gtpExt[i] = []byte{1, 2}
	}
	udp := func(port uint16, b []byte) []byte { return eth(EtherTypeIPv4, outer4(IPProtoUDP, udpHdr(1, port, b))) }
	greF := func(flags, proto uint16, b []byte) []byte {
		return eth(EtherTypeIPv4, outer4(IPProtoGRE, greHdr(flags, proto, 1, 2, b)))
	}
	frag := outer4(IPProtoTCP, tcp4(tunnelTCP())[20:])
	binary.BigEndian.PutUint16(frag[6:], 0x2000) // a first fragment, inside VXLAN
	outerFrag := outer4(IPProtoGRE, greHdr(0, EtherTypeIPv4, 0, 0, tcp4(tunnelTCP())))
	binary.BigEndian.PutUint16(outerFrag[6:], 0x2000)
	cases := []struct {
		name    string
		lt      LinkType
		opt     *DecodeOptions
		data    []byte
		want    Stop
		tunnels int
	}{
		{"ipip too deep", E, nil, eth(EtherTypeIPv4, deepIPIP), Stop{LayerIPv4, StopTooDeep}, MaxTunnels},
		{"vxlan too deep", E, nil, deepVXLAN, Stop{LayerVXLAN, StopTooDeep}, MaxTunnels},
		{"mpls labels too deep", E, nil, eth(EtherTypeMPLS, mplsHdr(labels, tcp4(tunnelTCP()))), Stop{LayerMPLS, StopTooDeep}, 0},
		{"gtp extensions too deep", E, nil, udp(2152, gtpHdr(GTPFlagE, 255, 1, gtpExt, tcp4(tunnelTCP()))), Stop{LayerGTP, StopTooDeep}, 0},
		{"gre ppp (0x880b)", E, nil, greF(0, 0x880b, []byte{0xff, 0x03, 0, 0x21}), Stop{LayerGRE, StopUnsupported}, 1},
		{"gre version 1", E, nil, greF(GREFlagKey|1, 0x880b, []byte{0xff, 0x03, 0, 0x21}), Stop{LayerGRE, StopUnsupported}, 0},
		{"gre routing", E, nil, greF(GREFlagRouting, EtherTypeIPv4, tcp4(tunnelTCP())), Stop{LayerGRE, StopUnsupported}, 0},
		{"erspan II version 2", E, nil, greF(GREFlagSeq, EtherTypeERSPAN, erspan2Hdr(2, 1, inner4)), Stop{LayerERSPAN, StopMalformed}, 1},
		{"erspan III frame type IP", E, nil, greF(GREFlagSeq, EtherTypeERSPAN3, func() []byte { b := erspan3Hdr(1, false, tcp4(tunnelTCP())); b[10] = 2 << 2; return b }()), Stop{LayerERSPAN, StopUnsupported}, 2},
		{"gtp echo request", E, nil, udp(2152, gtpHdr(GTPFlagS, 1, 0, nil, nil)), Stop{LayerGTP, StopUnsupported}, 1},
		{"gtp version 2", E, nil, udp(2152, func() []byte { b := gtpHdr(0, 255, 1, nil, tcp4(tunnelTCP())); b[0] = 0x48; return b }()), Stop{LayerGTP, StopMalformed}, 0},
		{"gtp empty g-pdu", E, nil, udp(2152, gtpHdr(0, 255, 1, nil, nil)), Stop{LayerGTP, StopMalformed}, 1},
		{"gtp not ip", E, nil, udp(2152, gtpHdr(0, 255, 1, nil, []byte{0x10, 1, 2, 3})), Stop{LayerGTP, StopUnsupported}, 1},
		{"vxlan without I flag", E, nil, udp(4789, vxlanHdr(0, 5, inner4)), Stop{LayerVXLAN, StopMalformed}, 0},
		{"vxlan short", E, nil, udp(4789, []byte{8, 0, 0, 0}), Stop{LayerVXLAN, StopMalformed}, 0},
		{"vxlan ports off", E, &DecodeOptions{VXLANPorts: []uint16{}}, udp(4789, vxlanHdr(8, 5, inner4)), Stop{}, 0},
		{"geneve version 1", E, nil, udp(6081, geneveHdr(1, 0, EtherTypeIPv4, 1, tcp4(tunnelTCP()))), Stop{LayerGeneve, StopMalformed}, 0},
		{"geneve arp", E, nil, udp(6081, geneveHdr(0, 0, EtherTypeARP, 1, make([]byte, 28))), Stop{LayerGeneve, StopUnsupported}, 1},
		{"mpls ach", E, nil, eth(EtherTypeMPLS, mplsHdr([]uint32{1}, []byte{0x10, 0, 0, 1, 2, 3})), Stop{LayerMPLS, StopUnsupported}, 1},
		{"pppoe lcp", E, nil, eth(EtherTypePPPoESession, pppoeHdr(1, []byte{0xc0, 0x21, 1, 1, 0, 4})), Stop{LayerPPP, StopUnsupported}, 1},
		{"pppoe discovery", E, nil, eth(EtherTypePPPoEDiscovery, make([]byte, 20)), Stop{LayerLink, StopUnsupported}, 0},
		{"pppoe bad version", E, nil, eth(EtherTypePPPoESession, []byte{0x21, 0, 0, 1, 0, 0}), Stop{LayerPPPoE, StopMalformed}, 0},
		{"llc stp", E, nil, eth(38, cat([]byte{0x42, 0x42, 0x03}, make([]byte, 35))), Stop{LayerLLC, StopUnsupported}, 0},
		{"snap cisco oui", E, nil, eth(38, cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0}, make([]byte, 30))), Stop{LayerLLC, StopUnsupported}, 0},
		{"nflog bridge: IPv4 by the packet header, malformed", LinkTypeNFLOG, nil, nflogRec(7, false, make([]byte, 28)), Stop{LayerIPv4, StopMalformed}, 0},
		{"nflog bridge: ARP", LinkTypeNFLOG, nil, []byte{7, 0, 0, 1, 8, 0, 1, 0, 0x08, 0x06, 3, 0, 8, 0, 9, 0, 0, 0, 0, 0}, Stop{LayerNFLOG, StopUnsupported}, 0},
		{"nflog no payload", LinkTypeNFLOG, nil, nflogRec(2, false, nil)[:20], Stop{LayerNFLOG, StopUnsupported}, 0},
		{"nflog zero tlv length", LinkTypeNFLOG, nil, []byte{2, 0, 0, 0, 0, 0, 1, 0}, Stop{LayerNFLOG, StopMalformed}, 0},
		{"ppp lcp", LinkTypePPP, nil, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, Stop{LayerLink, StopUnsupported}, 0},
		{"ppp bad control", LinkTypePPP, nil, cat([]byte{0xff, 0x05, 0, 0x21}, tcp4(tunnelTCP())), Stop{LayerLink, StopMalformed}, 0},
		{"inner fragment", E, nil, udp(4789, vxlanHdr(8, 5, eth(EtherTypeIPv4, frag))), Stop{LayerIPv4, StopFragment}, 1},
		{"outer fragment", E, nil, eth(EtherTypeIPv4, outerFrag), Stop{LayerIPv4, StopFragment}, 0},
	}
	var p Packet
	for _, c := range cases {
		st := p.DecodeWith(c.opt, c.lt, c.data, len(c.data))
		if st != c.want || p.NumTunnels != c.tunnels {
			t.Errorf("%s: %v with %d tunnels, want %v with %d", c.name, st, p.NumTunnels, c.want, c.tunnels)
		}
		if st.Reason == StopUnsupported && p.TCP != nil {
			t.Errorf("%s: unsupported payload read as TCP", c.name)
		}
		CheckInvariants(t, &p, c.data)
		for n := range c.data { // no cut panics or breaks an invariant
			p.DecodeWith(c.opt, c.lt, c.data[:n], len(c.data))
			CheckInvariants(t, &p, c.data[:n])
		}
	}
	// The fragment stops describe the fragmented header and what is outside it.
	p.Decode(E, cases[len(cases)-1].data, 0)
	if p.Protocol != IPProtoGRE || p.NetworkOffset != EthernetLen || !p.MoreFragments || p.PayloadOffset != EthernetLen+20 {
		t.Errorf("outer fragment: protocol %d at %d, payload at %d", p.Protocol, p.NetworkOffset, p.PayloadOffset)
	}
	p.Decode(E, cases[len(cases)-2].data, 0)
	if p.Protocol != IPProtoTCP || p.IPv4.Src() != addr4(o4a) || p.Tunnels[0].Type != TunnelVXLAN || p.PayloadLength != 20+len(tunnelTCP().payload) {
		t.Errorf("inner fragment: protocol %d, src %v, payload %d", p.Protocol, p.IPv4.Src(), p.PayloadLength)
	}
	f6 := ipv6(IPProtoDstOpts, -1, cat(ext6(IPProtoDstOpts, IPProtoFragment, 8), frag6(IPProtoTCP, 0, true, 7), tunnelTCP().bytes()))
	if st := p.Decode(LinkTypeIPv6, f6, 0); st != (Stop{LayerIPv6, StopFragment}) || p.FragmentHeaderOffset != 48 || p.PayloadOffset != 56 || p.FragmentID != 7 {
		t.Errorf("ipv6 first fragment: %v, fragment header at %d, payload at %d", st, p.FragmentHeaderOffset, p.PayloadOffset)
	}
	if got := fmt.Sprint(Stop{LayerERSPAN, StopMalformed}, LinkTypeNFLOG, LayerNFLOG, TunnelGTPU); got != "erspan malformed NFLOG nflog gtpu" {
		t.Errorf("names: %q", got)
	}
}

type netipAddr = netip.Addr

func netipFrom4(a [4]byte) netip.Addr   { return netip.AddrFrom4(a) }
func netipFrom16(a [16]byte) netip.Addr { return netip.AddrFrom16(a) }
