package layers

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"unsafe"
)

type want struct {
	stop      Stop
	network   Network
	transport Transport
	proto     uint8
	vlans     []VLAN
	payload   string // captured payload
	plen      int    // claimed payload length; -1: len(payload)
	sport     uint16
	dport     uint16
	fragment  bool
	fragOff   int
	ext       int // IPv6 extension headers
}

var (
	tagQ  = VLAN{TPID: EtherTypeVLAN, ID: 100, Priority: 3}
	tagAD = VLAN{TPID: EtherTypeQinQ, ID: 201, DEI: true}
	tag91 = VLAN{TPID: EtherTypeQinQ1, ID: 4095, Priority: 7}
)

func tags(n int) []VLAN {
	all := []VLAN{tagAD, tag91, tagQ, {TPID: EtherTypeVLAN, ID: 7}, {TPID: EtherTypeQinQ, ID: 1, Priority: 1}, {TPID: EtherTypeVLAN, ID: 2},
		{TPID: EtherTypeVLAN, ID: 3}, {TPID: EtherTypeVLAN, ID: 4}, {TPID: EtherTypeVLAN, ID: 5}}
	return all[:n]
}

func okTCP(payload string) want {
	return want{network: NetworkIPv4, transport: TransportTCP, proto: IPProtoTCP, payload: payload, plen: -1, sport: 5001, dport: 8080}
}

func okTCP6(payload string) want {
	w := okTCP(payload)
	w.network = NetworkIPv6
	return w
}

type decodeCase struct {
	name    string
	lt      LinkType
	data    []byte
	origLen int
	want    want
}

func with(w want, f func(*want)) want { f(&w); return w }

func decodeCases() []decodeCase {
	hello := defTCP("hello")
	p4 := tcp4(hello)
	p6 := tcp6(hello)
	var cs []decodeCase
	add := func(name string, lt LinkType, data []byte, w want) {
		cs = append(cs, decodeCase{name: name, lt: lt, data: data, want: w})
	}
	// addCut adds a frame the capture cut inside a header (truncated), and the
	// same bytes as a whole frame on the wire (malformed: it ends inside the header).
	addCut := func(name string, lt LinkType, data []byte, w want) {
		cs = append(cs, decodeCase{name: name, lt: lt, data: data, origLen: len(data) + 64, want: w})
		whole := w
		whole.stop.Reason = StopMalformed
		cs = append(cs, decodeCase{name: name + "/whole frame", lt: lt, data: data, want: whole})
	}

	// Link types.
	add("ethernet/ipv4", LinkTypeEthernet, eth(EtherTypeIPv4, p4), okTCP("hello"))
	add("ethernet/ipv6", LinkTypeEthernet, eth(EtherTypeIPv6, p6), okTCP6("hello"))
	add("ethernet/arp", LinkTypeEthernet, eth(EtherTypeARP, make([]byte, 28)), want{stop: Stop{LayerLink, StopUnsupported}})
	add("ethernet/802.3 length", LinkTypeEthernet, eth(46, make([]byte, 46)), want{stop: Stop{LayerLLC, StopUnsupported}})
	addCut("ethernet/short", LinkTypeEthernet, eth(EtherTypeIPv4, nil)[:13], want{stop: Stop{LayerLink, StopTruncated}})
	add("ethernet/empty", LinkTypeEthernet, nil, want{stop: Stop{LayerLink, StopTruncated}})
	addCut("ethernet/no ip", LinkTypeEthernet, eth(EtherTypeIPv4, nil), want{stop: Stop{LayerIPv4, StopTruncated}})
	add("sll/ipv4", LinkTypeLinuxSLL, sll(EtherTypeIPv4, p4), okTCP("hello"))
	add("sll/ipv6", LinkTypeLinuxSLL, sll(EtherTypeIPv6, p6), okTCP6("hello"))
	add("sll/vlan", LinkTypeLinuxSLL, sll(EtherTypeVLAN, cat([]byte{0x00, 0x64, 0x08, 0x00}, p4)),
		with(okTCP("hello"), func(w *want) { w.vlans = []VLAN{{TPID: EtherTypeVLAN, ID: 100}} }))
	addCut("sll/short", LinkTypeLinuxSLL, sll(EtherTypeIPv4, nil)[:15], want{stop: Stop{LayerLink, StopTruncated}})
	add("sll2/ipv4", LinkTypeLinuxSLL2, sll2(EtherTypeIPv4, 6, p4), okTCP("hello"))
	add("sll2/ipv6", LinkTypeLinuxSLL2, sll2(EtherTypeIPv6, 6, p6), okTCP6("hello"))
	add("sll2/bad addr len", LinkTypeLinuxSLL2, sll2(EtherTypeIPv4, 255, p4), okTCP("hello"))
	addCut("sll2/short", LinkTypeLinuxSLL2, sll2(EtherTypeIPv4, 6, nil)[:19], want{stop: Stop{LayerLink, StopTruncated}})
	add("sll2/netlink", LinkTypeLinuxSLL2, sll2(0x0010, 0, make([]byte, 16)), want{stop: Stop{LayerLink, StopUnsupported}})
	for _, lt := range []LinkType{LinkTypeNull, LinkTypeLoop} {
		for _, bigEndian := range []bool{false, true} {
			n := lt.String() + map[bool]string{false: "/le", true: "/be"}[bigEndian]
			add(n+"/af2", lt, null(2, bigEndian, p4), okTCP("hello"))
			for _, fam := range []uint32{24, 28, 30} {
				add(n+"/af"+string(rune('0'+fam/10))+string(rune('0'+fam%10)), lt, null(fam, bigEndian, p6), okTCP6("hello"))
			}
			add(n+"/af7", lt, null(7, bigEndian, p4), want{stop: Stop{LayerLink, StopUnsupported}})
		}
		addCut(lt.String()+"/short", lt, []byte{2, 0, 0}, want{stop: Stop{LayerLink, StopTruncated}})
	}
	for _, lt := range []LinkType{LinkTypeRaw, LinkTypeRawOld12, LinkTypeRawOld14} {
		add("raw"+lt.String()+"/4", lt, p4, okTCP("hello"))
		add("raw"+lt.String()+"/6", lt, p6, okTCP6("hello"))
		add("raw"+lt.String()+"/5", lt, cat([]byte{0x50}, p4[1:]), want{stop: Stop{LayerLink, StopUnsupported}})
		add("raw"+lt.String()+"/empty", lt, nil, want{stop: Stop{LayerLink, StopTruncated}})
	}
	add("ipv4 link", LinkTypeIPv4, p4, okTCP("hello"))
	add("ipv4 link/v6 inside", LinkTypeIPv4, p6, want{stop: Stop{LayerIPv4, StopMalformed}})
	add("ipv6 link", LinkTypeIPv6, p6, okTCP6("hello"))
	add("ipv6 link/v4 inside", LinkTypeIPv6, cat(p4, make([]byte, 20)), want{stop: Stop{LayerIPv6, StopMalformed}})
	add("unknown link type", LinkType(147), p4, want{stop: Stop{LayerLink, StopLinkType}})
	add("radiotap", LinkType(127), p4, want{stop: Stop{LayerLink, StopLinkType}})

	// VLAN stacks, 0..8 tags with mixed TPIDs; 9 is too deep.
	for n := 0; n <= MaxVLANs; n++ {
		w := okTCP("hello")
		w.vlans = tags(n)
		add("vlan depth "+string(rune('0'+n)), LinkTypeEthernet, eth(EtherTypeIPv4, p4, tags(n)...), w)
		w6 := okTCP6("hello")
		w6.vlans = tags(n)
		add("vlan depth "+string(rune('0'+n))+"/ipv6", LinkTypeEthernet, eth(EtherTypeIPv6, p6, tags(n)...), w6)
	}
	add("vlan too deep", LinkTypeEthernet, eth(EtherTypeIPv4, p4, tags(9)...), want{stop: Stop{LayerVLAN, StopTooDeep}, vlans: tags(8)})
	addCut("vlan truncated", LinkTypeEthernet, eth(EtherTypeIPv4, nil, tags(2)...)[:20], want{stop: Stop{LayerVLAN, StopTruncated}, vlans: tags(1)})
	add("vlan/arp", LinkTypeEthernet, eth(EtherTypeARP, make([]byte, 28), tags(2)...), want{stop: Stop{LayerLink, StopUnsupported}, vlans: tags(2)})

	// IPv4.
	opts := []byte{7, 7, 4, 1, 2, 3, 4, 0} // record route + EOL: 8 bytes
	add("ipv4 options", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, opts: opts}, hello.bytes()), okTCP("hello"))
	add("ipv4 max options", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, opts: make([]byte, 40)}, hello.bytes()), okTCP("hello"))
	add("ipv4 ihl 4", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, ihl: 4}, hello.bytes()), want{stop: Stop{LayerIPv4, StopMalformed}})
	add("ipv4 ihl beyond total", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: 20, ihl: 6}, hello.bytes()), want{stop: Stop{LayerIPv4, StopMalformed}})
	addCut("ipv4 options cut", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, opts: make([]byte, 40)}, nil)[:40], want{stop: Stop{LayerIPv4, StopTruncated}})
	addCut("ipv4 header cut", LinkTypeEthernet, eth(EtherTypeIPv4, p4[:19]), want{stop: Stop{LayerIPv4, StopTruncated}})
	add("ipv4 total < header", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: 19}, hello.bytes()), want{stop: Stop{LayerIPv4, StopMalformed}})
	add("ipv4 tso total 0", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: 0}, hello.bytes()), okTCP("hello"))
	cs = append(cs, decodeCase{name: "ipv4 tso total 0 snaplen", lt: LinkTypeRaw, data: ipv4(v4Spec{proto: IPProtoTCP, totalLen: 0}, hello.bytes()), origLen: 40 + 5 + 1000,
		want: with(okTCP("hello"), func(w *want) { w.plen = 1005 })})
	big := defTCP("0123456789abcdef")
	cs = append(cs, decodeCase{name: "ipv4 snaplen cut payload", lt: LinkTypeEthernet, data: eth(EtherTypeIPv4, tcp4(big))[:14+40+6], origLen: 14 + 40 + 16,
		want: with(okTCP("012345"), func(w *want) { w.plen = 16 })})
	cs = append(cs, decodeCase{name: "ipv4 total beyond capture, origLen unknown", lt: LinkTypeEthernet, data: eth(EtherTypeIPv4, tcp4(big))[:14+40+6], origLen: -1,
		want: with(okTCP("012345"), func(w *want) { w.plen = 16 })})
	add("ipv4 total beyond the wire frame", LinkTypeEthernet, eth(EtherTypeIPv4, tcp4(big))[:14+40+6], okTCP("012345"))
	cs = append(cs, decodeCase{name: "ipv4 total beyond origLen", lt: LinkTypeEthernet, data: eth(EtherTypeIPv4, tcp4(big))[:14+40+6], origLen: 14 + 40 + 10,
		want: with(okTCP("012345"), func(w *want) { w.plen = 10 })})
	cs = append(cs, decodeCase{name: "ipv4 origLen below caplen", lt: LinkTypeEthernet, data: eth(EtherTypeIPv4, tcp4(big)), origLen: 10,
		want: okTCP("0123456789abcdef")})
	cs = append(cs, decodeCase{name: "ipv4 tso total 0 origLen unknown", lt: LinkTypeRaw, data: ipv4(v4Spec{proto: IPProtoTCP, totalLen: 0}, hello.bytes()), origLen: -1,
		want: okTCP("hello")})
	add("ipv4 ethernet padding", LinkTypeEthernet, cat(eth(EtherTypeIPv4, tcp4(defTCP("a"))), make([]byte, 5)), okTCP("a"))
	add("ipv4 padding, no payload", LinkTypeEthernet, cat(eth(EtherTypeIPv4, tcp4(defTCP(""))), make([]byte, 6)), okTCP(""))
	add("ipv4 version 5", LinkTypeIPv4, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, version: 5}, hello.bytes()), want{stop: Stop{LayerIPv4, StopMalformed}})
	add("ipv4 first fragment", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, flags: 0x2000, id: 77}, hello.bytes()),
		want{stop: Stop{LayerIPv4, StopFragment}, network: NetworkIPv4, transport: TransportOther, proto: IPProtoTCP, payload: string(hello.bytes()), plen: -1, fragment: true})
	add("ipv4 middle fragment", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, flags: 0x2000 | 185, id: 77}, []byte("fragdata")),
		want{stop: Stop{LayerIPv4, StopFragment}, network: NetworkIPv4, transport: TransportOther, proto: IPProtoTCP, payload: "fragdata", plen: -1, fragment: true, fragOff: 1480})
	add("ipv4 last fragment", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, flags: 1, id: 77}, hello.bytes()[:8]),
		want{stop: Stop{LayerIPv4, StopFragment}, network: NetworkIPv4, transport: TransportOther, proto: IPProtoTCP, payload: string(hello.bytes()[:8]), plen: -1, fragment: true, fragOff: 8})
	add("ipv4 df only", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, flags: 0x4000}, hello.bytes()), okTCP("hello"))
	add("ipv4 icmp", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoICMP, totalLen: -1}, []byte{8, 0, 0, 0, 0, 1, 0, 1}),
		want{network: NetworkIPv4, transport: TransportOther, proto: IPProtoICMP, payload: "\x08\x00\x00\x00\x00\x01\x00\x01", plen: -1})
	udp := []byte{0x13, 0x89, 0x00, 0x35, 0, 12, 0, 0, 'a', 'b', 'c', 'd'}
	add("ipv4 udp", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoUDP, totalLen: -1}, udp),
		want{network: NetworkIPv4, transport: TransportUDP, proto: IPProtoUDP, payload: "abcd", plen: -1, sport: 5001, dport: 53})
	add("ipv4 udp length trims", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoUDP, totalLen: -1}, cat(udp[:5], []byte{10}, udp[6:])),
		want{network: NetworkIPv4, transport: TransportUDP, proto: IPProtoUDP, payload: "ab", plen: -1, sport: 5001, dport: 53})
	add("ipv4 udp short", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoUDP, totalLen: -1}, udp[:7]), want{stop: Stop{LayerUDP, StopMalformed}, network: NetworkIPv4, proto: IPProtoUDP})
	cs = append(cs, decodeCase{name: "ipv4 udp cut", lt: LinkTypeRaw, data: ipv4(v4Spec{proto: IPProtoUDP, totalLen: 32}, udp[:7]), origLen: 32,
		want: want{stop: Stop{LayerUDP, StopTruncated}, network: NetworkIPv4, proto: IPProtoUDP}})

	// TCP.
	cs = append(cs, decodeCase{name: "tcp header cut", lt: LinkTypeEthernet, data: eth(EtherTypeIPv4, p4)[:14+20+19], origLen: 14 + len(p4), want: want{stop: Stop{LayerTCP, StopTruncated}, network: NetworkIPv4, proto: IPProtoTCP}})
	add("tcp ip total too small", LinkTypeRaw, ipv4(v4Spec{proto: IPProtoTCP, totalLen: 39}, hello.bytes()), want{stop: Stop{LayerTCP, StopMalformed}, network: NetworkIPv4, proto: IPProtoTCP})
	add("tcp doff 4", LinkTypeRaw, tcp4(tcpSpec{doff: 4}), want{stop: Stop{LayerTCP, StopMalformed}, network: NetworkIPv4, proto: IPProtoTCP})
	add("tcp doff beyond datagram", LinkTypeRaw, tcp4(tcpSpec{doff: 6}), want{stop: Stop{LayerTCP, StopMalformed}, network: NetworkIPv4, proto: IPProtoTCP})
	withOpts := defTCP("xyz")
	withOpts.opts = make([]byte, 20)
	cs = append(cs, decodeCase{name: "tcp options cut", lt: LinkTypeEthernet, data: eth(EtherTypeIPv4, tcp4(withOpts))[:14+20+30], origLen: 14 + 20 + 43,
		want: want{stop: Stop{LayerTCP, StopTruncated}, network: NetworkIPv4, proto: IPProtoTCP}})
	add("tcp options beyond the wire frame", LinkTypeEthernet, eth(EtherTypeIPv4, tcp4(withOpts))[:14+20+30], want{stop: Stop{LayerTCP, StopMalformed}, network: NetworkIPv4, proto: IPProtoTCP})
	add("tcp options", LinkTypeEthernet, eth(EtherTypeIPv4, tcp4(withOpts)), okTCP("xyz"))
	add("tcp no payload", LinkTypeRaw, tcp4(defTCP("")), okTCP(""))

	// IPv6 extension headers.
	th := hello.bytes()
	add("ipv6 hop-by-hop", LinkTypeIPv6, ipv6(IPProtoHopByHop, -1, cat(ext6(IPProtoHopByHop, IPProtoTCP, 8), th)), with(okTCP6("hello"), func(w *want) { w.ext = 1 }))
	add("ipv6 routing", LinkTypeIPv6, ipv6(IPProtoRouting, -1, cat(ext6(IPProtoRouting, IPProtoTCP, 24), th)), with(okTCP6("hello"), func(w *want) { w.ext = 1 }))
	add("ipv6 dstopts", LinkTypeIPv6, ipv6(IPProtoDstOpts, -1, cat(ext6(IPProtoDstOpts, IPProtoTCP, 16), th)), with(okTCP6("hello"), func(w *want) { w.ext = 1 }))
	add("ipv6 ah", LinkTypeIPv6, ipv6(IPProtoAH, -1, cat(ext6(IPProtoAH, IPProtoTCP, 24), th)), with(okTCP6("hello"), func(w *want) { w.ext = 1 }))
	add("ipv6 hip", LinkTypeIPv6, ipv6(IPProtoHIP, -1, cat(ext6(IPProtoHIP, IPProtoTCP, 40), th)), with(okTCP6("hello"), func(w *want) { w.ext = 1 }))
	add("ipv6 shim6", LinkTypeIPv6, ipv6(IPProtoShim6, -1, cat(ext6(IPProtoShim6, IPProtoTCP, 8), th)), with(okTCP6("hello"), func(w *want) { w.ext = 1 }))
	add("ipv6 ah cut", LinkTypeIPv6, ipv6(IPProtoAH, 20, cat(ext6(IPProtoAH, IPProtoTCP, 24), th)),
		want{stop: Stop{LayerIPv6, StopMalformed}, network: NetworkIPv6})
	add("ipv6 mobility", LinkTypeIPv6, ipv6(IPProtoMobility, -1, cat(ext6(IPProtoMobility, IPProtoTCP, 8), th)), with(okTCP6("hello"), func(w *want) { w.ext = 1 }))
	add("ipv6 chain", LinkTypeIPv6, ipv6(IPProtoHopByHop, -1, cat(ext6(IPProtoHopByHop, IPProtoDstOpts, 8), ext6(IPProtoDstOpts, IPProtoRouting, 8),
		ext6(IPProtoRouting, IPProtoAH, 8), ext6(IPProtoAH, IPProtoFragment, 12), frag6(IPProtoDstOpts, 0, false, 9), ext6(IPProtoDstOpts, IPProtoTCP, 8), th)),
		with(okTCP6("hello"), func(w *want) { w.ext = 6 })) // an atomic fragment is no fragment
	add("ipv6 first fragment", LinkTypeIPv6, ipv6(IPProtoFragment, -1, cat(frag6(IPProtoTCP, 0, true, 5), th)),
		want{stop: Stop{LayerIPv6, StopFragment}, network: NetworkIPv6, transport: TransportOther, proto: IPProtoTCP, payload: string(th), plen: -1, fragment: true, ext: 1})
	add("ipv6 atomic fragment", LinkTypeIPv6, ipv6(IPProtoFragment, -1, cat(frag6(IPProtoTCP, 0, false, 5), th)),
		with(okTCP6("hello"), func(w *want) { w.ext = 1 }))
	add("ipv6 non-first fragment", LinkTypeIPv6, ipv6(IPProtoFragment, -1, cat(frag6(IPProtoTCP, 1232, true, 5), th)),
		want{stop: Stop{LayerIPv6, StopFragment}, network: NetworkIPv6, transport: TransportOther, proto: IPProtoTCP, payload: string(th), plen: -1, fragment: true, fragOff: 1232, ext: 1})
	add("ipv6 last fragment", LinkTypeIPv6, ipv6(IPProtoFragment, -1, cat(frag6(IPProtoTCP, 8, false, 5), th)),
		want{stop: Stop{LayerIPv6, StopFragment}, network: NetworkIPv6, transport: TransportOther, proto: IPProtoTCP, payload: string(th), plen: -1, fragment: true, fragOff: 8, ext: 1})
	add("ipv6 esp", LinkTypeIPv6, ipv6(IPProtoESP, -1, []byte("encrypted")),
		want{network: NetworkIPv6, transport: TransportOther, proto: IPProtoESP, payload: "encrypted", plen: -1})
	add("ipv6 no next", LinkTypeIPv6, ipv6(IPProtoDstOpts, -1, ext6(IPProtoDstOpts, IPProtoNoNext, 8)),
		want{network: NetworkIPv6, transport: TransportOther, proto: IPProtoNoNext, payload: "", plen: -1, ext: 1})
	add("ipv6 icmpv6", LinkTypeIPv6, ipv6(IPProtoICMPv6, -1, []byte{128, 0, 0, 0}),
		want{network: NetworkIPv6, transport: TransportOther, proto: IPProtoICMPv6, payload: "\x80\x00\x00\x00", plen: -1})
	var chain []byte
	for i := 0; i < MaxIPv6ExtHeaders+1; i++ {
		chain = append(chain, ext6(IPProtoDstOpts, IPProtoDstOpts, 8)...)
	}
	add("ipv6 chain too long", LinkTypeIPv6, ipv6(IPProtoDstOpts, -1, cat(chain, th)),
		want{stop: Stop{LayerIPv6, StopTooDeep}, network: NetworkIPv6, proto: IPProtoDstOpts, ext: MaxIPv6ExtHeaders})
	add("ipv6 ext beyond payload length", LinkTypeIPv6, ipv6(IPProtoDstOpts, 8, cat(ext6(IPProtoDstOpts, IPProtoTCP, 16), th)),
		want{stop: Stop{LayerIPv6, StopMalformed}, network: NetworkIPv6})
	cs = append(cs, decodeCase{name: "ipv6 ext cut", lt: LinkTypeIPv6, data: ipv6(IPProtoDstOpts, -1, cat(ext6(IPProtoDstOpts, IPProtoTCP, 16), th))[:50], origLen: 40 + 16 + len(th),
		want: want{stop: Stop{LayerIPv6, StopTruncated}, network: NetworkIPv6}})
	add("ipv6 ext 1 byte", LinkTypeIPv6, ipv6(IPProtoDstOpts, -1, []byte{6}),
		want{stop: Stop{LayerIPv6, StopMalformed}, network: NetworkIPv6})
	addCut("ipv6 header cut", LinkTypeIPv6, p6[:39], want{stop: Stop{LayerIPv6, StopTruncated}})
	add("ipv6 payload length 0 (tso)", LinkTypeIPv6, ipv6(IPProtoTCP, 0, th), okTCP6("hello"))
	cs = append(cs, decodeCase{name: "ipv6 snaplen cut", lt: LinkTypeIPv6, data: tcp6(big)[:40+20+3], origLen: 40 + 20 + 16,
		want: with(okTCP6("012"), func(w *want) { w.plen = 16 })})
	add("ipv6 payload length beyond the wire frame", LinkTypeIPv6, tcp6(big)[:40+20+3], okTCP6("012"))
	cs = append(cs, decodeCase{name: "ipv6 tso snaplen cut", lt: LinkTypeIPv6, data: ipv6(IPProtoTCP, 0, big.bytes())[:40+20+3], origLen: 40 + 20 + 16,
		want: with(okTCP6("012"), func(w *want) { w.plen = 16 })})
	add("ipv6 padding", LinkTypeEthernet, cat(eth(EtherTypeIPv6, p6), make([]byte, 4)), okTCP6("hello"))
	cs = append(cs, decodeCase{name: "ipv6 tcp cut", lt: LinkTypeIPv6, data: p6[:50], origLen: len(p6), want: want{stop: Stop{LayerTCP, StopTruncated}, network: NetworkIPv6, proto: IPProtoTCP}})
	return cs
}

func TestDecode(t *testing.T) {
	var p Packet
	for _, c := range decodeCases() {
		t.Run(c.name, func(t *testing.T) {
			origLen := c.origLen
			switch origLen {
			case 0:
				origLen = len(c.data)
			case -1:
				origLen = 0 // unknown
			}
			stop := p.Decode(c.lt, c.data, origLen)
			w := c.want
			if stop != w.stop || p.Stop != stop {
				t.Fatalf("stop = %v (p.Stop %v), want %v", stop, p.Stop, w.stop)
			}
			if p.Network != w.network || p.Transport != w.transport {
				t.Errorf("network/transport = %v/%v, want %v/%v", p.Network, p.Transport, w.network, w.transport)
			}
			if w.network != NetworkNone && p.Protocol != w.proto {
				t.Errorf("protocol = %d, want %d", p.Protocol, w.proto)
			}
			if p.NumVLANs != len(w.vlans) {
				t.Fatalf("NumVLANs = %d, want %d", p.NumVLANs, len(w.vlans))
			}
			for i, v := range w.vlans {
				if p.VLANs[i] != v {
					t.Errorf("VLAN %d = %+v, want %+v", i, p.VLANs[i], v)
				}
			}
			if string(p.Payload) != w.payload {
				t.Errorf("payload = %q, want %q", p.Payload, w.payload)
			}
			plen := w.plen
			if plen < 0 {
				plen = len(w.payload)
			}
			if p.PayloadLength != plen {
				t.Errorf("PayloadLength = %d, want %d", p.PayloadLength, plen)
			}
			if len(p.Payload) > 0 && &c.data[p.PayloadOffset] != &p.Payload[0] {
				t.Errorf("Payload does not alias data at PayloadOffset %d", p.PayloadOffset)
			}
			if p.Fragment != w.fragment || p.FragmentOffset != w.fragOff {
				t.Errorf("fragment = %v@%d, want %v@%d", p.Fragment, p.FragmentOffset, w.fragment, w.fragOff)
			}
			if p.IPv6ExtHeaders != w.ext {
				t.Errorf("IPv6ExtHeaders = %d, want %d", p.IPv6ExtHeaders, w.ext)
			}
			k := p.FlowKey(false)
			if k.SrcPort != w.sport || k.DstPort != w.dport {
				t.Errorf("ports = %d>%d, want %d>%d", k.SrcPort, k.DstPort, w.sport, w.dport)
			}
			switch w.network {
			case NetworkIPv4:
				if p.IPv4 == nil || k.SrcAddr().Addr() != netip.AddrFrom4(v4a) || k.DstAddr().Addr() != netip.AddrFrom4(v4b) || k.V6 {
					t.Errorf("ipv4 key %v", k)
				}
				if !p.IPv4.ChecksumValid() {
					t.Errorf("checksum of a well-built header reported invalid")
				}
			case NetworkIPv6:
				if p.IPv6 == nil || k.SrcAddr().Addr() != netip.AddrFrom16(v6a) || k.DstAddr().Addr() != netip.AddrFrom16(v6b) || !k.V6 {
					t.Errorf("ipv6 key %v", k)
				}
			default:
				if p.IPv4 != nil || p.IPv6 != nil || k.SrcAddr().Addr() != netip.AddrFrom4([4]byte{}) {
					t.Errorf("no network layer expected, key %v", k)
				}
			}
			if w.transport == TransportTCP {
				if p.TCP.Seq() != 1000 || p.TCP.Ack() != 2000 || p.TCP.Flags() != TCPFlagACK|TCPFlagPSH || p.TCP.Window() != 512 {
					t.Errorf("tcp header seq %d ack %d flags %#x win %d", p.TCP.Seq(), p.TCP.Ack(), p.TCP.Flags(), p.TCP.Window())
				}
			} else if p.TCP != nil {
				t.Errorf("TCP view set for transport %v", p.Transport)
			}
			CheckInvariants(t, &p, c.data)
		})
	}
}

// CheckInvariants asserts what holds for every decode of any input. It is
// exported for the external test package (corpus tests) only.
func CheckInvariants(t testing.TB, p *Packet, data []byte) {
	t.Helper()
	if p.NumVLANs < 0 || p.NumVLANs > MaxVLANs {
		t.Fatalf("NumVLANs %d", p.NumVLANs)
	}
	if p.PayloadLength < len(p.Payload) {
		t.Fatalf("PayloadLength %d < captured %d", p.PayloadLength, len(p.Payload))
	}
	if len(p.Payload) > 0 {
		if p.PayloadOffset < 0 || p.PayloadOffset+len(p.Payload) > len(data) ||
			unsafe.SliceData(p.Payload) != unsafe.SliceData(data[p.PayloadOffset:]) {
			t.Fatalf("payload [%d,+%d) not inside the %d-byte frame", p.PayloadOffset, len(p.Payload), len(data))
		}
	}
	for _, v := range [][]byte{p.Ethernet, p.SLL, p.SLL2, p.IPv4, p.IPv6, p.TCP, p.UDP} {
		if len(v) > 0 && !inside(v, data) {
			t.Fatalf("a header view is not inside the frame")
		}
	}
	if p.TCP != nil && (len(p.TCP) < TCPMinLen || len(p.TCP) != p.TCP.DataOffset()) {
		t.Fatalf("TCP view %d bytes, data offset %d", len(p.TCP), p.TCP.DataOffset())
	}
	if p.IPv4 != nil && len(p.IPv4) != p.IPv4.HeaderLength() {
		t.Fatalf("IPv4 view %d bytes, IHL %d", len(p.IPv4), p.IPv4.HeaderLength())
	}
	if p.Stop.OK() != (p.Transport != TransportNone && p.Stop == Stop{}) {
		t.Fatalf("stop %v with transport %v", p.Stop, p.Transport)
	}
	if (p.Transport == TransportTCP) != (p.TCP != nil) || (p.Transport == TransportUDP) != (p.UDP != nil) {
		t.Fatalf("transport %v but TCP %d / UDP %d bytes", p.Transport, len(p.TCP), len(p.UDP))
	}
	if p.Transport != TransportNone && p.Network == NetworkNone {
		t.Fatalf("transport without network")
	}
	if p.NumTunnels < 0 || p.NumTunnels > MaxTunnels || int(p.LinkVLANs) > p.NumVLANs {
		t.Fatalf("NumTunnels %d, LinkVLANs %d of %d", p.NumTunnels, p.LinkVLANs, p.NumVLANs)
	}
	for i := p.NumTunnels; i < MaxTunnels; i++ {
		if p.Tunnels[i] != (Tunnel{}) {
			t.Fatalf("unused tunnel entry %d set", i)
		}
	}
	for i := p.NumVLANs; i < MaxVLANs; i++ {
		if p.VLANs[i] != (VLAN{}) {
			t.Fatalf("unused VLAN entry %d set", i)
		}
	}
	if ip := []byte(p.IPv4); ip == nil && p.IPv6 != nil {
		ip = p.IPv6
	} else if ip != nil && (p.NetworkOffset+len(ip) > len(data) || &data[p.NetworkOffset] != &ip[0]) {
		t.Fatalf("NetworkOffset %d is not the IP view's", p.NetworkOffset)
	}
	// The key's tags: behind a tunnel, the tags inside it (the carrier's
	// link tags are not the flow's); else every tag but a capture point's.
	k := p.FlowKey(true)
	want := p.NumVLANs
	switch {
	case p.NumTunnels > 0:
		want -= int(p.LinkVLANs)
	case p.LinkVLANs >= 2:
		want--
	}
	if int(k.NumVLANs) != min(want, MaxKeyVLANs) {
		t.Fatalf("key VLANs %d for %d tags (%d on the link, %d tunnels)", k.NumVLANs, p.NumVLANs, p.LinkVLANs, p.NumTunnels)
	}
	if hasVNI := k.HasVNI; hasVNI != slices.ContainsFunc(p.Tunnels[:p.NumTunnels], func(t Tunnel) bool {
		return (t.Type == TunnelVXLAN || t.Type == TunnelGeneve) && t.HasID
	}) {
		t.Fatalf("key VNI %v %d with tunnels %+v", k.HasVNI, k.VNI, p.Tunnels[:p.NumTunnels])
	}
	if cp, ok := p.CapturePoint(); ok != (p.LinkVLANs >= 2) || (ok && cp != p.VLANs[0].ID) {
		t.Fatalf("capture point %d %v with %d link tags", cp, ok, p.LinkVLANs)
	}
}

func inside(v, data []byte) bool {
	if len(data) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	s := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return s >= base && s+uintptr(len(v)) <= base+uintptr(len(data))
}

func TestDecodeReuse(t *testing.T) {
	// A reused Packet keeps nothing from the previous decode.
	var p Packet
	opt := defTCP("x")
	opt.opts = []byte{2, 4, 5, 0xb4, 1, 1, 4, 2}
	p.Decode(LinkTypeEthernet, eth(EtherTypeIPv4, tcp4(opt), tags(3)...), 0)
	if !p.Stop.OK() || p.NumVLANs != 3 || !p.TCPOptions.HasMSS {
		t.Fatalf("first decode: %v, %d tags, opts %+v", p.Stop, p.NumVLANs, p.TCPOptions)
	}
	p.Decode(LinkTypeEthernet, eth(EtherTypeARP, make([]byte, 28)), 0)
	if p.NumVLANs != 0 || p.TCP != nil || p.IPv4 != nil || p.TCPOptions.HasMSS || p.Payload != nil || p.Network != NetworkNone {
		t.Fatalf("state left over from the previous decode: %+v", p)
	}
}

func TestFlowKey(t *testing.T) {
	stack := []VLAN{{TPID: EtherTypeQinQ, ID: 201}, {TPID: EtherTypeVLAN, ID: 100}, {TPID: EtherTypeVLAN, ID: 7}}
	cases := []struct {
		tags         []VLAN
		capturePoint bool
		wantVLANs    []uint16
		wantCP       int // -1 none
	}{
		{nil, true, nil, -1},
		{nil, false, nil, -1},
		{stack[1:2], true, []uint16{100}, -1},
		{stack[1:2], false, []uint16{100}, -1},
		{stack[:2], true, []uint16{100}, 201},
		{stack[:2], false, []uint16{201, 100}, 201},
		{stack, true, []uint16{100, 7}, 201},
		{stack, false, []uint16{201, 100, 7}, 201},
		{tags(6), true, []uint16{4095, 100, 7, 1}, 201},
		{tags(6), false, []uint16{201, 4095, 100, 7}, 201},
	}
	var p, q Packet
	for _, c := range cases {
		fwd := defTCP("data")
		rev := fwd
		rev.sport, rev.dport = fwd.dport, fwd.sport
		revIP := ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1}, rev.bytes())
		copy(revIP[12:], v4b[:])
		copy(revIP[16:], v4a[:])
		if s := p.Decode(LinkTypeEthernet, eth(EtherTypeIPv4, tcp4(fwd), c.tags...), 0); !s.OK() {
			t.Fatal(s)
		}
		if s := q.Decode(LinkTypeEthernet, eth(EtherTypeIPv4, revIP, c.tags...), 0); !s.OK() {
			t.Fatal(s)
		}
		k, rk := p.FlowKey(c.capturePoint), q.FlowKey(c.capturePoint)
		if got := k.VLANIDs(); !equalU16(got, c.wantVLANs) {
			t.Errorf("%d tags cp=%v: key VLANs %v, want %v", len(c.tags), c.capturePoint, got, c.wantVLANs)
		}
		if k.Reverse() != rk || k.SymmetricHash() != rk.SymmetricHash() {
			t.Errorf("reverse packet's key %v is not the reverse of %v", rk, k)
		}
		if nk, _ := k.Normalize(); nk != func() FlowKey { n, _ := rk.Normalize(); return n }() {
			t.Errorf("normalised keys differ")
		}
		want := netip.MustParseAddrPort("10.77.0.1:5001")
		if k.SrcAddr() != want {
			t.Errorf("src %v, want %v", k.SrcAddr(), want)
		}
		cp, ok := p.CapturePoint()
		if c.wantCP < 0 && ok || c.wantCP >= 0 && (!ok || int(cp) != c.wantCP) {
			t.Errorf("capture point %d %v, want %d", cp, ok, c.wantCP)
		}
	}
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTCPOptions(t *testing.T) {
	sack := func(n int) []byte {
		b := []byte{1, 1, 5, byte(2 + 8*n)}
		for i := 0; i < n; i++ {
			b = binary.BigEndian.AppendUint32(b, uint32(100*i+100))
			b = binary.BigEndian.AppendUint32(b, uint32(100*i+150))
		}
		return b
	}
	cases := []struct {
		name string
		opts []byte
		want TCPOptions
	}{
		{"none", nil, TCPOptions{}},
		{"syn", []byte{2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7},
			TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, TSVal: 1, HasTimestamps: true, WindowScale: 7, HasWindowScale: true}},
		{"ts", []byte{1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0}, TCPOptions{TSVal: 256, TSEcr: 512, HasTimestamps: true}},
		{"sack1", sack(1), TCPOptions{SACK: [4]SACKBlock{{100, 150}}, NumSACK: 1}},
		{"sack3+ts", append(sack(3), 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8),
			TCPOptions{SACK: [4]SACKBlock{{100, 150}, {200, 250}, {300, 350}}, NumSACK: 3, TSVal: 9, TSEcr: 8, HasTimestamps: true}},
		{"sack4", sack(4)[2:], TCPOptions{SACK: [4]SACKBlock{{100, 150}, {200, 250}, {300, 350}, {400, 450}}, NumSACK: 4}},
		{"sack bad length", []byte{5, 7, 0, 0, 0, 0, 0}, TCPOptions{}},
		{"eol stops", []byte{0, 2, 4, 5, 0xb4}, TCPOptions{}},
		{"mss wrong length", []byte{2, 3, 5, 1, 1, 1}, TCPOptions{}},
		{"length 0", []byte{2, 0, 5, 0xb4}, TCPOptions{Malformed: true}},
		{"length 1", []byte{1, 1, 3, 1}, TCPOptions{Malformed: true}},
		{"length beyond", []byte{3, 3, 7, 8, 10, 0}, TCPOptions{WindowScale: 7, HasWindowScale: true, Malformed: true}},
		{"kind without length", []byte{1, 1, 1, 3}, TCPOptions{Malformed: true}},
		{"unknown kind", []byte{30, 4, 0, 0, 2, 4, 1, 0}, TCPOptions{MSS: 256, HasMSS: true}},
	}
	var p Packet
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := append([]byte(nil), c.opts...)
			for len(opts)%4 != 0 {
				opts = append(opts, 0)
			}
			s := defTCP("p")
			s.opts = opts
			if st := p.Decode(LinkTypeRaw, tcp4(s), 0); !st.OK() {
				t.Fatal(st)
			}
			if p.TCPOptions != c.want {
				t.Errorf("options %+v, want %+v", p.TCPOptions, c.want)
			}
			// The iterator walks the same options and agrees on malformation.
			var viaIter TCPOptions
			it := p.TCP.OptionIter()
			for {
				kind, data, ok := it.Next()
				if !ok {
					break
				}
				viaIter.option(kind, data)
			}
			viaIter.Malformed = it.Malformed()
			if viaIter != c.want {
				t.Errorf("iterator options %+v, want %+v", viaIter, c.want)
			}
			if string(p.Payload) != "p" {
				t.Errorf("payload %q", p.Payload)
			}
		})
	}
}

func TestHeaderAccessors(t *testing.T) {
	var p Packet
	s := defTCP("hi")
	s.flags = TCPFlagSYN | TCPFlagECE | TCPFlagCWR
	frame := sll2(EtherTypeIPv4, 6, ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1, flags: 0x4000, id: 0x1234}, s.bytes()))
	if st := p.Decode(LinkTypeLinuxSLL2, frame, 0); !st.OK() {
		t.Fatal(st)
	}
	if p.SLL2.Protocol() != EtherTypeIPv4 || p.SLL2.InterfaceIndex() != 3 || p.SLL2.ARPHRD() != 1 || p.SLL2.PacketType() != 4 ||
		!bytes.Equal(p.SLL2.Addr(), macA) || p.EtherType != EtherTypeIPv4 {
		t.Errorf("sll2 fields: %x", []byte(p.SLL2))
	}
	h := p.IPv4
	if h.Version() != 4 || h.HeaderLength() != 20 || h.TotalLength() != 42 || h.ID() != 0x1234 || !h.DontFragment() || h.MoreFragments() ||
		h.FragmentOffset() != 0 || h.TTL() != 64 || h.Protocol() != IPProtoTCP || h.Src() != netip.AddrFrom4(v4a) || h.Dst() != netip.AddrFrom4(v4b) ||
		len(h.Options()) != 0 || !h.ChecksumValid() {
		t.Errorf("ipv4 fields: %x", []byte(h))
	}
	h[8]++ // corrupt the TTL: the checksum no longer matches
	if h.ChecksumValid() {
		t.Errorf("corrupted header passes its checksum")
	}
	if p.TCP.SrcPort() != 5001 || p.TCP.DstPort() != 8080 || p.TCP.DataOffset() != 20 || p.TCP.Flags() != TCPFlagSYN|TCPFlagECE|TCPFlagCWR {
		t.Errorf("tcp fields: %x", []byte(p.TCP))
	}
	frame = eth(EtherTypeIPv6, ipv6(IPProtoUDP, -1, []byte{0, 53, 0x13, 0x89, 0, 9, 0xab, 0xcd, 'z'}))
	frame[14] = 0x6a // traffic class 0xa?
	frame[15] = 0xbc
	frame[16], frame[17] = 0xde, 0xf1
	if st := p.Decode(LinkTypeEthernet, frame, 0); !st.OK() {
		t.Fatal(st)
	}
	if p.Ethernet.Dst() != [6]byte(macB) || p.Ethernet.Src() != [6]byte(macA) || p.Ethernet.EtherType() != EtherTypeIPv6 {
		t.Errorf("ethernet fields")
	}
	h6 := p.IPv6
	if h6.Version() != 6 || h6.TrafficClass() != 0xab || h6.FlowLabel() != 0xcdef1 || h6.PayloadLength() != 9 || h6.NextHeader() != IPProtoUDP ||
		h6.HopLimit() != 64 || h6.Src() != netip.AddrFrom16(v6a) || h6.Dst() != netip.AddrFrom16(v6b) {
		t.Errorf("ipv6 fields: %x", []byte(h6))
	}
	if p.UDP.SrcPort() != 53 || p.UDP.DstPort() != 5001 || p.UDP.Length() != 9 || p.UDP.Checksum() != 0xabcd || string(p.Payload) != "z" {
		t.Errorf("udp fields: %x", []byte(p.UDP))
	}
	if st := p.Decode(LinkTypeLinuxSLL, sll(EtherTypeIPv4, tcp4(s)), 0); !st.OK() ||
		p.SLL.PacketType() != 4 || p.SLL.ARPHRD() != 1 || p.SLL.AddrLen() != 6 || !bytes.Equal(p.SLL.Addr(), macA) || p.SLL.Protocol() != EtherTypeIPv4 {
		t.Errorf("sll fields: %v %x", st, []byte(p.SLL))
	}
}

func TestStopString(t *testing.T) {
	cases := map[Stop]string{
		{}:                          "ok",
		{LayerTCP, StopTruncated}:   "tcp truncated",
		{LayerLink, StopLinkType}:   "link unsupported link type",
		{LayerIPv6, StopFragment}:   "ipv6 fragment",
		{LayerVLAN, StopTooDeep}:    "vlan too deep",
		{LayerIPv4, StopMalformed}:  "ipv4 malformed",
		{Layer(99), StopReason(99)}: "layer? reason?",
		{LayerUDP, StopUnsupported}: "udp unsupported",
	}
	for s, w := range cases {
		if s.String() != w {
			t.Errorf("%#v.String() = %q, want %q", s, s.String(), w)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	frames := []struct {
		lt   LinkType
		data []byte
	}{}
	for _, c := range decodeCases() {
		frames = append(frames, struct {
			lt   LinkType
			data []byte
		}{c.lt, c.data})
	}
	var p Packet
	var sink uint64
	allocs := testing.AllocsPerRun(20, func() {
		for _, f := range frames {
			p.Decode(f.lt, f.data, len(f.data))
			k := p.FlowKey(true)
			sink += k.Hash()
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates: %v allocs per run of %d frames", allocs, len(frames))
	}
	_ = sink
}
