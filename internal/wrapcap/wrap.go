package wrapcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
)

// Packet is one capture record: the timestamp in nanoseconds since the
// epoch, the captured bytes and the original length on the wire (at least
// len(Data); 0 means len(Data)).
type Packet struct {
	Timestamp int64
	Data      []byte
	Length    int
}

// Stats counts what a Wrapper did.
type Stats struct {
	In         int // packets given to Wrap
	Wrapped    int // IP packets encapsulated
	Passed     int // non-IP Ethernet frames written unchanged
	Skipped    int // non-IP packets the output link type cannot carry
	Dropped    int // whole packets dropped by drop:
	CopyDrops  int // mirror copies dropped
	FragDrops  int // fragments dropped by fragdrop:
	Out        int // packets returned
	Fragments  int // of Out, IP fragments made here (inner or outer)
	OutLink    uint32
	MirrorCopy int // mirror copies written
}

// String is the one-line summary the command prints.
func (s Stats) String() string {
	return fmt.Sprintf("%d in, %d wrapped, %d non-IP passed, %d skipped, %d dropped, %d mirror copies (%d dropped), %d fragments dropped; %d out (%d fragments), link type %d",
		s.In, s.Wrapped, s.Passed, s.Skipped, s.Dropped, s.MirrorCopy, s.CopyDrops, s.FragDrops, s.Out, s.Fragments, s.OutLink)
}

// Wrapper re-encapsulates packets according to a spec. It keeps state
// (sequence numbers, IDs, random generators), so one Wrapper serves one
// output; it is not safe for concurrent use.
type Wrapper struct {
	c     *config
	fragI uint32 // next IPv6 fragment identification
	pwSeq uint16
	stats Stats
}

// New parses spec (see the package documentation) and returns a Wrapper.
func New(spec string) (*Wrapper, error) {
	c, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	w := &Wrapper{c: c, fragI: 0x10000001}
	w.stats.OutLink = c.outLink()
	return w, nil
}

// LinkType returns the link type of the packets Wrap returns.
func (w *Wrapper) LinkType() uint32 { return w.c.outLink() }

// Mirror reports whether the spec makes mirror sessions, whose output
// packets may be out of timestamp order (WrapFile sorts them).
func (w *Wrapper) Mirror() bool { return w.c.mirror != nil }

// Stats returns the counts so far.
func (w *Wrapper) Stats() Stats { return w.stats }

// ErrNotIP is returned by Extract for a frame that holds no IP packet.
var ErrNotIP = errors.New("no IP packet")

// Extract returns the IP packet in a frame of the given link type
// (Ethernet with any VLAN tags, Linux SLL and SLL2, raw IP), and, for
// Ethernet, the link header before it (MACs, tags, EtherType). Ethernet
// padding after the IP packet is cut off when the IP length says so.
func Extract(linkType uint32, frame []byte) (ip, l2 []byte, err error) {
	var off int
	var et uint16
	switch linkType {
	case LinkEthernet:
		if len(frame) < 14 {
			return nil, nil, ErrNotIP
		}
		off, et = 14, binary.BigEndian.Uint16(frame[12:])
		for (et == etVLAN || et == etQinQ || et == 0x9100) && len(frame) >= off+4 {
			et = binary.BigEndian.Uint16(frame[off+2:])
			off += 4
		}
		l2 = frame[:off]
	case LinkSLL2:
		if len(frame) < 20 {
			return nil, nil, ErrNotIP
		}
		off, et = 20, binary.BigEndian.Uint16(frame[0:])
	case LinkLinuxSLL:
		if len(frame) < 16 {
			return nil, nil, ErrNotIP
		}
		off, et = 16, binary.BigEndian.Uint16(frame[14:])
	case LinkRaw, 12, 14, LinkIPv4, LinkIPv6:
		if len(frame) < 1 {
			return nil, nil, ErrNotIP
		}
		switch frame[0] >> 4 {
		case 4:
			et = etIPv4
		case 6:
			et = etIPv6
		}
	default:
		return nil, nil, fmt.Errorf("link type %d not supported", linkType)
	}
	ip = frame[off:]
	switch {
	case et == etIPv4 && len(ip) >= 20 && ip[0]>>4 == 4:
		if t := int(binary.BigEndian.Uint16(ip[2:])); t >= 20 && t < len(ip) {
			ip = ip[:t]
		}
	case et == etIPv6 && len(ip) >= 40 && ip[0]>>4 == 6:
		if t := 40 + int(binary.BigEndian.Uint16(ip[4:])); t > 40 && t < len(ip) {
			ip = ip[:t]
		}
	default:
		return nil, nil, ErrNotIP
	}
	return ip, l2, nil
}

// ipWire returns the wire length of the IP packet ip, captured from a frame
// of frameWire bytes whose link header is hdr bytes.
func ipWire(ip []byte, frameWire, hdr int) int {
	w := frameWire - hdr
	switch ip[0] >> 4 {
	case 4:
		if t := int(binary.BigEndian.Uint16(ip[2:])); t >= 20 && t < w {
			w = t
		}
	case 6:
		if t := 40 + int(binary.BigEndian.Uint16(ip[4:])); t > 40 && t < w {
			w = t
		}
	}
	return max(w, len(ip))
}

// pktCtx is what the encapsulations need to know about the original packet.
type pktCtx struct {
	ts   int64
	fwd  bool   // inner source address below the destination address
	hash uint16 // of the inner addresses and ports, for UDP source ports
	l2   []byte // inner Ethernet header (original, or made up)
	mac  [2][6]byte
}

func addrs(ip []byte) (src, dst []byte) {
	if ip[0]>>4 == 4 {
		return ip[12:16], ip[16:20]
	}
	return ip[8:24], ip[24:40]
}

func newCtx(ts int64, ip, l2 []byte) *pktCtx {
	c := &pktCtx{ts: ts}
	src, dst := addrs(ip)
	c.fwd = bytes.Compare(src, dst) < 0
	h := fnv.New32a()
	a, b := src, dst
	if !c.fwd {
		a, b = b, a
	}
	h.Write(a)
	h.Write(b)
	// Ports of TCP and UDP, when the header follows directly.
	if ip[0]>>4 == 4 {
		ihl := int(ip[0]&15) * 4
		if (ip[9] == ipProtoTCP || ip[9] == ipProtoUDP) && len(ip) >= ihl+4 && binary.BigEndian.Uint16(ip[6:])&0x1fff == 0 {
			p := ip[ihl : ihl+4]
			if !c.fwd {
				p = []byte{p[2], p[3], p[0], p[1]}
			}
			h.Write(p)
		}
	} else if (ip[6] == ipProtoTCP || ip[6] == ipProtoUDP) && len(ip) >= 44 {
		p := ip[40:44]
		if !c.fwd {
			p = []byte{p[2], p[3], p[0], p[1]}
		}
		h.Write(p)
	}
	v := h.Sum32()
	c.hash = uint16(v ^ v>>16)
	if len(l2) >= 14 {
		c.l2 = l2
		copy(c.mac[0][:], l2[0:6])
		copy(c.mac[1][:], l2[6:12])
	} else {
		c.mac = [2][6]byte{innerMAC2, innerMAC1}
		if !c.fwd {
			c.mac = [2][6]byte{innerMAC1, innerMAC2}
		}
	}
	return c
}

// innerEth returns the Ethernet header to put before the inner IP packet p.
func (c *pktCtx) innerEth(p pkt) []byte {
	et := uint16(etIPv4)
	if len(p.data) > 0 && p.data[0]>>4 == 6 {
		et = etIPv6
	}
	if c.l2 != nil && binary.BigEndian.Uint16(c.l2[len(c.l2)-2:]) == et {
		return c.l2
	}
	return ethHeader(c.mac[0], c.mac[1], et)
}

func ipEtherType(p pkt) uint16 {
	if len(p.data) > 0 && p.data[0]>>4 == 6 {
		return etIPv6
	}
	return etIPv4
}

// encap puts the inner IP packet p into the tunnel t and returns the outer
// IP packet.
func (t *tunnel) encap(p pkt, c *pktCtx, egress bool) (pkt, error) {
	if t.eth {
		p = p.prepend(c.innerEth(p))
	}
	var proto byte
	switch t.kind {
	case tunGRE:
		pr := ipEtherType(p)
		if t.eth {
			pr = etTEB
		}
		o := t.gre
		if o.seq {
			o.seqVal = t.seq
			t.seq++
		}
		p = p.prepend(greHeader(pr, o, p.data))
		proto = ipProtoGRE
	case tunERSPAN2, tunERSPAN3:
		o := greOpts{seq: true, seqVal: t.seq}
		t.seq++
		var eh []byte
		pr := uint16(etERSPAN2)
		if t.kind == tunERSPAN2 {
			eh = erspan2Header(uint16(t.id))
		} else {
			pr = etERSPAN3
			eh = erspan3Header(uint16(t.id), c.ts, egress, t.platform)
		}
		p = p.prepend(greHeader(pr, o, nil), eh)
		proto = ipProtoGRE
	case tunVXLAN, tunGeneve, tunGTPU:
		var h []byte
		var err error
		sport := 49152 + c.hash%16384
		switch t.kind {
		case tunVXLAN:
			h = vxlanHeader(t.id)
		case tunGeneve:
			h = geneveHeader(t.id)
		default:
			h, err = gtpuHeader(t.id, uint16(t.seq), p.wire)
			if err != nil {
				return pkt{}, err
			}
			t.seq++
			sport = t.port
		}
		p = p.prepend(h)
		src, dst := t.addrs6(c.fwd)
		u, err := udpHeader(sport, t.port, p.data, p.wire, t.v6, src, dst)
		if err != nil {
			return pkt{}, err
		}
		p = p.prepend(u)
		proto = ipProtoUDP
	case tunIPIP:
		proto = ipProtoIP4
		if ipEtherType(p) == etIPv6 {
			proto = ipProtoIP6
		}
	}
	var h []byte
	var err error
	if t.v6 {
		src, dst := t.addrs6(c.fwd)
		h, err = ipv6Header(proto, src, dst, p.wire)
	} else {
		src, dst := t.src4, t.dst4
		if !c.fwd && !t.fixed {
			src, dst = dst, src
		}
		t.ipid++
		h, err = ipv4Header(proto, src, dst, t.ipid, p.wire)
	}
	if err != nil {
		return pkt{}, err
	}
	return p.prepend(h), nil // still a fragment if p was one (fragdrop, Stats)
}

func (t *tunnel) addrs6(fwd bool) (src, dst [16]byte) {
	if !t.v6 {
		return
	}
	if !fwd && !t.fixed {
		return t.dst6, t.src6
	}
	return t.src6, t.dst6
}

// Wrap wraps one packet of the given link type and returns what the spec
// makes of it: nothing (dropped, or not IP where the output cannot carry
// it), one packet, or several (fragments, mirror copies). The returned
// packets own their data.
func (w *Wrapper) Wrap(linkType uint32, p Packet) ([]Packet, error) {
	w.stats.In++
	wire := p.Length
	if wire < len(p.Data) {
		wire = len(p.Data)
	}
	ip, l2, err := Extract(linkType, p.Data)
	if err == ErrNotIP {
		if linkType == LinkEthernet && w.LinkType() == LinkEthernet {
			w.stats.Passed++
			w.stats.Out++
			return []Packet{{Timestamp: p.Timestamp, Data: append([]byte(nil), p.Data...), Length: wire}}, nil
		}
		w.stats.Skipped++
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if carriesTCPData(ip) && w.c.drop.hit() {
		w.stats.Dropped++
		return nil, nil
	}
	hdr := cap(p.Data) - cap(ip) // link header bytes (ip is a subslice of p.Data)
	ctx := newCtx(p.Timestamp, ip, l2)
	base := pkt{data: ip, wire: ipWire(ip, wire, hdr)}
	inner := []pkt{base}
	if w.c.fragMTU > 0 {
		inner, err = fragment(withTCPChecksum(base), w.c.fragMTU, &w.fragI)
		if err != nil {
			return nil, fmt.Errorf("frag: %w", err)
		}
		switch w.c.fragOrder {
		case "rev":
			for i, j := 0, len(inner)-1; i < j; i, j = i+1, j-1 {
				inner[i], inner[j] = inner[j], inner[i]
			}
		case "shuffle":
			w.c.fragRng.Shuffle(len(inner), func(i, j int) { inner[i], inner[j] = inner[j], inner[i] })
		}
	}
	sessions := w.c.mirror
	if sessions == nil {
		sessions = []*tunnel{w.c.tun} // nil: no tunnel
	}
	w.stats.Wrapped++
	var out []Packet
	for _, t := range sessions {
		if w.c.mirror != nil {
			if t.drop.hit() {
				w.stats.CopyDrops++
				continue
			}
			w.stats.MirrorCopy++
		}
		for _, f := range inner {
			outer := []pkt{f}
			if t != nil {
				o, err := t.encap(f, ctx, !ctx.fwd)
				if err != nil {
					return nil, err
				}
				outer = []pkt{o}
				if w.c.outerMTU > 0 {
					outer, err = fragment(o, w.c.outerMTU, &w.fragI)
					if err != nil {
						return nil, fmt.Errorf("outer-frag: %w", err)
					}
				}
			}
			for _, o := range outer {
				if o.frag && w.c.fragdrop.hit() {
					w.stats.FragDrops++
					continue
				}
				fr, err := w.frame(o, ctx, t)
				if err != nil {
					return nil, err
				}
				if o.frag {
					w.stats.Fragments++
				}
				w.stats.Out++
				ts := p.Timestamp
				if t != nil {
					ts += t.delay
				}
				out = append(out, Packet{Timestamp: ts, Data: fr.data, Length: fr.wire})
			}
		}
	}
	return out, nil
}

// frame puts the IP packet p into the output link framing. t is the tunnel
// p is the outer packet of (fixed MACs), or nil when p is the original
// packet (its own MACs and tags when it came from Ethernet).
func (w *Wrapper) frame(p pkt, c *pktCtx, t *tunnel) (pkt, error) {
	dst, src := c.mac[0], c.mac[1]
	tunnelled := t != nil
	if tunnelled {
		dst, src = outerMAC2, outerMAC1
		if !c.fwd && !t.fixed {
			dst, src = src, dst
		}
	}
	et := ipEtherType(p)
	v6 := et == etIPv6
	pppProto := uint16(0x0021)
	if v6 {
		pppProto = 0x0057
	}
	var ppp [2]byte
	binary.BigEndian.PutUint16(ppp[:], pppProto)
	var dir byte
	if c.fwd {
		dir = 1 // sent by the capturing (client) host
	}
	switch w.c.link {
	case linkEth:
		if !tunnelled && c.l2 != nil && binary.BigEndian.Uint16(c.l2[len(c.l2)-2:]) == et {
			return p.prepend(c.l2), nil
		}
		return p.prepend(ethHeader(dst, src, et)), nil
	case linkMPLS:
		return p.prepend(ethHeader(dst, src, etMPLS), mplsStack(w.c.labels)), nil
	case linkMPLSPW, linkMPLSPWNoCW:
		var ie []byte
		if tunnelled {
			ie = ethHeader(dst, src, et)
		} else {
			ie = c.innerEth(p)
		}
		var cw []byte
		if w.c.link == linkMPLSPW {
			w.pwSeq++
			if w.pwSeq == 0 {
				w.pwSeq = 1
			}
			cw = pwControlWord(w.pwSeq)
		}
		return p.prepend(ethHeader(dst, src, etMPLS), mplsStack(w.c.labels), cw, ie), nil
	case linkPPPoE, linkQinQPPPoE:
		h, err := pppoeSession(w.c.session, pppProto, p.wire)
		if err != nil {
			return pkt{}, err
		}
		if w.c.link == linkQinQPPPoE {
			e := ethHeader(dst, src, etQinQ)
			e = append(e, 0, 10, etVLAN>>8, etVLAN&0xff, 0, 20, etPPPoE>>8, etPPPoE&0xff)
			return p.prepend(e, h), nil
		}
		return p.prepend(ethHeader(dst, src, etPPPoE), h), nil
	case linkLLCSNAP:
		n := 8 + p.wire
		if n > 1500 {
			return pkt{}, fmt.Errorf("llcsnap: %d-byte 802.3 payload exceeds 1500 (add frag:1492)", n)
		}
		snap := []byte{0xaa, 0xaa, 0x03, 0, 0, 0, byte(et >> 8), byte(et)}
		return p.prepend(ethHeader(dst, src, uint16(n)), snap), nil
	case linkNFLOG:
		h, err := nflogHeader(v6, p.wire)
		if err != nil {
			return pkt{}, err
		}
		q := p.prepend(h)
		if pad := (4 - p.wire%4) % 4; pad > 0 {
			if len(p.data) == p.wire {
				q.data = append(q.data, make([]byte, pad)...)
			}
			q.wire += pad
		}
		return q, nil
	case linkPPP, linkPPPHDLC:
		return p.prepend([]byte{0xff, 0x03}, ppp[:]), nil
	case linkPPPDir:
		return p.prepend([]byte{dir, 0xff, 0x03}, ppp[:]), nil
	case linkPPPPPPD:
		return p.prepend([]byte{dir, 0x03}, ppp[:]), nil
	}
	return pkt{}, fmt.Errorf("link framing %d", w.c.link)
}

// carriesTCPData reports whether ip is a TCP segment with payload and no
// SYN, FIN or RST: drop models capture loss of data segments (as perturb.py
// does). A lost FIN is ambiguous to any passive judge: the peer's ACK of it
// reads as one more byte of data.
func carriesTCPData(ip []byte) bool {
	var proto byte
	var hl, total int
	switch {
	case len(ip) >= 20 && ip[0]>>4 == 4:
		proto, hl, total = ip[9], int(ip[0]&15)*4, int(ip[2])<<8|int(ip[3])
	case len(ip) >= 40 && ip[0]>>4 == 6:
		proto, hl, total = ip[6], 40, 40+(int(ip[4])<<8|int(ip[5]))
	default:
		return false
	}
	if proto != 6 || len(ip) < hl+13 {
		return false
	}
	return ip[hl+13]&0x07 == 0 && total-hl-int(ip[hl+12]>>4)*4 > 0
}
