package fuzz

import (
	"encoding/binary"
	"net"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	gl "github.com/gopacket/gopacket/layers"

	"github.com/reseq/reseq/layers"
)

// knownFrame serializes gopacket layers into a frame (lengths and checksums fixed).
func knownFrame(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(buf.Bytes())
}

func knownTCP(ip gopacket.NetworkLayer) *gl.TCP {
	tcp := &gl.TCP{SrcPort: 40000, DstPort: 443, Seq: 0xfffffff0, Ack: 7, ACK: true, PSH: true, Window: 100, DataOffset: 5}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	return tcp
}

func knownIPv4() *gl.IPv4 {
	return &gl.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: gl.IPProtocolTCP, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
}

func knownIPv6(next gl.IPProtocol) *gl.IPv6 {
	return &gl.IPv6{Version: 6, NextHeader: next, HopLimit: 64, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
}

// TestLayersGopacketKnownWrong lists the cases where gopacket's layers are
// known to go wrong (DESIGN.md, and what this test observes of v1.7.7), and
// asserts that layers gets each right. Where gopacket's behaviour is stable it
// is asserted too, so the table notices when gopacket changes.
func TestLayersGopacketKnownWrong(t *testing.T) {
	payload := gopacket.Payload("hello")
	ip4 := knownIPv4()
	tcp4 := knownTCP(ip4)
	v4tcp := knownFrame(t, ip4, tcp4, payload)

	qinq := knownFrame(t,
		&gl.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: gl.EthernetTypeQinQ},
		&gl.Dot1Q{VLANIdentifier: 201, Type: gl.EthernetTypeDot1Q},
		&gl.Dot1Q{VLANIdentifier: 100, Type: gl.EthernetTypeIPv4},
		ip4, tcp4, payload)
	tag9100 := slices.Clone(qinq)
	binary.BigEndian.PutUint16(tag9100[12:], 0x9100)

	sll2 := make([]byte, 20)
	binary.BigEndian.PutUint16(sll2, 0x0800)
	sll2[11] = 200 // address length: the field has room for 8
	sll2 = append(sll2, v4tcp...)

	ip6 := knownIPv6(gl.IPProtocolIPv6Fragment)
	frag := func(off uint16, more bool) []byte {
		tcp := knownTCP(ip6)
		inner := knownFrame(t, tcp, payload)
		fh := make([]byte, 8)
		fh[0] = byte(gl.IPProtocolTCP)
		binary.BigEndian.PutUint16(fh[2:], off<<3)
		if more {
			fh[3] |= 1
		}
		binary.BigEndian.PutUint32(fh[4:], 99)
		return knownFrame(t, ip6, gopacket.Payload(append(fh, inner...)))
	}
	v6nonFirst := frag(185, true) // looks like TCP, but it is the middle of a datagram

	cases := []struct {
		name   string
		lt     uint32
		data   []byte
		gopkt  string // what gopacket does (asserted below)
		ours   func(p *layers.Packet) bool
		gpWant func(t *testing.T, lt uint32, data []byte)
	}{
		{"QinQ: DecodingLayerParser keeps only the inner tag", 1, qinq, "DecodingLayerParser has one Dot1Q: the outer (capture point) tag is lost",
			func(p *layers.Packet) bool {
				cp, ok := p.CapturePoint()
				k := p.FlowKey(true)
				return p.Stop.OK() && p.NumVLANs == 2 && ok && cp == 201 && slices.Equal(k.VLANIDs(), []uint16{100}) && p.VLANs[0].TPID == 0x88a8
			},
			func(t *testing.T, lt uint32, data []byte) {
				v := newGPParser().view(data)
				if !v.tcp || !slices.Equal(v.vlans, []uint16{100}) {
					t.Errorf("gopacket DecodingLayerParser: %v", v)
				}
			}},
		{"0x9100 outer tag", 1, tag9100, "gopacket knows no 0x9100 TPID: no IP decoded",
			func(p *layers.Packet) bool {
				return p.Stop.OK() && p.NumVLANs == 2 && p.VLANs[0].TPID == 0x9100 && p.VLANs[0].ID == 201 && p.Transport == layers.TransportTCP
			},
			func(t *testing.T, lt uint32, data []byte) {
				if v := newPacketView(lt, data); v.tcp || v.ipv != 0 {
					t.Errorf("gopacket NewPacket: %v", v)
				}
			}},
		{"link type 228", 228, v4tcp, "no decoder for LINKTYPE_IPV4",
			func(p *layers.Packet) bool {
				return p.Stop.OK() && p.Transport == layers.TransportTCP && p.TCP.Seq() == 0xfffffff0
			},
			func(t *testing.T, lt uint32, data []byte) {
				if v := newPacketView(lt, data); v.tcp || v.fail == "" {
					t.Errorf("gopacket NewPacket: %v", v)
				}
			}},
		{"link type 229", 229, frag(0, false), "no decoder for LINKTYPE_IPV6",
			func(p *layers.Packet) bool { return p.Stop.OK() && p.Transport == layers.TransportTCP && !p.Fragment },
			func(t *testing.T, lt uint32, data []byte) {
				if v := newPacketView(lt, data); v.tcp || v.fail == "" {
					t.Errorf("gopacket NewPacket: %v", v)
				}
			}},
		{"SLL2 address length 200", 276, sll2, "DESIGN.md: panics (older releases); v1.7.7 rejects the frame",
			func(p *layers.Packet) bool {
				return p.Stop.OK() && p.Transport == layers.TransportTCP && p.SLL2.AddrLen() == 200 && len(p.SLL2.Addr()) == 8
			},
			func(t *testing.T, lt uint32, data []byte) {
				if v := newPacketView(lt, data); v.tcp {
					t.Errorf("gopacket NewPacket: %v", v)
				}
			}},
		{"IPv6 non-first fragment", 101, v6nonFirst, "DESIGN.md: parsed as TCP by older releases; v1.7.7 leaves it a fragment",
			func(p *layers.Packet) bool {
				return p.Stop == layers.Stop{Layer: layers.LayerIPv6, Reason: layers.StopFragment} && p.TCP == nil && p.FragmentOffset == 185*8 &&
					p.FlowKey(true).SrcPort == 0
			}, nil},
		{"IPv6 atomic fragment", 101, frag(0, false), "NewPacket hands an atomic fragment (RFC 6946: a whole datagram) on as a fragment",
			func(p *layers.Packet) bool { return p.Stop.OK() && p.Transport == layers.TransportTCP && !p.Fragment },
			func(t *testing.T, lt uint32, data []byte) {
				if v := newPacketView(lt, data); v.tcp {
					t.Errorf("gopacket NewPacket: %v", v)
				}
			}},
	}
	var p layers.Packet
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p.Decode(layers.LinkType(c.lt), c.data, len(c.data))
			if !c.ours(&p) {
				t.Errorf("layers decodes it wrong: %v, %d tags, transport %v", p.Stop, p.NumVLANs, p.Transport)
			}
			if c.gpWant != nil {
				c.gpWant(t, c.lt, c.data)
			}
			t.Logf("gopacket: %s", c.gopkt)
		})
	}
}

// TestLayersChecksumVsGopacket checks TransportChecksum against checksums
// gopacket computes when serializing (IPv4 and IPv6, TCP and UDP, even and odd
// payloads, an IPv6 extension header in front).
func TestLayersChecksumVsGopacket(t *testing.T) {
	var p layers.Packet
	for n := 0; n < 9; n++ {
		payload := gopacket.Payload(make([]byte, n))
		for i := range payload {
			payload[i] = byte(0xa5 + 31*i)
		}
		ip4 := knownIPv4()
		ip4u := knownIPv4()
		ip4u.Protocol = gl.IPProtocolUDP
		ip6 := knownIPv6(gl.IPProtocolTCP)
		ip6u := knownIPv6(gl.IPProtocolUDP)
		ip6x := knownIPv6(gl.IPProtocolIPv6Destination)
		udp4 := &gl.UDP{SrcPort: 53, DstPort: 40000}
		_ = udp4.SetNetworkLayerForChecksum(ip4u)
		udp6 := &gl.UDP{SrcPort: 53, DstPort: 40000}
		_ = udp6.SetNetworkLayerForChecksum(ip6u)
		tcp6x := knownTCP(ip6x)
		dst := &gl.IPv6Destination{}
		dst.NextHeader = gl.IPProtocolTCP
		dst.Options = []*gl.IPv6DestinationOption{{OptionType: 1, OptionLength: 4, OptionData: make([]byte, 4)}}
		frames := map[string][]byte{
			"tcp4":     knownFrame(t, ip4, knownTCP(ip4), payload),
			"udp4":     knownFrame(t, ip4u, udp4, payload),
			"tcp6":     knownFrame(t, ip6, knownTCP(ip6), payload),
			"udp6":     knownFrame(t, ip6u, udp6, payload),
			"tcp6+dst": knownFrame(t, ip6x, dst, tcp6x, payload),
		}
		for name, f := range frames {
			p.Decode(layers.LinkTypeRaw, f, len(f))
			if !p.Stop.OK() || p.TransportChecksum() != layers.ChecksumGood {
				t.Errorf("%s, %d bytes: %v, checksum %v", name, n, p.Stop, p.TransportChecksum())
			}
			bad := slices.Clone(f)
			bad[len(bad)-1-n/2] ^= 0x10
			p.Decode(layers.LinkTypeRaw, bad, len(bad))
			if p.TransportChecksum() != layers.ChecksumBad {
				t.Errorf("%s, %d bytes, one bit flipped: checksum %v", name, n, p.TransportChecksum())
			}
		}
	}
}
