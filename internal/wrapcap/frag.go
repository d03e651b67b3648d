package wrapcap

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// pkt is a packet in the making: its captured bytes and its wire length.
type pkt struct {
	data []byte
	wire int
	frag bool // a fragment made here (fragdrop applies to these)
}

// prepend returns p with h in front.
func (p pkt) prepend(h ...[]byte) pkt {
	n := 0
	for _, b := range h {
		n += len(b)
	}
	d := make([]byte, 0, n+len(p.data))
	for _, b := range h {
		d = append(d, b...)
	}
	d = append(d, p.data...)
	return pkt{data: d, wire: p.wire + n, frag: p.frag}
}

// errFragShort reports an IP header the fragmenter cannot read.
var errFragShort = errors.New("IP header not captured")

// fragment splits the IP packet p (IPv4 or IPv6) into fragments of at most
// mtu bytes on the wire. IPv4: the same ID, DF cleared, offsets in units of 8,
// MF on all but the last (and on the last when p was itself a non-final
// fragment), options without the copy bit only in the first fragment. IPv6: a
// Fragment header after the fixed header (and a hop-by-hop header, if any)
// with the identification *id, which is then incremented. A packet that fits
// is returned as it is. Bytes past the capture stay uncaptured: a fragment
// holds the captured part of its range and keeps its full wire length.
func fragment(p pkt, mtu int, id *uint32) ([]pkt, error) {
	if p.wire <= mtu {
		return []pkt{p}, nil
	}
	if len(p.data) < 1 {
		return nil, errFragShort
	}
	switch p.data[0] >> 4 {
	case 4:
		return fragment4(p, mtu)
	case 6:
		return fragment6(p, mtu, id)
	}
	return nil, fmt.Errorf("not an IP packet (version %d)", p.data[0]>>4)
}

func fragment4(p pkt, mtu int) ([]pkt, error) {
	if len(p.data) < 20 {
		return nil, errFragShort
	}
	ihl := int(p.data[0]&15) * 4
	if ihl < 20 || len(p.data) < ihl {
		return nil, errFragShort
	}
	hdr := p.data[:ihl]
	// Later fragments carry only the options whose copy bit is set.
	later := append([]byte(nil), hdr[:20]...)
	for i := 20; i < ihl; {
		t := hdr[i]
		if t == 0 { // end of options
			break
		}
		if t == 1 { // no-op
			i++
			continue
		}
		if i+1 >= ihl || hdr[i+1] < 2 || i+int(hdr[i+1]) > ihl {
			break
		}
		l := int(hdr[i+1])
		if t&0x80 != 0 {
			later = append(later, hdr[i:i+l]...)
		}
		i += l
	}
	for len(later)%4 != 0 {
		later = append(later, 0)
	}
	later[0] = 0x40 | byte(len(later)/4)
	step := (mtu - ihl) &^ 7
	if step < 8 {
		return nil, fmt.Errorf("MTU %d leaves no room for IPv4 fragment data", mtu)
	}
	fo := binary.BigEndian.Uint16(hdr[6:])
	origOff := int(fo&0x1fff) * 8
	origMF := fo&0x2000 != 0
	payWire := p.wire - ihl
	payCap := p.data[ihl:]
	var out []pkt
	for off := 0; off < payWire; off += step {
		n := min(step, payWire-off)
		h := hdr
		if off > 0 {
			h = later
		}
		h = append([]byte(nil), h...)
		last := off+n >= payWire
		if (origOff+off)/8 > 0x1fff {
			return nil, fmt.Errorf("fragment offset %d too large", origOff+off)
		}
		v := uint16((origOff + off) / 8)
		if !last || origMF {
			v |= 0x2000
		}
		binary.BigEndian.PutUint16(h[6:], v)
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)+n))
		h[10], h[11] = 0, 0
		binary.BigEndian.PutUint16(h[10:], Checksum(h))
		var c []byte
		if off < len(payCap) {
			c = payCap[off:min(off+n, len(payCap))]
		}
		d := append(h, c...)
		out = append(out, pkt{data: d, wire: len(h) + n, frag: true})
	}
	return out, nil
}

func fragment6(p pkt, mtu int, id *uint32) ([]pkt, error) {
	if len(p.data) < 40 {
		return nil, errFragShort
	}
	unfrag := 40
	nhAt := 6 // offset of the Next Header field naming the fragmentable part
	nh := p.data[6]
	if nh == 0 { // hop-by-hop options stay in the unfragmentable part
		if len(p.data) < 42 {
			return nil, errFragShort
		}
		l := (int(p.data[41]) + 1) * 8
		if len(p.data) < 40+l {
			return nil, errFragShort
		}
		nhAt = 40
		nh = p.data[40]
		unfrag += l
	}
	if nh == ipProtoFrg {
		return nil, errors.New("IPv6 packet is already a fragment")
	}
	step := (mtu - unfrag - 8) &^ 7
	if step < 8 {
		return nil, fmt.Errorf("MTU %d leaves no room for IPv6 fragment data", mtu)
	}
	payWire := p.wire - unfrag
	payCap := p.data[unfrag:]
	ident := *id
	*id++
	var out []pkt
	for off := 0; off < payWire; off += step {
		n := min(step, payWire-off)
		h := make([]byte, unfrag+8)
		copy(h, p.data[:unfrag])
		h[nhAt] = ipProtoFrg
		binary.BigEndian.PutUint16(h[4:], uint16(unfrag-40+8+n))
		f := h[unfrag:]
		f[0] = nh
		v := uint16(off/8) << 3
		if off+n < payWire {
			v |= 1
		}
		binary.BigEndian.PutUint16(f[2:], v)
		binary.BigEndian.PutUint32(f[4:], ident)
		var c []byte
		if off < len(payCap) {
			c = payCap[off:min(off+n, len(payCap))]
		}
		out = append(out, pkt{data: append(h, c...), wire: len(h) + n, frag: true})
	}
	return out, nil
}

// withTCPChecksum returns p with the TCP checksum of a whole (untruncated)
// IPv4 or IPv6 (no extension headers) TCP packet computed, as a host that
// fragments a segment does: no NIC fills a checksum across fragments, so real
// fragments carry a valid one even where the capture's unfragmented packets
// had offloaded, unfilled checksums. Anything else is returned as it is.
func withTCPChecksum(p pkt) pkt {
	ip := p.data
	if len(ip) != p.wire || len(ip) < 20 {
		return p
	}
	var pseudo []byte
	var hl int
	switch ip[0] >> 4 {
	case 4:
		hl = int(ip[0]&15) * 4
		if ip[9] != 6 || hl < 20 || len(ip) < hl+20 || int(ip[2])<<8|int(ip[3]) != len(ip) {
			return p
		}
		n := len(ip) - hl
		pseudo = append(append([]byte{}, ip[12:20]...), 0, 6, byte(n>>8), byte(n))
	case 6:
		hl = 40
		if len(ip) < 60 || ip[6] != 6 || int(ip[4])<<8|int(ip[5]) != len(ip)-40 {
			return p
		}
		n := len(ip) - hl
		pseudo = append(append([]byte{}, ip[8:40]...), 0, 0, byte(n>>8), byte(n), 0, 0, 0, 6)
	default:
		return p
	}
	out := append([]byte(nil), ip...)
	out[hl+16], out[hl+17] = 0, 0
	c := Checksum(pseudo, out[hl:])
	out[hl+16], out[hl+17] = byte(c>>8), byte(c)
	p.data = out
	return p
}
