package layers

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// MaxKeyVLANs is how many VLAN IDs a FlowKey holds.
const MaxKeyVLANs = 4

// FlowKey identifies one direction of a transport flow: the VLAN IDs that are part
// of the key (outer first, the capture-point tag excluded), the overlay network
// (the VNI of a VXLAN or Geneve tunnel: overlays reuse tenant addresses), the
// addresses and the ports. Fields that differ between the two directions of a
// tunnel (outer addresses, MPLS labels, GRE keys, GTP TEIDs) are never part of
// it. It is a fixed-size value with no pointers: comparable with ==, usable as a
// map key, and hashable without allocation.
//
// An IPv4 address is held in the first four bytes of its array with V6 false.
type FlowKey struct {
	SrcIP, DstIP     [16]byte
	SrcPort, DstPort uint16
	VLANs            [MaxKeyVLANs]uint16
	NumVLANs         uint8
	V6               bool
	HasVNI           bool   // VNI holds the overlay's VXLAN or Geneve network identifier
	VNI              uint32 // 24 bits
}

// SrcAddr returns the source address and port.
func (k *FlowKey) SrcAddr() netip.AddrPort {
	return netip.AddrPortFrom(k.addr(&k.SrcIP), k.SrcPort)
}

// DstAddr returns the destination address and port.
func (k *FlowKey) DstAddr() netip.AddrPort {
	return netip.AddrPortFrom(k.addr(&k.DstIP), k.DstPort)
}

func (k *FlowKey) addr(b *[16]byte) netip.Addr {
	if k.V6 {
		return netip.AddrFrom16(*b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}

// SetAddrs sets addresses and ports from netip values. Both addresses must be of
// the same family; an IPv4-mapped IPv6 address is kept as IPv6.
func (k *FlowKey) SetAddrs(src, dst netip.AddrPort) {
	k.V6 = src.Addr().Is6()
	k.SrcIP, k.DstIP = [16]byte{}, [16]byte{}
	if k.V6 {
		k.SrcIP = src.Addr().As16()
		k.DstIP = dst.Addr().As16()
	} else {
		a, b := src.Addr().As4(), dst.Addr().As4()
		copy(k.SrcIP[:], a[:])
		copy(k.DstIP[:], b[:])
	}
	k.SrcPort, k.DstPort = src.Port(), dst.Port()
}

// VLANIDs returns the VLAN IDs of the key, outer first.
func (k *FlowKey) VLANIDs() []uint16 { return k.VLANs[:min(int(k.NumVLANs), MaxKeyVLANs)] }

// Reverse returns the key of the opposite direction.
func (k FlowKey) Reverse() FlowKey {
	k.SrcIP, k.DstIP = k.DstIP, k.SrcIP
	k.SrcPort, k.DstPort = k.DstPort, k.SrcPort
	return k
}

// srcFirst reports whether the source endpoint orders before the destination endpoint
// (address bytes, then port).
func (k *FlowKey) srcFirst() bool {
	for i := range k.SrcIP {
		if k.SrcIP[i] != k.DstIP[i] {
			return k.SrcIP[i] < k.DstIP[i]
		}
	}
	return k.SrcPort <= k.DstPort
}

// Normalize returns the key with the lower endpoint as source, and whether it had
// to swap the endpoints to get there. Both directions of a flow normalise to the
// same key.
func (k FlowKey) Normalize() (FlowKey, bool) {
	if k.srcFirst() {
		return k, false
	}
	return k.Reverse(), true
}

const (
	hashMul1 = 0x9E3779B97F4A7C15
	hashMul2 = 0xC2B2AE3D27D4EB4F
)

func mix(h, v uint64) uint64 {
	h ^= v * hashMul1
	h = (h<<31 | h>>33) * hashMul2
	return h
}

func fin(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xFF51AFD7ED558CCD
	h ^= h >> 33
	h *= 0xC4CEB9FE1A85EC53
	h ^= h >> 33
	return h
}

func endpointHash(ip *[16]byte, port uint16) uint64 {
	h := mix(0, binary.LittleEndian.Uint64(ip[0:8]))
	h = mix(h, binary.LittleEndian.Uint64(ip[8:16]))
	return fin(mix(h, uint64(port)))
}

func (k *FlowKey) vlanHash() uint64 {
	h := uint64(k.NumVLANs)
	if k.V6 {
		h |= 0x100
	}
	if k.HasVNI {
		h = mix(h|0x200, uint64(k.VNI))
	}
	for i := 0; i < int(k.NumVLANs) && i < MaxKeyVLANs; i++ {
		h = mix(h, uint64(k.VLANs[i])+1)
	}
	return h
}

// Hash returns a direction-dependent hash of the key.
func (k *FlowKey) Hash() uint64 {
	s := endpointHash(&k.SrcIP, k.SrcPort)
	d := endpointHash(&k.DstIP, k.DstPort)
	return fin(mix(mix(k.vlanHash(), s), d))
}

// SymmetricHash returns a hash equal for both directions of a flow, for sharding.
func (k *FlowKey) SymmetricHash() uint64 {
	s := endpointHash(&k.SrcIP, k.SrcPort)
	d := endpointHash(&k.DstIP, k.DstPort)
	return fin(mix(k.vlanHash(), s+d) ^ (s ^ d))
}

// String formats the key as "src > dst", with the VLAN IDs and the VNI in front
// when present: "[100 200] 10.0.0.1:443 > 10.0.0.2:5123", "[vni 5001] ...".
func (k FlowKey) String() string {
	var b []byte
	if k.NumVLANs > 0 || k.HasVNI {
		b = append(b, '[')
		for i, v := range k.VLANIDs() {
			if i > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendUint(b, uint64(v), 10)
		}
		if k.HasVNI {
			if k.NumVLANs > 0 {
				b = append(b, ' ')
			}
			b = append(b, "vni "...)
			b = strconv.AppendUint(b, uint64(k.VNI), 10)
		}
		b = append(b, "] "...)
	}
	b = k.SrcAddr().AppendTo(b)
	b = append(b, " > "...)
	b = k.DstAddr().AppendTo(b)
	return string(b)
}
