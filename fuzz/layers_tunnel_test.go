package fuzz

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"

	"github.com/reseq/reseq/layers"
)

// Tunnel frames built byte by byte (gopacket only decodes them): the fuzz
// seeds, the reuse priors and the gopacket differential share them.

var tbe = binary.BigEndian

func tEth(et uint16, payload []byte, vlans ...uint16) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for _, v := range vlans {
		b = tbe.AppendUint16(tbe.AppendUint16(b, 0x8100), v)
	}
	return append(tbe.AppendUint16(b, et), payload...)
}

func tIPv4(proto uint8, payload []byte) []byte {
	b := []byte{0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 198, 51, 100, 1, 198, 51, 100, 2}
	tbe.PutUint16(b[2:], uint16(20+len(payload)))
	var s uint32
	for i := 0; i < 20; i += 2 {
		s += uint32(tbe.Uint16(b[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	tbe.PutUint16(b[10:], ^uint16(s))
	return append(b, payload...)
}

func tIPv6(nh uint8, payload []byte) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	tbe.PutUint16(b[4:], uint16(len(payload)))
	b[6], b[7] = nh, 64
	b[8], b[9], b[23] = 0x20, 0x01, 1
	b[24], b[25], b[39] = 0x20, 0x01, 2
	return append(b, payload...)
}

func tUDP(dport uint16, payload []byte) []byte {
	b := []byte{0x9c, 0x40, 0, 0, 0, 0, 0, 0}
	tbe.PutUint16(b[2:], dport)
	tbe.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

func layersWrapVXLAN(frame []byte) []byte {
	return tEth(0x0800, tIPv4(17, tUDP(layers.PortVXLAN, append([]byte{8, 0, 0, 0, 0, 0x12, 0x34, 0}, frame...))))
}

func layersWrapGRE(frame []byte) []byte {
	return tEth(0x0800, tIPv4(47, append([]byte{0x20, 0, 0x65, 0x58, 0, 0, 0, 7}, frame...)))
}

func tIPEt(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return 0x86dd
	}
	return 0x0800
}

func tPPPProto(ip []byte) []byte {
	if ip[0]>>4 == 6 {
		return []byte{0, 0x57}
	}
	return []byte{0, 0x21}
}

// layersSeedTunnels wraps an Ethernet frame and the IP datagram it carries in
// each tunnel and carrier.
func layersSeedTunnels(frame, ip []byte) [][]byte {
	et := tIPEt(ip)
	pppoe := slices.Concat([]byte{0x11, 0, 0x12, 0x34, 0, 0}, tPPPProto(ip), ip)
	tbe.PutUint16(pppoe[4:], uint16(len(pppoe)-6))
	gtp := slices.Concat([]byte{0x32, 0xff, 0, 0, 0, 0, 0, 9, 0, 1, 0, 0}, ip)
	tbe.PutUint16(gtp[2:], uint16(len(gtp)-8))
	geneve := slices.Concat([]byte{1, 0, 0x65, 0x58, 0, 0, 5, 0, 1, 2, 3, 0}, frame) // one option: class 0x0102, type 3, no data
	ipProto := uint8(4)
	if et == 0x86dd {
		ipProto = 41
	}
	return [][]byte{
		layersWrapVXLAN(frame),
		layersWrapGRE(frame),
		tEth(0x0800, tIPv4(47, slices.Concat([]byte{0xb0, 0, byte(et >> 8), byte(et)}, make([]byte, 12), ip))),                                         // C, K, S
		tEth(0x86dd, tIPv6(47, slices.Concat([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 5, 0, 9, 0, 0, 0, 0}, frame))),                              // ERSPAN II
		tEth(0x0800, tIPv4(47, slices.Concat([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1, 0x20, 5, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 8), frame))), // ERSPAN III + subheader
		tEth(0x8847, slices.Concat([]byte{0, 1, 0, 64, 0, 2, 1, 64}, ip)),
		tEth(0x8847, slices.Concat([]byte{0, 3, 1, 64, 0, 0, 0, 0}, frame)), // pseudowire with a control word
		tEth(0x8864, pppoe, 10),
		tEth(0x0800, tIPv4(17, tUDP(layers.PortGeneve, geneve))),
		tEth(0x86dd, tIPv6(17, tUDP(layers.PortGTPU, gtp))),
		tEth(0x0800, tIPv4(ipProto, ip)),
		layersWrapVXLAN(layersWrapGRE(layersWrapVXLAN(frame))),
	}
}

// TestLayersTunnelDiffGopacket decodes tunnelled frames with layers and with
// gopacket's NewPacket (which knows MPLS, PPPoE and PPP, GRE, ERSPAN II,
// VXLAN, Geneve, GTPv1U, IP in IP, LLC/SNAP): both must reach the same inner
// TCP segment.
func TestLayersTunnelDiffGopacket(t *testing.T) {
	ip4 := knownIPv4()
	v4 := knownFrame(t, ip4, knownTCP(ip4), gopacket.Payload("inner payload"))
	ip6 := knownIPv6(6)
	v6 := knownFrame(t, ip6, knownTCP(ip6), gopacket.Payload("inner payload 6"))
	var p layers.Packet
	n := 0
	for _, ip := range [][]byte{v4, v6} {
		frame := tEth(tIPEt(ip), ip, 33)
		cases := layersSeedTunnels(frame, ip)
		snap := slices.Concat([]byte{0xaa, 0xaa, 3, 0, 0, 0}, tbe.AppendUint16(nil, tIPEt(ip)), ip)
		cases = append(cases, tEth(uint16(len(snap)), snap))
		for i, data := range cases {
			lt := uint32(layers.LinkTypeEthernet)
			p.Decode(layers.LinkType(lt), data, len(data))
			ours := oursView(&p)
			gp := newPacketView(lt, data)
			if !ours.tcp {
				t.Errorf("frame %d (v%d): layers stops %v", i, ip[0]>>4, p.Stop)
				continue
			}
			if (i == 4 || i == 6) && !gp.tcp {
				continue // gopacket has no ERSPAN type III decoder, and does not guess an MPLS pseudowire
			}
			if !gp.tcp || !equalButFail(ours, gp) {
				t.Errorf("frame %d (v%d):\n  ours %v\n  gp   %v", i, ip[0]>>4, ours, gp)
			}
			n++
		}
		ppp := slices.Concat([]byte{0xff, 0x03}, tPPPProto(ip), ip)
		p.Decode(layers.LinkTypePPP, ppp, len(ppp))
		if ours, gp := oursView(&p), newPacketView(9, ppp); !ours.tcp || !gp.tcp || !equalButFail(ours, gp) {
			t.Errorf("PPP link (v%d):\n  ours %v\n  gp   %v", ip[0]>>4, ours, gp)
		}
	}
	t.Logf("%d tunnelled frames agree", n)
}
