package layers

import "strconv"

// LinkType is a pcap/pcapng link-layer header type (LINKTYPE_* value), with the
// FCS bits of a pcap header already masked off.
type LinkType uint32

// Link types Decode understands.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback: 4-byte address family in host byte order
	LinkTypeEthernet  LinkType = 1   // IEEE 802.3 Ethernet (EN10MB)
	LinkTypeRawOld12  LinkType = 12  // raw IP (DLT_RAW on some BSDs)
	LinkTypeRawOld14  LinkType = 14  // raw IP (DLT_RAW on some other BSDs)
	LinkTypeRaw       LinkType = 101 // raw IP, version from the first nibble
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback: 4-byte address family, network byte order
	LinkTypeLinuxSLL  LinkType = 113 // Linux "cooked" capture v1
	LinkTypeIPv4      LinkType = 228 // raw IPv4
	LinkTypeIPv6      LinkType = 229 // raw IPv6
	LinkTypeLinuxSLL2 LinkType = 276 // Linux "cooked" capture v2

	LinkTypePPP        LinkType = 9   // PPP, with or without HDLC-like framing (0xff 0x03)
	LinkTypePPPHDLC    LinkType = 50  // PPP in HDLC-like framing, or Cisco HDLC (PPP_HDLC)
	LinkTypeCHDLC      LinkType = 104 // Cisco HDLC: address, control, EtherType (C_HDLC)
	LinkTypePPPPPPD    LinkType = 166 // PPP in HDLC-like framing, a direction byte in place of the address (PPP_PPPD)
	LinkTypePPPWithDir LinkType = 204 // a direction byte, then PPP as LinkTypePPP (PPP_WITH_DIR)
	LinkTypeNFLOG      LinkType = 239 // Linux NFLOG: header, TLVs, the IP datagram in NFULA_PAYLOAD
)

// Supported reports whether Decode understands the link type.
func (lt LinkType) Supported() bool {
	switch lt {
	case LinkTypeNull, LinkTypeEthernet, LinkTypeRawOld12, LinkTypeRawOld14, LinkTypeRaw,
		LinkTypeLoop, LinkTypeLinuxSLL, LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL2,
		LinkTypePPP, LinkTypePPPHDLC, LinkTypeCHDLC, LinkTypePPPPPPD, LinkTypePPPWithDir, LinkTypeNFLOG:
		return true
	}
	return false
}

func (lt LinkType) String() string {
	switch lt {
	case LinkTypeNull:
		return "NULL"
	case LinkTypeEthernet:
		return "EN10MB"
	case LinkTypeRaw:
		return "RAW"
	case LinkTypeRawOld12:
		return "RAW(12)"
	case LinkTypeRawOld14:
		return "RAW(14)"
	case LinkTypeLoop:
		return "LOOP"
	case LinkTypeLinuxSLL:
		return "LINUX_SLL"
	case LinkTypeIPv4:
		return "IPV4"
	case LinkTypeIPv6:
		return "IPV6"
	case LinkTypeLinuxSLL2:
		return "LINUX_SLL2"
	case LinkTypePPP:
		return "PPP"
	case LinkTypePPPHDLC:
		return "PPP_HDLC"
	case LinkTypeCHDLC:
		return "C_HDLC"
	case LinkTypePPPPPPD:
		return "PPP_PPPD"
	case LinkTypePPPWithDir:
		return "PPP_WITH_DIR"
	case LinkTypeNFLOG:
		return "NFLOG"
	}
	return "LINKTYPE_" + strconv.FormatUint(uint64(lt), 10)
}

// EtherType values Decode looks at.
const (
	EtherTypeIPv4  = 0x0800
	EtherTypeARP   = 0x0806
	EtherTypeVLAN  = 0x8100 // IEEE 802.1Q customer tag
	EtherTypeIPv6  = 0x86DD
	EtherTypeQinQ  = 0x88A8 // IEEE 802.1ad service tag
	EtherTypeQinQ1 = 0x9100 // pre-standard QinQ tag
)

// IP protocol numbers (IPv4 protocol field, IPv6 next header).
const (
	IPProtoHopByHop = 0
	IPProtoICMP     = 1
	IPProtoIPIP     = 4 // IPv4 in IP
	IPProtoTCP      = 6
	IPProtoUDP      = 17
	IPProtoIPv6     = 41 // IPv6 in IP
	IPProtoRouting  = 43
	IPProtoFragment = 44
	IPProtoGRE      = 47
	IPProtoESP      = 50
	IPProtoAH       = 51
	IPProtoICMPv6   = 58
	IPProtoNoNext   = 59
	IPProtoDstOpts  = 60
	IPProtoMobility = 135
	IPProtoHIP      = 139
	IPProtoShim6    = 140
)
