package filter

import (
	"net/netip"

	"github.com/reseq/reseq/layers"
)

func and(a, b matchFn) matchFn {
	return func(k *layers.FlowKey, p *layers.Packet) bool { return a(k, p) && b(k, p) }
}

func or(a, b matchFn) matchFn {
	return func(k *layers.FlowKey, p *layers.Packet) bool { return a(k, p) || b(k, p) }
}

func not(a matchFn) matchFn {
	return func(k *layers.FlowKey, p *layers.Packet) bool { return !a(k, p) }
}

// protocol is the packet's IP protocol: TCP when p is nil.
func protocol(p *layers.Packet) uint8 {
	if p == nil {
		return layers.IPProtoTCP
	}
	return p.Protocol
}

const (
	ipProtoICMP   = 1
	ipProtoSCTP   = 132
	ipProtoICMPv6 = 58
)

func protoTest(q protoQual) matchFn {
	switch q {
	case protoIP:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return !k.V6 }
	case protoIP6:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return k.V6 }
	case protoTCP:
		return protoIs(layers.IPProtoTCP)
	case protoUDP:
		return protoIs(layers.IPProtoUDP)
	case protoSCTP:
		return protoIs(ipProtoSCTP)
	case protoICMP:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return !k.V6 && protocol(p) == ipProtoICMP }
	case protoICMP6:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return k.V6 && protocol(p) == ipProtoICMPv6 }
	}
	return func(*layers.FlowKey, *layers.Packet) bool { return true }
}

func protoIs(n uint8) matchFn {
	return func(k *layers.FlowKey, p *layers.Packet) bool { return protocol(p) == n }
}

// withProto puts a protocol test in front of a host or net primitive
// ("ip host X"); the address family is the primitive's own test.
func withProto(q protoQual, fn matchFn) matchFn {
	if q == protoAny || q == protoIP || q == protoIP6 {
		return fn
	}
	return and(protoTest(q), fn)
}

// withPortProto: a port primitive matches TCP, UDP and SCTP packets only
// (pcap-filter's "port" is "(tcp or udp or sctp) port"), or the one named.
func withPortProto(q protoQual, fn matchFn) matchFn {
	switch q {
	case protoTCP, protoUDP, protoSCTP:
		return and(protoTest(q), fn)
	case protoIP, protoIP6:
		return and(protoTest(q), and(hasPorts, fn))
	}
	return and(hasPorts, fn)
}

func hasPorts(k *layers.FlowKey, p *layers.Packet) bool {
	switch protocol(p) {
	case layers.IPProtoTCP, layers.IPProtoUDP, ipProtoSCTP:
		return true
	}
	return false
}

// hostMatch tests the addresses against a prefix (a host is a full-length
// one) in direction d.
func hostMatch(d dirQual, pf netip.Prefix) matchFn {
	v6 := pf.Addr().Is6()
	bits := pf.Bits()
	var want [16]byte
	if v6 {
		want = pf.Addr().As16()
	} else {
		a := pf.Addr().As4()
		copy(want[:], a[:])
	}
	in := func(ip *[16]byte) bool { return prefixHas(ip, &want, bits) }
	switch d {
	case dirSrc:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return k.V6 == v6 && in(&k.SrcIP) }
	case dirDst:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return k.V6 == v6 && in(&k.DstIP) }
	case dirBoth:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return k.V6 == v6 && in(&k.SrcIP) && in(&k.DstIP) }
	}
	return func(k *layers.FlowKey, p *layers.Packet) bool { return k.V6 == v6 && (in(&k.SrcIP) || in(&k.DstIP)) }
}

// prefixHas reports whether the first bits of ip equal those of want.
func prefixHas(ip, want *[16]byte, bits int) bool {
	n := bits / 8
	for i := 0; i < n; i++ {
		if ip[i] != want[i] {
			return false
		}
	}
	if r := bits % 8; r != 0 {
		m := byte(0xFF << (8 - r))
		return ip[n]&m == want[n]&m
	}
	return true
}

func portMatch(d dirQual, lo, hi uint16) matchFn {
	in := func(x uint16) bool { return x >= lo && x <= hi }
	switch d {
	case dirSrc:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return in(k.SrcPort) }
	case dirDst:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return in(k.DstPort) }
	case dirBoth:
		return func(k *layers.FlowKey, p *layers.Packet) bool { return in(k.SrcPort) && in(k.DstPort) }
	}
	return func(k *layers.FlowKey, p *layers.Packet) bool { return in(k.SrcPort) || in(k.DstPort) }
}

// vlanTags calls f with each VLAN ID of the frame (the key's when p is nil)
// until it returns true.
func vlanAnyOf(k *layers.FlowKey, p *layers.Packet, f func(uint16) bool) bool {
	if p == nil {
		for _, v := range k.VLANIDs() {
			if f(v) {
				return true
			}
		}
		return false
	}
	for i := 0; i < p.NumVLANs && i < len(p.VLANs); i++ {
		if f(p.VLANs[i].ID) {
			return true
		}
	}
	return false
}

func vlanAny(k *layers.FlowKey, p *layers.Packet) bool {
	if p == nil {
		return k.NumVLANs > 0
	}
	return p.NumVLANs > 0
}

func vlanID(id uint16) matchFn {
	return func(k *layers.FlowKey, p *layers.Packet) bool {
		return vlanAnyOf(k, p, func(v uint16) bool { return v == id })
	}
}
