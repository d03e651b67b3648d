package fuzz

import (
	"bytes"
	"encoding/binary"
	"net"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"github.com/gopacket/gopacket"
	gl "github.com/gopacket/gopacket/layers"

	"github.com/reseq/reseq/layers"
)

// Fuzz targets per link type. Each takes a frame and how many bytes the
// snaplen cut from it, decodes it and asserts the invariants of layers.Decode:
// no panic, every view and the payload inside the frame, claimed >= captured,
// the tag count within MaxVLANs, the flow key of the mirrored frame (addresses
// and ports swapped) the reverse of the frame's, and a shorter capture of the
// same frame decoding to a prefix of the same payload with the same claim.

func FuzzDecodeEthernet(f *testing.F) { layersFuzz(f, layers.LinkTypeEthernet) }
func FuzzDecodeSLL(f *testing.F)      { layersFuzz(f, layers.LinkTypeLinuxSLL) }
func FuzzDecodeSLL2(f *testing.F)     { layersFuzz(f, layers.LinkTypeLinuxSLL2) }
func FuzzDecodeRaw(f *testing.F)      { layersFuzz(f, layers.LinkTypeRaw) }
func FuzzDecodeNull(f *testing.F)     { layersFuzz(f, layers.LinkTypeNull) }
func FuzzDecodeLoop(f *testing.F)     { layersFuzz(f, layers.LinkTypeLoop) }
func FuzzDecodeIPv4(f *testing.F)     { layersFuzz(f, layers.LinkTypeIPv4) }
func FuzzDecodeIPv6(f *testing.F)     { layersFuzz(f, layers.LinkTypeIPv6) }
func FuzzDecodePPP(f *testing.F)      { layersFuzz(f, layers.LinkTypePPP) }
func FuzzDecodeNFLOG(f *testing.F)    { layersFuzz(f, layers.LinkTypeNFLOG) }

// layersSeedNet returns network-layer seeds: IPv4 and IPv6 TCP with options,
// extension headers, fragments, UDP, ICMP.
func layersSeedNet(tb testing.TB) [][]byte {
	ser := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			tb.Fatal(err)
		}
		return slices.Clone(buf.Bytes())
	}
	ip4 := func(proto gl.IPProtocol, opts ...gl.IPv4Option) *gl.IPv4 {
		return &gl.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}, Options: opts}
	}
	ip6 := func(next gl.IPProtocol) *gl.IPv6 {
		return &gl.IPv6{Version: 6, NextHeader: next, HopLimit: 64, SrcIP: net.ParseIP("fd77::1"), DstIP: net.ParseIP("fd77::2")}
	}
	tcp := func(ip gopacket.NetworkLayer, syn bool) *gl.TCP {
		t := &gl.TCP{SrcPort: 5001, DstPort: 8080, Seq: 1, Ack: 2, ACK: true, SYN: syn, Window: 64}
		if syn {
			t.Options = []gl.TCPOption{
				{OptionType: gl.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
				{OptionType: gl.TCPOptionKindSACKPermitted, OptionLength: 2},
				{OptionType: gl.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)},
				{OptionType: gl.TCPOptionKindNop},
				{OptionType: gl.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
			}
		} else {
			t.Options = []gl.TCPOption{{OptionType: gl.TCPOptionKindSACK, OptionLength: 18, OptionData: make([]byte, 16)}}
		}
		_ = t.SetNetworkLayerForChecksum(ip)
		return t
	}
	pay := gopacket.Payload("GET / HTTP/1.1\r\n\r\n")
	a := ip4(gl.IPProtocolTCP)
	b := ip4(gl.IPProtocolTCP, gl.IPv4Option{OptionType: 7, OptionLength: 7, OptionData: make([]byte, 5)})
	c := ip6(gl.IPProtocolTCP)
	d := ip6(gl.IPProtocolIPv6Destination)
	udp := &gl.UDP{SrcPort: 53, DstPort: 5353}
	u4 := ip4(gl.IPProtocolUDP)
	_ = udp.SetNetworkLayerForChecksum(u4)
	fragHdr := []byte{byte(gl.IPProtocolTCP), 0, 0x05, 0xc9, 0, 0, 0, 1} // offset 185*8, MF
	seeds := [][]byte{
		ser(a, tcp(a, true)),
		ser(a, tcp(a, false), pay),
		ser(b, tcp(b, false), pay),
		ser(c, tcp(c, false), pay),
		ser(d, gopacket.Payload(append([]byte{byte(gl.IPProtocolTCP), 0, 1, 4, 0, 0, 0, 0}, ser(tcp(c, true))...))),
		ser(ip6(gl.IPProtocolIPv6Fragment), gopacket.Payload(append(fragHdr, ser(tcp(c, false), pay)...))),
		ser(u4, udp, pay),
		ser(ip4(gl.IPProtocolICMPv4), &gl.ICMPv4{TypeCode: gl.CreateICMPv4TypeCode(8, 0)}),
	}
	frag4 := ser(ip4(gl.IPProtocolTCP), gopacket.Payload("fragment"))
	binary.BigEndian.PutUint16(frag4[6:], 0x2000|100)
	tso := ser(a, tcp(a, false), pay)
	tso[2], tso[3] = 0, 0
	ihl4 := ser(a, tcp(a, false), pay)
	ihl4[0] = 0x44
	var chain []byte // 17 destination options headers: one more than Decode walks
	for i := 0; i < 17; i++ {
		chain = append(chain, byte(gl.IPProtocolIPv6Destination), 0, 1, 4, 0, 0, 0, 0)
	}
	chain[len(chain)-8] = byte(gl.IPProtocolTCP)
	long := ser(d, gopacket.Payload(append(chain, ser(tcp(c, false), pay)...)))
	ah := ser(ip6(gl.IPProtocolAH), gopacket.Payload(append([]byte{byte(gl.IPProtocolTCP), 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ser(tcp(c, false), pay)...)))
	return append(seeds, frag4, tso, ihl4, long, ah)
}

// layersSeedLink wraps a network-layer seed in the link header of lt.
func layersSeedLink(lt layers.LinkType, n []byte) [][]byte {
	v6 := n[0]>>4 == 6
	et := uint16(0x0800)
	if v6 {
		et = 0x86dd
	}
	be := binary.BigEndian
	switch lt {
	case layers.LinkTypeEthernet:
		h := make([]byte, 12, 30)
		plain := be.AppendUint16(slices.Clone(h), et)
		qinq := be.AppendUint16(be.AppendUint16(be.AppendUint16(be.AppendUint16(slices.Clone(h), 0x88a8), 201), 0x8100), 100)
		qinq = be.AppendUint16(qinq, et)
		deep := slices.Clone(h) // nine tags: one more than Decode keeps
		for i := 0; i < 9; i++ {
			deep = be.AppendUint16(be.AppendUint16(deep, []uint16{0x8100, 0x88a8, 0x9100}[i%3]), uint16(i+1))
		}
		deep = be.AppendUint16(deep, et)
		dot3 := be.AppendUint16(slices.Clone(h), uint16(len(n)))
		snap := be.AppendUint16(be.AppendUint16(slices.Clone(h), uint16(len(n)+8)), 0xaaaa)
		snap = be.AppendUint16(append(snap, 3, 0, 0, 0), et)
		tunnelled := layersSeedTunnels(append(slices.Clone(plain), n...), n)
		return append([][]byte{append(plain, n...), append(qinq, n...), append(append(plain, n...), 0, 0, 0, 0), append(deep, n...), append(dot3, n...),
			append(snap, n...)}, tunnelled...)
	case layers.LinkTypePPP:
		proto := []byte{0xff, 0x03, 0x00, 0x21}
		if v6 {
			proto[3] = 0x57
		}
		return [][]byte{append(proto, n...), append([]byte{proto[3]}, n...)}
	case layers.LinkTypeNFLOG:
		fam := byte(2)
		if v6 {
			fam = 10
		}
		h := []byte{fam, 0, 0, 1, 8, 0, 1, 0, 0x08, 0, 3, 0}
		h = binary.LittleEndian.AppendUint16(h, uint16(4+len(n)))
		h = append(h, 9, 0)
		return [][]byte{append(h, n...)}
	case layers.LinkTypeLinuxSLL:
		h := make([]byte, 16)
		be.PutUint16(h[4:], 6)
		be.PutUint16(h[14:], et)
		return [][]byte{append(h, n...)}
	case layers.LinkTypeLinuxSLL2:
		h := make([]byte, 20)
		be.PutUint16(h, et)
		h[11] = 6
		bad := slices.Clone(h)
		bad[11] = 255
		return [][]byte{append(h, n...), append(bad, n...)}
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		fam := uint32(2)
		if v6 {
			fam = 30
		}
		le := binary.LittleEndian.AppendUint32(nil, fam)
		bigE := be.AppendUint32(nil, fam)
		return [][]byte{append(le, n...), append(bigE, n...)}
	case layers.LinkTypeIPv4:
		if v6 {
			return nil
		}
	case layers.LinkTypeIPv6:
		if !v6 {
			return nil
		}
	}
	return [][]byte{slices.Clone(n)}
}

func layersFuzz(f *testing.F, lt layers.LinkType) {
	for _, n := range layersSeedNet(f) {
		for _, s := range layersSeedLink(lt, n) {
			f.Add(s, uint16(0))
			f.Add(s[:len(s)*2/3], uint16(len(s)-len(s)*2/3))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		layersCheckFrame(t, lt, data, len(data)+int(cut))
	})
}

func layersInside(v, data []byte) (int, bool) {
	if len(v) == 0 {
		return 0, true
	}
	if len(data) == 0 {
		return 0, false
	}
	off := uintptr(unsafe.Pointer(unsafe.SliceData(v))) - uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	return int(off), off <= uintptr(len(data)) && int(off)+len(v) <= len(data)
}

// layersCheckFrame decodes one frame and asserts the invariants.
func layersCheckFrame(t *testing.T, lt layers.LinkType, data []byte, origLen int) {
	var p layers.Packet
	stop := p.Decode(lt, data, origLen)
	if stop != p.Stop {
		t.Fatalf("returned %v, p.Stop %v", stop, p.Stop)
	}
	if p.NumVLANs < 0 || p.NumVLANs > layers.MaxVLANs {
		t.Fatalf("NumVLANs %d", p.NumVLANs)
	}
	if p.PayloadLength < len(p.Payload) {
		t.Fatalf("claimed %d < captured %d", p.PayloadLength, len(p.Payload))
	}
	if p.PayloadOffset+p.PayloadLength > max(origLen, len(data)) {
		t.Fatalf("claimed payload [%d,+%d) beyond the %d-byte wire frame", p.PayloadOffset, p.PayloadLength, max(origLen, len(data)))
	}
	if off, ok := layersInside(p.Payload, data); !ok || (len(p.Payload) > 0 && off != p.PayloadOffset) {
		t.Fatalf("payload not inside the frame at its offset (%d vs %d)", off, p.PayloadOffset)
	}
	for _, v := range [][]byte{p.Ethernet, p.SLL, p.SLL2, p.IPv4, p.IPv6, p.TCP, p.UDP} {
		if _, ok := layersInside(v, data); !ok {
			t.Fatalf("a header view lies outside the frame")
		}
	}
	if p.TCP != nil && (len(p.TCP) < 20 || len(p.TCP) != p.TCP.DataOffset() || p.Transport != layers.TransportTCP) {
		t.Fatalf("TCP view of %d bytes, data offset %d, transport %v", len(p.TCP), p.TCP.DataOffset(), p.Transport)
	}
	if p.TCPOptions.NumSACK > layers.MaxSACKBlocks {
		t.Fatalf("NumSACK %d", p.TCPOptions.NumSACK)
	}
	if p.IPv4 != nil && (len(p.IPv4) != p.IPv4.HeaderLength() || p.Network != layers.NetworkIPv4) {
		t.Fatalf("IPv4 view of %d bytes, IHL %d", len(p.IPv4), p.IPv4.HeaderLength())
	}
	if p.IPv6 != nil && (len(p.IPv6) != 40 || p.Network != layers.NetworkIPv6) {
		t.Fatalf("IPv6 view of %d bytes", len(p.IPv6))
	}
	if stop.OK() != (p.Transport != layers.TransportNone) && stop.Reason != layers.StopFragment {
		t.Fatalf("stop %v with transport %v", stop, p.Transport)
	}
	if p.Transport != layers.TransportNone && p.Network == layers.NetworkNone {
		t.Fatalf("a transport without a network layer")
	}
	if p.IPv6ExtHeaders > layers.MaxIPv6ExtHeaders {
		t.Fatalf("%d extension headers", p.IPv6ExtHeaders)
	}
	if p.NumTunnels < 0 || p.NumTunnels > layers.MaxTunnels || int(p.LinkVLANs) > p.NumVLANs {
		t.Fatalf("%d tunnels, %d link tags of %d", p.NumTunnels, p.LinkVLANs, p.NumVLANs)
	}
	for _, e := range p.Tunnels[p.NumTunnels:] {
		if e != (layers.Tunnel{}) {
			t.Fatalf("an unused tunnel entry is set")
		}
	}
	if ip := []byte(p.IPv4); ip != nil || p.IPv6 != nil {
		if ip == nil {
			ip = p.IPv6
		}
		if off, _ := layersInside(ip, data); off != p.NetworkOffset {
			t.Fatalf("NetworkOffset %d, IP header at %d", p.NetworkOffset, off)
		}
	}
	if p.Stop.Reason == layers.StopFragment && (!p.Fragment || p.TCP != nil) {
		t.Fatalf("a fragment stop without Fragment, or with a TCP header")
	}
	// The key's tags: behind a tunnel, those inside it (the carrier's link
	// tags are not the flow's); else all but the capture point's.
	k := p.FlowKey(true)
	keyTags := p.NumVLANs
	if p.NumTunnels > 0 {
		keyTags -= int(p.LinkVLANs)
	} else if p.LinkVLANs >= 2 {
		keyTags--
	}
	if cp, ok := p.CapturePoint(); ok != (p.LinkVLANs >= 2) || ok && cp != p.VLANs[0].ID ||
		int(k.NumVLANs) != min(keyTags, layers.MaxKeyVLANs) {
		t.Fatalf("capture point %d/%v, key tags %d, %d tags (%d on the link, %d tunnels)", cp, ok, k.NumVLANs, p.NumVLANs, p.LinkVLANs, p.NumTunnels)
	}

	// Deterministic.
	var q layers.Packet
	q.Decode(lt, data, origLen)
	if q.Stop != p.Stop || q.FlowKey(false) != p.FlowKey(false) || !bytes.Equal(q.Payload, p.Payload) || q.PayloadLength != p.PayloadLength {
		t.Fatalf("two decodes of one frame differ")
	}

	// A reused Packet keeps nothing of the decode before: after a frame that
	// sets the rarely set fields (a QinQ stack, IPv6 extension headers, a
	// fragment, options), decoding this frame gives every field a fresh
	// decode does.
	for _, prior := range layersRarePriors {
		var r layers.Packet
		r.Decode(layers.LinkTypeEthernet, prior, 0)
		r.Decode(lt, data, origLen)
		if d := layersSamePacket(&r, &p); d != "" {
			t.Fatalf("a reused Packet differs from a fresh one in %s", d)
		}
	}

	// The mirrored frame (addresses and ports swapped) has the reverse key;
	// not when a swapped UDP port would name a tunnel.
	if p.Network != layers.NetworkNone && !(p.UDP != nil && layersTunnelPort(p.UDP.SrcPort())) {
		m := slices.Clone(data)
		var ip []byte
		var alen int
		if p.Network == layers.NetworkIPv4 {
			ip, alen = p.IPv4, 4
		} else {
			ip, alen = p.IPv6, 16
		}
		off, _ := layersInside(ip, data)
		src := off + len(ip) - 2*alen
		if p.Network == layers.NetworkIPv4 {
			src = off + 12
		}
		swap(m[src:src+alen], m[src+alen:src+2*alen])
		var l4 []byte
		if p.TCP != nil {
			l4 = p.TCP
		} else if p.UDP != nil {
			l4 = p.UDP
		}
		if l4 != nil {
			o, _ := layersInside(l4, data)
			swap(m[o:o+2], m[o+2:o+4])
		}
		q.Decode(lt, m, origLen)
		qk := q.FlowKey(true)
		if q.Stop != p.Stop || qk != k.Reverse() || qk.SymmetricHash() != k.SymmetricHash() {
			t.Fatalf("mirrored frame: %v key %v, want %v key %v", q.Stop, q.FlowKey(true), p.Stop, k.Reverse())
		}
	}

	// A shorter capture of the same wire frame claims the same and captures a prefix.
	if stop.OK() && p.Transport == layers.TransportTCP && len(p.Payload) > 0 {
		n := p.PayloadOffset + len(p.Payload)/2
		q.Decode(lt, data[:n], max(origLen, len(data)))
		if !q.Stop.OK() || q.PayloadLength != p.PayloadLength || !bytes.Equal(q.Payload, p.Payload[:len(q.Payload)]) ||
			len(q.Payload) != len(p.Payload)/2 || q.FlowKey(true) != k {
			t.Fatalf("cut to %d bytes: %v, claimed %d captured %d; full: claimed %d captured %d", n, q.Stop, q.PayloadLength, len(q.Payload), p.PayloadLength, len(p.Payload))
		}
	}
}

func layersTunnelPort(port uint16) bool {
	return port == layers.PortVXLAN || port == layers.PortGeneve || port == layers.PortGTPU
}

// layersRarePriors are frames whose decodes set the fields common frames
// leave zero: the fragment frame below, a frame with TCP options, and a
// tunnelled one (tags inside and outside VXLAN, in GRE).
var layersRarePriors = [][]byte{layersRarePrior, layersRareOptions(), layersRareTunnel()}

func layersRareOptions() []byte {
	b := slices.Clone(layersRarePrior)
	// Make the fragment header an atomic one: the TCP header and its
	// options are decoded.
	b[26+40+8+3] = 0
	return b
}

func layersRareTunnel() []byte {
	// Its tags are those of the frame inside the tunnels: none on the link.
	return layersWrapVXLAN(layersWrapGRE(layersRareOptions()))
}

// layersRarePrior is an Ethernet frame whose decode sets the fields common
// frames leave zero: three tags, an IPv6 destination options header, a first
// fragment, TCP with MSS, SACK-permitted, window scale and a SACK block.
var layersRarePrior = func() []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xa8, 0, 201, 0x81, 0, 0, 100, 0x91, 0, 0, 7, 0x86, 0xdd}
	tcp := []byte{0x13, 0x89, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 2, 0xa0, 0x12, 0xff, 0xff, 0, 0, 0, 0,
		2, 4, 5, 0xb4, 4, 2, 1, 3, 3, 7, 5, 10, 0, 0, 0, 9, 0, 0, 0, 10}
	ext := []byte{byte(gl.IPProtocolIPv6Fragment), 0, 1, 4, 0, 0, 0, 0}
	frag := []byte{byte(gl.IPProtocolTCP), 0, 0, 1, 0, 0, 0, 42} // offset 0, more fragments
	ip := []byte{0x60, 0, 0, 0, 0, byte(len(ext) + len(frag) + len(tcp)), byte(gl.IPProtocolIPv6Destination), 64,
		0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	return slices.Concat(b, ip, ext, frag, tcp)
}()

// layersSamePacket names the first exported field in which a and b differ
// (views must alias the same bytes), or returns "".
func layersSamePacket(a, b *layers.Packet) string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := 0; i < va.NumField(); i++ {
		f := va.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		x, y := va.Field(i), vb.Field(i)
		if x.Kind() == reflect.Slice {
			if x.Pointer() != y.Pointer() || x.Len() != y.Len() || x.Cap() != y.Cap() || x.IsNil() != y.IsNil() {
				return f.Name
			}
		} else if !reflect.DeepEqual(x.Interface(), y.Interface()) {
			return f.Name
		}
	}
	return ""
}

func swap(a, b []byte) {
	for i := range a {
		a[i], b[i] = b[i], a[i]
	}
}

// TestLayersFuzzInvariantsCorpus runs the fuzz invariants over every frame of
// ../shared/corpus and ../shared/real (the seeds the fuzzers cannot carry).
func TestLayersFuzzInvariantsCorpus(t *testing.T) {
	n := 0
	layersEachFrame(t, []string{"corpus", "real"}, func(file string, i int, fr layersFrame) {
		if testing.Short() && i > 2000 {
			return
		}
		layersCheckFrame(t, layers.LinkType(fr.linkType), fr.data, fr.origLen)
		if t.Failed() {
			t.Fatalf("%s #%d", file, i)
		}
		n++
	})
	t.Logf("%d frames checked", n)
}

// TestLayersRarePrior checks that the frame the reuse invariant decodes first
// does set the rarely set fields.
func TestLayersRarePrior(t *testing.T) {
	var p layers.Packet
	p.Decode(layers.LinkTypeEthernet, layersRarePrior, 0)
	if p.Stop.Reason != layers.StopFragment || p.NumVLANs != 3 || p.IPv6ExtHeaders != 2 || !p.Fragment || !p.MoreFragments || p.FragmentID != 42 ||
		p.FragmentHeaderOffset != 26+48 {
		t.Fatalf("prior decodes to %v, %d tags, %d extension headers, fragment %v/%v id %d",
			p.Stop, p.NumVLANs, p.IPv6ExtHeaders, p.Fragment, p.MoreFragments, p.FragmentID)
	}
	p.Decode(layers.LinkTypeEthernet, layersRareOptions(), 0)
	o := p.TCPOptions
	if !p.Stop.OK() || p.NumVLANs != 3 || !o.HasMSS || !o.SACKPermitted || !o.HasWindowScale || o.NumSACK != 1 {
		t.Fatalf("options prior decodes to %v, options %+v", p.Stop, o)
	}
	p.Decode(layers.LinkTypeEthernet, layersRareTunnel(), 0)
	if !p.Stop.OK() || p.NumTunnels != 2 || p.NumVLANs != 3 || p.LinkVLANs != 0 || !p.TCPOptions.HasMSS {
		t.Fatalf("tunnel prior decodes to %v, %d tunnels, %d tags", p.Stop, p.NumTunnels, p.NumVLANs)
	}
}
