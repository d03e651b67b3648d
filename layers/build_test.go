package layers

import (
	"encoding/binary"
)

// Hand-built packets for the tests: each helper returns fresh bytes.

var (
	v4a = [4]byte{10, 77, 0, 1}
	v4b = [4]byte{10, 77, 0, 2}
	v6a = [16]byte{0xfd, 0x77, 15: 1}
	v6b = [16]byte{0xfd, 0x77, 15: 2}
)

type tcpSpec struct {
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	win          uint16
	opts         []byte // padded to a multiple of 4 by the caller
	payload      []byte
	doff         int // data offset in words when non-zero (overrides the computed one)
}

func (s tcpSpec) bytes() []byte {
	hl := TCPMinLen + len(s.opts)
	b := make([]byte, hl, hl+len(s.payload))
	binary.BigEndian.PutUint16(b[0:], s.sport)
	binary.BigEndian.PutUint16(b[2:], s.dport)
	binary.BigEndian.PutUint32(b[4:], s.seq)
	binary.BigEndian.PutUint32(b[8:], s.ack)
	doff := hl / 4
	if s.doff != 0 {
		doff = s.doff
	}
	b[12] = byte(doff << 4)
	b[13] = s.flags
	binary.BigEndian.PutUint16(b[14:], s.win)
	copy(b[20:], s.opts)
	return append(b, s.payload...)
}

func defTCP(payload string) tcpSpec {
	return tcpSpec{sport: 5001, dport: 8080, seq: 1000, ack: 2000, flags: TCPFlagACK | TCPFlagPSH, win: 512, payload: []byte(payload)}
}

type v4Spec struct {
	proto    uint8
	opts     []byte
	totalLen int // -1: computed; otherwise written as is
	flags    uint16
	id       uint16
	ihl      int // words; 0: computed
	version  int // 0: 4
}

func ipv4(s v4Spec, payload []byte) []byte {
	hl := IPv4MinLen + len(s.opts)
	b := make([]byte, hl, hl+len(payload))
	ver := 4
	if s.version != 0 {
		ver = s.version
	}
	ihl := hl / 4
	if s.ihl != 0 {
		ihl = s.ihl
	}
	b[0] = byte(ver<<4 | ihl&0xf)
	tl := hl + len(payload)
	if s.totalLen >= 0 {
		tl = s.totalLen
	}
	binary.BigEndian.PutUint16(b[2:], uint16(tl))
	binary.BigEndian.PutUint16(b[4:], s.id)
	binary.BigEndian.PutUint16(b[6:], s.flags)
	b[8] = 64
	b[9] = s.proto
	copy(b[12:], v4a[:])
	copy(b[16:], v4b[:])
	copy(b[20:], s.opts)
	cs := checksum(b, 0)
	binary.BigEndian.PutUint16(b[10:], ^cs)
	return append(b, payload...)
}

func tcp4(t tcpSpec) []byte { return ipv4(v4Spec{proto: IPProtoTCP, totalLen: -1}, t.bytes()) }

// ipv6 builds an IPv6 header with next header nh; plen < 0 means computed.
func ipv6(nh uint8, plen int, payload []byte) []byte {
	b := make([]byte, IPv6Len, IPv6Len+len(payload))
	b[0] = 0x60
	if plen < 0 {
		plen = len(payload)
	}
	binary.BigEndian.PutUint16(b[4:], uint16(plen))
	b[6] = nh
	b[7] = 64
	copy(b[8:], v6a[:])
	copy(b[24:], v6b[:])
	return append(b, payload...)
}

func tcp6(t tcpSpec) []byte { return ipv6(IPProtoTCP, -1, t.bytes()) }

// ext6 builds an extension header of kind with next header nh and the given
// total length in bytes (a multiple of 8, or of 4 for AH).
func ext6(kind, nh uint8, total int) []byte {
	b := make([]byte, total)
	b[0] = nh
	switch kind {
	case IPProtoAH:
		b[1] = byte(total/4 - 2)
	case IPProtoFragment:
	default:
		b[1] = byte(total/8 - 1)
	}
	return b
}

func frag6(nh uint8, offset int, more bool, id uint32) []byte {
	b := make([]byte, 8)
	b[0] = nh
	f := uint16(offset) &^ 7
	if more {
		f |= 1
	}
	binary.BigEndian.PutUint16(b[2:], f)
	binary.BigEndian.PutUint32(b[4:], id)
	return b
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	macA = []byte{0x02, 0, 0, 0, 0, 1}
	macB = []byte{0x02, 0, 0, 0, 0, 2}
)

// eth builds an Ethernet header with the given tags (outer first) and final EtherType.
func eth(et uint16, payload []byte, tags ...VLAN) []byte {
	b := cat(macB, macA)
	for _, t := range tags {
		b = binary.BigEndian.AppendUint16(b, t.TPID)
		tci := t.ID&0xfff | uint16(t.Priority)<<13
		if t.DEI {
			tci |= 0x1000
		}
		b = binary.BigEndian.AppendUint16(b, tci)
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, payload...)
}

func sll(proto uint16, payload []byte) []byte {
	b := make([]byte, SLLLen)
	binary.BigEndian.PutUint16(b[0:], 4)
	binary.BigEndian.PutUint16(b[2:], 1)
	binary.BigEndian.PutUint16(b[4:], 6)
	copy(b[6:], macA)
	binary.BigEndian.PutUint16(b[14:], proto)
	return append(b, payload...)
}

func sll2(proto uint16, addrLen uint8, payload []byte) []byte {
	b := make([]byte, SLL2Len)
	binary.BigEndian.PutUint16(b[0:], proto)
	binary.BigEndian.PutUint32(b[4:], 3)
	binary.BigEndian.PutUint16(b[8:], 1)
	b[10] = 4
	b[11] = addrLen
	copy(b[12:], macA)
	return append(b, payload...)
}

func null(fam uint32, bigEndian bool, payload []byte) []byte {
	b := make([]byte, 4)
	if bigEndian {
		binary.BigEndian.PutUint32(b, fam)
	} else {
		binary.LittleEndian.PutUint32(b, fam)
	}
	return append(b, payload...)
}

// Tunnel and carrier builders. A tframe is a frame with the layer of each
// header, so that tests know where a cut falls.

type tspan struct {
	l     Layer
	start int
	peek  bool // the header after this one is chosen by its first byte
}

type tframe struct {
	b     []byte
	spans []tspan // outer first
	pay   int     // offset of the TCP payload
}

func innerTCP(s tcpSpec) tframe {
	b := s.bytes()
	return tframe{b: b, spans: []tspan{{l: LayerTCP}}, pay: len(b) - len(s.payload)}
}

// wrap puts f inside the header build adds in front of it (build returns the
// header and f.b); peek says the header does not name what follows.
func (f tframe) wrap(l Layer, peek bool, build func(inner []byte) []byte) tframe {
	nb := build(f.b)
	h := len(nb) - len(f.b)
	spans := []tspan{{l: l, peek: peek}}
	for _, s := range f.spans {
		s.start += h
		spans = append(spans, s)
	}
	return tframe{b: nb, spans: spans, pay: f.pay + h}
}

// wrapN is wrap for a header of several layers (a link header and its tags):
// the first layer covers the first n bytes, l2 the rest.
func (f tframe) wrap2(l1 Layer, n int, l2 Layer, build func(inner []byte) []byte) tframe {
	g := f.wrap(l2, false, build)
	g.spans = append([]tspan{{l: l1}}, g.spans...)
	g.spans[1].start = n
	return g
}

// expectAt returns the layer a decode of f cut to n bytes stops at.
func (f tframe) expectAt(n int) Layer {
	i := 0
	for j, s := range f.spans {
		if s.start <= n {
			i = j
		}
	}
	if n == f.spans[i].start && i > 0 && f.spans[i-1].peek {
		return f.spans[i-1].l
	}
	return f.spans[i].l
}

var (
	o4a = [4]byte{192, 0, 2, 1}
	o4b = [4]byte{192, 0, 2, 2}
	o6a = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	o6b = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2}
)

// outer4 and outer6 build the IP header of a tunnel, with its own addresses.
func outer4(proto uint8, payload []byte) []byte {
	b := ipv4(v4Spec{proto: proto, totalLen: -1, id: 9}, payload)
	copy(b[12:], o4a[:])
	copy(b[16:], o4b[:])
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:], ^checksum(b[:20], 0))
	return b
}

func outer6(nh uint8, payload []byte) []byte {
	b := ipv6(nh, -1, payload)
	copy(b[8:], o6a[:])
	copy(b[24:], o6b[:])
	return b
}

func udpHdr(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, UDPLen, UDPLen+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(UDPLen+len(payload)))
	return append(b, payload...)
}

func vxlanHdr(flags byte, vni uint32, payload []byte) []byte {
	return cat([]byte{flags, 0, 0, 0, byte(vni >> 16), byte(vni >> 8), byte(vni), 0}, payload)
}

func geneveHdr(version byte, optWords int, proto uint16, vni uint32, payload []byte) []byte {
	b := []byte{version<<6 | byte(optWords), 0, byte(proto >> 8), byte(proto), byte(vni >> 16), byte(vni >> 8), byte(vni), 0}
	for i := 0; i < optWords; i++ {
		b = append(b, 0x01, 0x02, byte(i), 0x00)
	}
	return cat(b, payload)
}

// gtpHdr builds a GTP-U header: flags are the E, S, PN bits; exts the
// extension headers, each given as its content (padded here so that with
// its length and next-type bytes it fills whole 4-byte units).
func gtpHdr(flags, msgType byte, teid uint32, exts [][]byte, payload []byte) []byte {
	var opt []byte
	if flags != 0 {
		opt = []byte{0, 7, 0, 0}
		if len(exts) > 0 {
			opt[3] = 0x85
		}
		for i, e := range exts {
			units := (len(e) + 2 + 3) / 4
			x := make([]byte, units*4)
			x[0] = byte(units)
			copy(x[1:], e)
			if i+1 < len(exts) {
				x[len(x)-1] = 0x85
			}
			opt = append(opt, x...)
		}
	}
	b := []byte{0x30 | flags, msgType, 0, 0, byte(teid >> 24), byte(teid >> 16), byte(teid >> 8), byte(teid)}
	binary.BigEndian.PutUint16(b[2:], uint16(len(opt)+len(payload)))
	return cat(b, opt, payload)
}

func greHdr(flags, proto uint16, key, seq uint32, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, flags)
	b = binary.BigEndian.AppendUint16(b, proto)
	if flags&GREFlagChecksum != 0 {
		b = append(b, 0, 0, 0, 0)
	}
	if flags&GREFlagKey != 0 {
		b = binary.BigEndian.AppendUint32(b, key)
	}
	if flags&GREFlagSeq != 0 {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	return cat(b, payload)
}

func erspan2Hdr(version byte, sess uint16, payload []byte) []byte {
	return cat([]byte{version<<4 | 0x0, 100, byte(sess>>8) & 3, byte(sess), 0, 0, 0, 1}, payload)
}

func erspan3Hdr(sess uint16, sub bool, payload []byte) []byte {
	b := []byte{2 << 4, 100, byte(sess>>8) & 3, byte(sess), 1, 2, 3, 4, 0, 0, 0, 0}
	if sub {
		b[11] |= 1
		b = append(b, make([]byte, 8)...)
	}
	return cat(b, payload)
}

func mplsHdr(labels []uint32, payload []byte) []byte {
	var b []byte
	for i, l := range labels {
		e := l<<12 | 64
		if i == len(labels)-1 {
			e |= 0x100
		}
		b = binary.BigEndian.AppendUint32(b, e)
	}
	return cat(b, payload)
}

func pppoeHdr(sess uint16, payload []byte) []byte {
	b := []byte{0x11, 0, byte(sess >> 8), byte(sess), 0, 0}
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	return cat(b, payload)
}

func snapHdr(et uint16, payload []byte) []byte {
	return cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, byte(et >> 8), byte(et)}, payload)
}

// nflogRec builds an NFLOG record: a hardware-protocol TLV, a prefix TLV
// (padded), then the payload TLV, in the given byte order.
func nflogRec(fam byte, bigEndian bool, payload []byte) []byte {
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	tlv := func(typ uint16, v []byte) []byte {
		h := make([]byte, 4)
		order.PutUint16(h, uint16(4+len(v)))
		order.PutUint16(h[2:], typ)
		b := cat(h, v)
		for len(b)%4 != 0 && typ != nfulaPayload { // the last TLV: its padding would follow the datagram
			b = append(b, 0)
		}
		return b
	}
	return cat([]byte{fam, 0, 0, 1}, tlv(1, []byte{0x08, 0x00, 3, 0}), tlv(10, []byte("pfx")), tlv(nfulaPayload, payload))
}
