package fuzz

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	gl "github.com/gopacket/gopacket/layers"

	"github.com/reseq/reseq/layers"
)

// lview is what the differential test compares of a decode.
type lview struct {
	ipv      int // 0 none, 4, 6
	src, dst netip.Addr
	tcp      bool
	sport    uint16
	dport    uint16
	seq, ack uint32
	flags    uint8
	payload  int // captured TCP payload bytes
	vlans    []uint16
	ipLayers int    // gopacket: IP layers seen (2+ = a tunnel)
	atomic   bool   // gopacket: an IPv6 atomic fragment header (offset 0, no more fragments)
	claimed  int    // gopacket: TCP payload length the IPv4 header claims (total - IHL - data offset)
	fail     string // gopacket: decode failure or parser error
}

func (v lview) String() string {
	return fmt.Sprintf("ip%d %v>%v tcp=%v %d>%d seq=%d ack=%d flags=%#x payload=%d vlans=%v fail=%q",
		v.ipv, v.src, v.dst, v.tcp, v.sport, v.dport, v.seq, v.ack, v.flags, v.payload, v.vlans, v.fail)
}

func oursView(p *layers.Packet) lview {
	var v lview
	for _, t := range p.VLANs[:p.NumVLANs] {
		v.vlans = append(v.vlans, t.ID)
	}
	switch p.Network {
	case layers.NetworkIPv4:
		v.ipv, v.src, v.dst = 4, p.IPv4.Src(), p.IPv4.Dst()
	case layers.NetworkIPv6:
		v.ipv, v.src, v.dst = 6, p.IPv6.Src(), p.IPv6.Dst()
	}
	if p.Transport == layers.TransportTCP {
		v.tcp = true
		v.sport, v.dport = p.TCP.SrcPort(), p.TCP.DstPort()
		v.seq, v.ack, v.flags = p.TCP.Seq(), p.TCP.Ack(), p.TCP.Flags()
		v.payload = len(p.Payload)
	}
	return v
}

func gpFlags(t *gl.TCP) uint8 {
	var f uint8
	for i, b := range []bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if b {
			f |= 1 << i
		}
	}
	return f
}

func gpAddr(ip []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a
}

func (v *lview) addGP(l gopacket.Layer) {
	switch l := l.(type) {
	case *gl.Dot1Q:
		v.vlans = append(v.vlans, l.VLANIdentifier) // tags of tunnelled frames too, as layers keeps them
	case *gl.IPv4:
		// The innermost IP header is the one compared: layers decodes
		// through tunnels as gopacket does.
		v.ipLayers++
		if !v.tcp {
			v.ipv, v.src, v.dst = 4, gpAddr(l.SrcIP), gpAddr(l.DstIP)
			v.claimed = int(l.Length) - len(l.Contents)
		}
	case *gl.IPv6:
		v.ipLayers++
		if !v.tcp {
			v.ipv, v.src, v.dst = 6, gpAddr(l.SrcIP), gpAddr(l.DstIP)
		}
	case *gl.IPv6Fragment:
		v.atomic = l.FragmentOffset == 0 && !l.MoreFragments
	case *gl.TCP:
		if v.ipLayers >= 1 && !v.tcp {
			v.tcp = true
			v.sport, v.dport = uint16(l.SrcPort), uint16(l.DstPort)
			v.seq, v.ack, v.flags = l.Seq, l.Ack, gpFlags(l)
			v.payload = len(l.Payload)
			if v.ipv == 4 {
				v.claimed = v.claimed - len(l.Contents)
			} else {
				v.claimed = 0
			}
		}
	}
}

func newPacketView(lt uint32, data []byte) lview {
	pk := gopacket.NewPacket(data, gl.LinkType(lt), gopacket.DecodeOptions{NoCopy: true})
	var v lview
	for _, l := range pk.Layers() {
		v.addGP(l)
	}
	if f := pk.ErrorLayer(); f != nil {
		v.fail = f.Error().Error()
	}
	return v
}

// gpParser is gopacket's DecodingLayerParser over Ethernet, Dot1Q, IPv4, IPv6 and TCP.
type gpParser struct {
	eth     gl.Ethernet
	dot1q   gl.Dot1Q
	ip4     gl.IPv4
	ip6     gl.IPv6
	tcp     gl.TCP
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newGPParser() *gpParser {
	g := &gpParser{}
	g.parser = gopacket.NewDecodingLayerParser(gl.LayerTypeEthernet, &g.eth, &g.dot1q, &g.ip4, &g.ip6, &g.tcp)
	g.parser.IgnoreUnsupported = true
	g.decoded = make([]gopacket.LayerType, 0, 8)
	return g
}

func (g *gpParser) view(data []byte) lview {
	err := g.parser.DecodeLayers(data, &g.decoded)
	var v lview
	if err != nil {
		v.fail = err.Error()
	}
	for _, t := range g.decoded {
		switch t {
		case gl.LayerTypeDot1Q:
			if !slices.Contains(g.decoded[:0], t) {
				v.vlans = []uint16{g.dot1q.VLANIdentifier} // one struct: only the last tag survives
			}
		case gl.LayerTypeIPv4:
			v.addGP(&g.ip4)
		case gl.LayerTypeIPv6:
			v.addGP(&g.ip6)
		case gl.LayerTypeTCP:
			v.addGP(&g.tcp)
		}
	}
	return v
}

// TestLayersDiffGopacket decodes every frame of ../shared/corpus and
// ../shared/real with layers and with gopacket and compares addresses, ports,
// sequence numbers, flags, captured payload length and VLAN tags. Where the
// two disagree the case must be one of the known ones below, each counted and
// checked in its own way.
func TestLayersDiffGopacket(t *testing.T) {
	var p layers.Packet
	g := newGPParser()
	known := map[string]int{}
	unexplained := map[string]int{}
	examples := map[string]string{}
	compared, snapCut := 0, 0
	note := func(m map[string]int, key, example string) {
		m[key]++
		if _, ok := examples[key]; !ok {
			examples[key] = example
		}
	}
	files := layersEachFrame(t, []string{"corpus", "real"}, func(file string, i int, f layersFrame) {
		p.Decode(layers.LinkType(f.linkType), f.data, f.origLen)
		ours := oursView(&p)
		where := fmt.Sprintf("%s #%d", file, i)
		var gp lview
		if f.linkType == uint32(layers.LinkTypeEthernet) {
			gp = g.view(f.data)
			if ours.tcp && gp.tcp && p.NumVLANs >= 2 {
				// Known wrong: DecodingLayerParser has one Dot1Q struct, so
				// of a QinQ stack only the inner tag survives.
				if len(gp.vlans) != 1 || gp.vlans[0] != ours.vlans[len(ours.vlans)-1] {
					t.Errorf("%s: DecodingLayerParser tags %v, ours %v", where, gp.vlans, ours.vlans)
				}
				note(known, "DecodingLayerParser drops the outer QinQ tags", where)
				gp.vlans = ours.vlans // checked against NewPacket below
				if np := newPacketView(f.linkType, f.data); !slices.Equal(np.vlans, ours.vlans) {
					t.Errorf("%s: NewPacket tags %v, ours %v", where, np.vlans, ours.vlans)
				}
			}
			if ours.tcp && !gp.tcp {
				// The parser only knows Ethernet, Dot1Q, IPv4, IPv6, TCP: an
				// IPv6 extension header stops it. Compare with NewPacket.
				gp = newPacketView(f.linkType, f.data)
			}
		} else {
			gp = newPacketView(f.linkType, f.data)
		}
		if gp.ipLayers > 1 && ours.tcp && gp.tcp {
			note(known, "tunnel: both decode the inner TCP (compared field by field)", where)
		}
		switch {
		case ours.tcp && !gp.tcp && (f.linkType == 228 || f.linkType == 229 || f.linkType == 14 || strings.Contains(gp.fail, "Unable to decode LinkType")):
			note(known, fmt.Sprintf("gopacket has no decoder for link type %d", f.linkType), where)
			return
		}
		switch {
		case ours.tcp && !gp.tcp && p.SLL != nil && p.SLL.AddrLen() > 8 && strings.Contains(gp.fail, "invalid address length"):
			// The address length field only says how much of the 8-byte
			// address field is used; libpcap and tshark decode such frames.
			note(known, "gopacket rejects SLL frames whose address length field exceeds 8", where)
			return
		case !ours.tcp && gp.tcp && p.Stop.Reason == layers.StopFragment && p.FragmentOffset == 0:
			// A first fragment carries the TCP header: gopacket decodes it;
			// layers stops at every fragment (StopFragment) so that a
			// reassembler sees them all alike and decodes the datagram
			// with DecodeIP.
			note(known, "first fragment: gopacket decodes its TCP header, layers stops at the fragment for reassembly", where)
			return
		case ours.tcp && !gp.tcp && gp.atomic:
			// RFC 6946: an atomic fragment is a whole datagram (tshark
			// decodes its TCP); gopacket's NewPacket hands it on as a fragment.
			note(known, "IPv6 atomic fragment: gopacket does not decode its TCP header", where)
			return
		case !ours.tcp && p.Stop == (layers.Stop{Layer: layers.LayerTCP, Reason: layers.StopMalformed}) && gp.fail != "":
			// Both reject the TCP header; gopacket keeps a partial TCP layer
			// beside its error.
			note(known, "malformed TCP header: both reject it", where)
			return
		}
		if !ours.tcp && !gp.tcp && p.Stop.Reason == layers.StopFragment && p.Protocol == layers.IPProtoTCP {
			note(known, "fragment of TCP: neither decodes a TCP header (DESIGN.md: older gopacket parsed IPv6 ones as TCP; v1.7.7 does not)", where)
		}
		if ours.tcp != gp.tcp {
			note(unexplained, fmt.Sprintf("link %d: ours %v (tcp=%v) vs gopacket tcp=%v %s", f.linkType, p.Stop, ours.tcp, gp.tcp, firstWords(gp.fail)), where+"\n  ours "+ours.String()+"\n  gp   "+gp.String())
			return
		}
		if !ours.tcp {
			return
		}
		compared++
		if f.origLen > len(f.data) && ours.ipv == 4 && gp.claimed > 0 {
			// Cut by the snaplen: the claimed length is the IP header's, within the wire frame.
			want := min(gp.claimed, f.origLen-(len(f.data)-gp.payload))
			if p.PayloadLength != want {
				t.Errorf("%s: PayloadLength %d, gopacket's IPv4 header claims %d", where, p.PayloadLength, want)
			}
			if p.PayloadLength > len(p.Payload) {
				snapCut++
			}
		}
		if ours.String() != gp.String() && !equalButFail(ours, gp) {
			note(unexplained, fmt.Sprintf("link %d: field mismatch", f.linkType), where+"\n  ours "+ours.String()+"\n  gp   "+gp.String())
		}
	})
	if files == 0 {
		t.Skip("no capture files")
	}
	report := func(m map[string]int) string {
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "\n  %6d  %s   e.g. %s", m[k], k, examples[k])
		}
		return b.String()
	}
	t.Logf("%d files, %d TCP packets compared field by field (%d with a payload cut by the snaplen); known differences:%s", files, compared, snapCut, report(known))
	if len(unexplained) > 0 {
		t.Errorf("unexplained differences:%s", report(unexplained))
	}
	if compared < 10000 || snapCut < 1000 || known["DecodingLayerParser drops the outer QinQ tags"] == 0 {
		t.Errorf("the corpus should give thousands of TCP packets and QinQ frames: %d compared, %v", compared, known)
	}
}

func equalButFail(a, b lview) bool {
	a.fail, b.fail = "", ""
	a.ipLayers, b.ipLayers = 0, 0
	a.atomic, b.atomic = false, false
	a.claimed, b.claimed = 0, 0
	return a.String() == b.String()
}

func firstWords(s string) string {
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}
